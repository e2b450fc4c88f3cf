#include "core/result_buffer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace hearth {

std::string dump_json(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ResultBuffer::ResultBuffer(std::string path, std::uint64_t max_bytes)
    : m_path(std::move(path)), m_max_bytes(max_bytes) {
    load();
}

void ResultBuffer::load() {
    std::ifstream in(m_path, std::ios::binary);
    if (!in) return;
    std::string line;
    std::uint64_t good = 0;
    while (std::getline(in, line)) {
        if (in.eof()) break;  // no newline: a torn last line
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
            if (j.contains("r")) {
                AttemptResult r = attempt_result_from_json(j.at("r"));
                if (m_keys.insert(r.key).second) {
                    m_live.push_back(Entry{std::move(r), line.size() + 1});
                    m_live_bytes += line.size() + 1;
                }
            } else {
                std::set<AttemptKey> gone;
                for (const auto& k : j.at("ack")) gone.insert(attempt_key_from_json(k));
                std::erase_if(m_live, [&](const Entry& e) {
                    if (!gone.count(e.result.key)) return false;
                    m_live_bytes -= e.bytes;
                    m_keys.erase(e.result.key);
                    return true;
                });
            }
        } catch (const std::exception&) {
            break;  // a damaged line: what follows it cannot be trusted either
        }
        good += line.size() + 1;
    }
    m_file_bytes = good;
    // Rewrite at once: a torn tail must not sit in front of the next append.
    compact();
}

void ResultBuffer::append_line(const std::string& line) {
    int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw Error("cannot open result buffer " + m_path + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::close(fd);
            throw Error("cannot write result buffer " + m_path + ": " + std::strerror(e));
        }
        done += static_cast<std::size_t>(n);
    }
    // No fsync: what is written survives the site's processes dying (the
    // relaunch reads it back); a power cut may lose the newest lines, and
    // then the scheduler's lease requeues those attempts, which run again
    // and commit once. A sync here cost every short task a disk flush.
    ::close(fd);
    m_file_bytes += line.size();
}

void ResultBuffer::add(const AttemptResult& r) {
    if (holds(r.key)) return;
    std::string line = dump_json(nlohmann::json{{"r", to_json(r)}}) + "\n";
    append_line(line);
    m_keys.insert(r.key);
    m_live.push_back(Entry{r, line.size()});
    m_live_bytes += line.size();
}

std::vector<AttemptResult> ResultBuffer::oldest(std::uint64_t max_bytes) const {
    std::vector<AttemptResult> out;
    std::uint64_t bytes = 0;
    for (const auto& e : m_live) {
        if (!out.empty() && bytes + e.bytes > max_bytes) break;
        out.push_back(e.result);
        bytes += e.bytes;
    }
    return out;
}

void ResultBuffer::ack(const std::vector<AttemptKey>& keys) {
    std::set<AttemptKey> gone(keys.begin(), keys.end());
    std::size_t before = m_live.size();
    std::erase_if(m_live, [&](const Entry& e) {
        if (!gone.count(e.result.key)) return false;
        m_live_bytes -= e.bytes;
        m_keys.erase(e.result.key);
        return true;
    });
    if (m_live.size() == before) return;
    // Mostly dead: rewrite with the live results alone (that also records the ack).
    if (m_live.empty() || m_file_bytes > 4 * m_live_bytes + (1 << 20)) {
        compact();
        return;
    }
    nlohmann::json a = nlohmann::json::array();
    for (const auto& k : gone) a.push_back(to_json(k));
    append_line(dump_json(nlohmann::json{{"ack", a}}) + "\n");
}

void ResultBuffer::compact() {
    std::string all;
    for (auto& e : m_live) {
        std::string line = dump_json(nlohmann::json{{"r", to_json(e.result)}}) + "\n";
        e.bytes = line.size();
        all += line;
    }
    write_file_atomic(m_path, all, 0600, Durability::process_crash);
    m_file_bytes = all.size();
    m_live_bytes = all.size();
}

bool ResultBuffer::holds(const AttemptKey& k) const { return m_keys.count(k) != 0; }

std::vector<std::string> ResultBuffer::blobs() const {
    std::set<std::string> s;
    for (const auto& e : m_live)
        for (const auto& o : e.result.outputs) s.insert(o.sha256);
    return {s.begin(), s.end()};
}

}  // namespace hearth
