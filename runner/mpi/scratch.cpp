#include "runner/mpi/scratch.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "core/safe_path.hpp"

namespace fs = std::filesystem;

namespace hearth {

ScratchArea::ScratchArea(std::string base) : m_base(std::move(base)) {
    std::error_code ec;
    fs::remove_all(m_base, ec);
    fs::create_directories(m_base + "/stage", ec);
    if (ec) throw Error("cannot create scratch area " + m_base + ": " + ec.message());
    // Tasks reach their own directory through base, but list, read or write
    // nothing else of it: not another tenant's directory, nor the logs.
    fs::permissions(m_base, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec,
                    ec);
    fs::permissions(m_base + "/stage", fs::perms::owner_all, ec);
}

ScratchArea::~ScratchArea() {
    std::error_code ec;
    fs::remove_all(m_base, ec);
}

void ScratchArea::set_staged(const std::vector<FileBlob>& staged) {
    for (const auto& f : staged) {
        // Names come from the dispatcher; a bad one must not write outside base/stage.
        if (!is_clean_relative_path(f.path))
            throw Error("refusing staged input '" + f.path + "': not a plain relative path");
        fs::path p = fs::path(m_base) / "stage" / f.path;
        fs::create_directories(p.parent_path());
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out.write(f.data.data(), static_cast<std::streamsize>(f.data.size()));
        if (!out) throw Error("cannot write staged file " + p.string() + " on this node");
        out.close();
        fs::permissions(p, static_cast<fs::perms>(f.mode & 0777));
        m_staged.push_back(f.path);
    }
}

std::string ScratchArea::acquire() {
    if (!m_empty.empty()) {
        std::string dir = std::move(m_empty.back());
        m_empty.pop_back();
        return dir;
    }
    std::string dir = m_base + "/d" + std::to_string(m_next++);
    if (::mkdir(dir.c_str(), 0700) != 0)
        throw Error("cannot create scratch directory " + dir + ": " + std::strerror(errno));
    std::error_code ec;
    for (const auto& rel : m_staged) {
        fs::path dst = fs::path(dir) / rel;
        if (dst.has_parent_path()) fs::create_directories(dst.parent_path(), ec);
        // A copy, not a link: a task that edits its input must not change another's.
        fs::copy_file(fs::path(m_base) / "stage" / rel, dst, ec);
        if (ec) throw Error("cannot stage " + rel + " into " + dir + ": " + ec.message());
    }
    static const IdentityOps ops;
    give_tree(dir, m_owner, ops);
    return dir;
}

void ScratchArea::release(const std::string& dir) {
    std::error_code ec;
    if (m_staged.empty() && fs::is_empty(dir, ec) && !ec) {
        m_empty.push_back(dir);
        return;
    }
    fs::remove_all(dir, ec);
}

std::vector<FileBlob> ScratchArea::collect(const std::string& dir,
                                           const std::vector<std::string>& globs) {
    std::set<std::string> names;
    for (const auto& pattern : globs) {
        // The job spec was checked at submit; this guards a spec edited since.
        check_relative_path(pattern, "--collect");
        glob_t g{};
        std::string full = dir + "/" + pattern;
        int rc = ::glob(full.c_str(), GLOB_NOSORT, nullptr, &g);
        std::size_t before = names.size();
        if (rc == 0) {
            for (std::size_t i = 0; i < g.gl_pathc; ++i) {
                std::string p = g.gl_pathv[i];
                struct stat st {};
                if (::lstat(p.c_str(), &st) != 0) continue;
                // A directory matched by a broad glob is not an output; a
                // symlink is refused below, whatever it points at.
                if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
                    names.insert(fs::path(p.substr(dir.size() + 1)).lexically_normal().string());
            }
        }
        globfree(&g);
        if (names.size() == before)
            throw Error("--collect '" + pattern + "' matched no file the task wrote");
    }
    std::vector<FileBlob> out;
    for (const auto& rel : names) {
        FileBlob b;
        b.path = rel;
        try {
            // No component is followed if it is a symlink: nothing outside
            // the scratch directory is ever read, whatever the task planted.
            unsigned mode = 0644;
            b.data = read_file_beneath(dir, rel, &mode);
            b.mode = mode;
        } catch (const Error& e) {
            throw Error(std::string("output ") + e.what() +
                        ": not collected, as Hearth collects only regular files inside the "
                        "task's scratch directory; have the task write the file itself, or "
                        "narrow --collect");
        }
        out.push_back(std::move(b));
    }
    return out;
}

std::string read_capped(const std::string& path, std::size_t cap) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) return {};
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    in.seekg(0, std::ios::end);
    auto size = static_cast<std::size_t>(in.tellg());
    in.seekg(0);
    std::string data;
    if (size <= cap) {
        data.resize(size);
        in.read(data.data(), static_cast<std::streamsize>(size));
        return data;
    }
    // The end of a log usually holds the error; keep more of it than of the head.
    std::size_t head = cap / 4, tail = cap - head;
    std::string h(head, '\0'), t(tail, '\0');
    in.read(h.data(), static_cast<std::streamsize>(head));
    in.seekg(static_cast<std::streamoff>(size - tail));
    in.read(t.data(), static_cast<std::streamsize>(tail));
    return h + "\n[hearth: " + std::to_string(size - cap) + " bytes of this log cut]\n" + t;
}


}  // namespace hearth
