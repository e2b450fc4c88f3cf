#include "journal.hpp"

#include <chrono>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "error.hpp"

namespace hearth {

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {

// An unsigned integer field of type T. nlohmann's get<T>() casts whatever
// number is there: -1 becomes 2^64-1, 1.5 becomes 1, and a number too large
// for any integer (parsed as a double) overflows the cast, which is undefined
// behaviour (found by tests/fuzz). Anything but an unsigned integer in T's
// range is corruption; throws std::domain_error, which read_journal reports
// with its line.
template <class T>
T unsigned_field(const nlohmann::json& r, const char* key) {
    const nlohmann::json& v = r.at(key);
    constexpr std::uint64_t max = std::numeric_limits<T>::max();
    // Integers built in memory may be signed; text parses to unsigned ones.
    const bool whole =
        v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
    if (!whole || v.get<std::uint64_t>() > max)
        throw std::domain_error(std::string("'") + key + "' is not a whole number from 0 to " +
                                std::to_string(max));
    return static_cast<T>(v.get<std::uint64_t>());
}

}  // namespace

void apply_record(JournalState& s, const nlohmann::json& r) {
    const std::string e = r.at("e").get<std::string>();
    if ((e == "done" || e == "fail") && r.contains("uj")) {
        s.energy_uj += unsigned_field<std::uint64_t>(r, "uj");
        ++s.energy_attempts;
        if (r.value("est", false)) s.energy_estimated = true;
    }
    if (e == "done" && r.value("ovr", false)) {
        ++s.override_attempts;
        if (r.contains("uj")) s.override_uj += unsigned_field<std::uint64_t>(r, "uj");
    }
    if (e == "start") {
        std::uint64_t t = unsigned_field<std::uint64_t>(r, "t");
        std::uint32_t a = unsigned_field<std::uint32_t>(r, "a");
        s.running.insert(t);
        if (!s.committed.contains(t)) {
            auto& made = s.attempts[t];
            if (a > made) made = a;
        }
    } else if (e == "done") {
        std::uint64_t t = unsigned_field<std::uint64_t>(r, "t");
        s.running.erase(t);
        s.committed.insert(t);
        s.attempts.erase(t);
        s.failed.erase(t);
        for (const auto& name : r.at("out")) s.outputs[name.get<std::string>()] = t;
    } else if (e == "fail") {
        std::uint64_t t = unsigned_field<std::uint64_t>(r, "t");
        s.running.erase(t);
        if (r.value("final", false) && !s.committed.contains(t)) s.failed.insert(t);
    } else if (e == "launch") {
        ++s.launches;
        s.running.clear();  // a new dispatcher: nothing of the old one runs on
        s.end.reset();
    } else if (e == "end") {
        s.end = r;
        s.running.clear();
    }
}

namespace {

Error corrupt(const std::string& path, std::uint64_t n, const char* what) {
    return Error("journal " + path + " is corrupt at line " + std::to_string(n) + " (" + what +
                 "); move the damaged lines out of it, then 'hearth resume' reruns what they " +
                 "recorded");
}

nlohmann::json parse_line(const std::string& line, const std::string& path, std::uint64_t n) {
    try {
        auto j = nlohmann::json::parse(line);
        if (!j.is_object() || !j.contains("e")) throw std::runtime_error("not a journal record");
        return j;
    } catch (const std::exception& ex) {
        throw corrupt(path, n, ex.what());
    }
}

// A record that parses but lacks a field (or has one of the wrong type or
// range) is corruption too, reported with its line. std::logic_error: the
// fields' range checks (domain_error) and a task of 2^64-1, which no
// IntervalSet holds (out_of_range).
void apply_checked(JournalState& s, const nlohmann::json& r, const std::string& path,
                   std::uint64_t n) {
    try {
        apply_record(s, r);
    } catch (const nlohmann::json::exception& ex) {
        throw corrupt(path, n, ex.what());
    } catch (const std::logic_error& ex) {
        throw corrupt(path, n, ex.what());
    }
}

}  // namespace

JournalState read_journal(const std::string& path,
                          const std::function<void(const nlohmann::json&)>& visit) {
    JournalState s;
    std::ifstream in(path, std::ios::binary);
    if (!in) return s;
    std::string line;
    std::uint64_t n = 0;
    std::uint64_t offset = 0;
    while (std::getline(in, line)) {
        ++n;
        if (in.eof()) break;  // no newline: a torn last line, left by a crash
        offset += line.size() + 1;
        if (line.empty()) continue;
        nlohmann::json j;
        try {
            j = parse_line(line, path, n);
        } catch (const Error&) {
            // A torn write may leave garbage followed by nothing else.
            if (in.peek() == std::char_traits<char>::eof()) break;
            throw;
        }
        apply_checked(s, j, path, n);
        if (visit) visit(j);
        s.valid_bytes = offset;
        s.valid_lines = n;
    }
    return s;
}

void JournalTail::poll(const std::function<void(const nlohmann::json&)>& visit) {
    std::ifstream in(m_path, std::ios::binary);
    if (!in) return;
    in.seekg(static_cast<std::streamoff>(m_offset));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    m_offset += chunk.size();
    m_partial += chunk;
    std::size_t start = 0;
    for (;;) {
        std::size_t nl = m_partial.find('\n', start);
        if (nl == std::string::npos) break;
        std::string line = m_partial.substr(start, nl - start);
        start = nl + 1;
        ++m_line;
        if (line.empty()) continue;
        visit(parse_line(line, m_path, m_line));
    }
    m_partial.erase(0, start);
}

}  // namespace hearth
