#pragma once
// Strict reading of a JSON object that crossed a process boundary: every
// field checked for its type and range, unknown fields refused, and each
// refusal a usage_error naming the field and what it must be (400 on the API,
// exit 2 in a CLI). The wire messages (core/jobs_api, core/site_api) read
// themselves through it, so both ends apply the same rules.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth {

class JsonFields {
public:
    // what: how the object is named in messages ("job", "work request").
    // Throws usage_error when j is not an object.
    JsonFields(const nlohmann::json& j, std::string what);

    bool has(const char* key) const;
    const nlohmann::json& raw(const char* key) const;  // required, any type

    std::string str(const char* key) const;  // required string
    std::string str(const char* key, const std::string& dflt) const;
    // A safe name (is_safe_name: [A-Za-z0-9._-], 1-64): tenants, jobs, sites.
    std::string name(const char* key) const;
    std::string name(const char* key, const std::string& dflt) const;
    std::uint64_t u64(const char* key, std::uint64_t lo, std::uint64_t hi) const;
    std::uint64_t u64(const char* key, std::uint64_t lo, std::uint64_t hi, std::uint64_t dflt) const;
    std::int64_t i64(const char* key, std::int64_t lo, std::int64_t hi) const;
    std::int64_t i64(const char* key, std::int64_t lo, std::int64_t hi, std::int64_t dflt) const;
    double num(const char* key, double lo, double hi) const;  // finite
    double num(const char* key, double lo, double hi, double dflt) const;
    bool flag(const char* key, bool dflt) const;
    // Array of strings, at most max_items, each at most max_len bytes.
    std::vector<std::string> strs(const char* key, std::size_t max_items, std::size_t max_len) const;
    // Array of objects (each read by the caller), at most max_items; absent =
    // empty. References into the object read, not copies: a work request's
    // results were each copied whole here.
    std::vector<std::reference_wrapper<const nlohmann::json>> objects(const char* key,
                                                                      std::size_t max_items) const;

    // Refuses any field not named by an accessor above (or listed here).
    void done(std::initializer_list<const char*> also = {}) const;

private:
    [[noreturn]] void fail(const char* key, const std::string& must) const;
    const nlohmann::json& m_j;
    std::string m_what;
    // The keys asked for (string literals; a few per object, so a vector:
    // a set of strings cost an allocation per field read).
    mutable std::vector<const char*> m_seen;
    void seen(const char* key) const;
};

// Parses text as one JSON object; usage_error naming `what` otherwise. Bodies
// over max_bytes are refused before parsing.
nlohmann::json parse_json_object(const std::string& text, const std::string& what,
                                 std::size_t max_bytes);

}  // namespace hearth
