#pragma once
// Byte encoding of the messages between dispatcher and workers: little-endian
// fixed-width integers and length-prefixed strings. Both ends run the same
// build, so no versioning; a short or malformed buffer throws.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

class WireWriter {
public:
    void u8(std::uint8_t v) { m_buf.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) { raw(&v, sizeof v); }
    void u64(std::uint64_t v) { raw(&v, sizeof v); }
    void i32(std::int32_t v) { raw(&v, sizeof v); }
    void str(std::string_view s) {
        u64(s.size());
        m_buf.append(s.data(), s.size());
    }
    void strings(const std::vector<std::string>& v) {
        u32(static_cast<std::uint32_t>(v.size()));
        for (const auto& s : v) str(s);
    }
    std::string& buffer() { return m_buf; }

private:
    void raw(const void* p, std::size_t n) { m_buf.append(static_cast<const char*>(p), n); }
    std::string m_buf;
};

class WireReader {
public:
    explicit WireReader(std::string_view buf) : m_buf(buf) {}
    std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
    std::uint32_t u32() { return fixed<std::uint32_t>(); }
    std::uint64_t u64() { return fixed<std::uint64_t>(); }
    std::int32_t i32() { return fixed<std::int32_t>(); }
    std::string str() {
        std::uint64_t n = u64();
        return std::string(take(n));
    }
    std::vector<std::string> strings() {
        std::uint32_t n = u32();
        std::vector<std::string> v;
        v.reserve(n < 4096 ? n : 4096);
        for (std::uint32_t i = 0; i < n; ++i) v.push_back(str());
        return v;
    }
    bool done() const { return m_pos == m_buf.size(); }

private:
    template <class T>
    T fixed() {
        T v;
        std::memcpy(&v, take(sizeof v).data(), sizeof v);
        return v;
    }
    std::string_view take(std::uint64_t n) {
        if (n > m_buf.size() - m_pos) throw std::runtime_error("truncated message");
        std::string_view s = m_buf.substr(m_pos, n);
        m_pos += n;
        return s;
    }
    std::string_view m_buf;
    std::size_t m_pos = 0;
};

}  // namespace hearth
