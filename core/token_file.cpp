#include "token_file.hpp"

#include <sys/stat.h>

#include <iostream>

#include "error.hpp"

namespace hearth {

TokenFile::TokenFile(std::string path) : m_path(std::move(path)) {
    // The stamp first: a change made while reading is seen at the next lookup.
    m_stamp = stamp().value_or(Stamp{});
    m_table = TokenTable::parse(read_secret_file(m_path, 0640), m_path);
}

std::optional<TokenFile::Stamp> TokenFile::stamp() const {
    struct stat st {};
    if (::lstat(m_path.c_str(), &st) != 0) return std::nullopt;
    Stamp s;
    s.ino = st.st_ino;
    s.size = static_cast<unsigned long long>(st.st_size);
    s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    s.ctime_ns = static_cast<long long>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
    return s;
}

std::optional<Role> TokenFile::find(std::string_view token) {
    std::lock_guard lock(m_mu);
    const auto now = stamp();
    if (now && !(*now == m_stamp)) {
        try {
            m_table = TokenTable::parse(read_secret_file(m_path, 0640), m_path);
            m_stamp = *now;
            m_warned = false;
        } catch (const Error& e) {
            // Keep serving with the last good table; try again at the next change.
            m_stamp = *now;
            if (!m_warned) std::cerr << "hearth: keeping the previous tokens: " << e.what() << "\n";
            m_warned = true;
        }
    }
    return m_table.find(token);
}

}  // namespace hearth
