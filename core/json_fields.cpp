#include "core/json_fields.hpp"

#include <cmath>
#include <cstring>
#include <set>

#include "core/error.hpp"
#include "core/grid.hpp"

namespace hearth {

using nlohmann::json;

JsonFields::JsonFields(const json& j, std::string what) : m_j(j), m_what(std::move(what)) {
    if (!m_j.is_object()) throw usage_error("the " + m_what + " must be a JSON object");
}

void JsonFields::fail(const char* key, const std::string& must) const {
    throw usage_error("'" + std::string(key) + "' in the " + m_what + " " + must);
}

void JsonFields::seen(const char* key) const {
    for (const char* k : m_seen)
        if (std::strcmp(k, key) == 0) return;
    m_seen.push_back(key);
}

bool JsonFields::has(const char* key) const {
    seen(key);
    const auto it = m_j.find(key);
    return it != m_j.end() && !it->is_null();
}

const json& JsonFields::raw(const char* key) const {
    if (!has(key)) fail(key, "is missing");
    return m_j.at(key);
}

std::string JsonFields::str(const char* key) const {
    const json& v = raw(key);
    if (!v.is_string()) fail(key, "must be a string");
    return v.get<std::string>();
}

std::string JsonFields::str(const char* key, const std::string& dflt) const {
    return has(key) ? str(key) : dflt;
}

std::string JsonFields::name(const char* key) const {
    std::string s = str(key);
    if (!is_safe_name(s))
        fail(key, "must be 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'");
    return s;
}

std::string JsonFields::name(const char* key, const std::string& dflt) const {
    return has(key) ? name(key) : dflt;
}

std::uint64_t JsonFields::u64(const char* key, std::uint64_t lo, std::uint64_t hi) const {
    const json& v = raw(key);
    // is_number_unsigned: nlohmann would wrap -1 and truncate 1.5 silently.
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() < lo || v.get<std::uint64_t>() > hi)
        fail(key, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return v.get<std::uint64_t>();
}

std::uint64_t JsonFields::u64(const char* key, std::uint64_t lo, std::uint64_t hi,
                              std::uint64_t dflt) const {
    return has(key) ? u64(key, lo, hi) : dflt;
}

std::int64_t JsonFields::i64(const char* key, std::int64_t lo, std::int64_t hi) const {
    const json& v = raw(key);
    bool ok = v.is_number_integer();
    if (ok && v.is_number_unsigned()) ok = v.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi);
    if (ok) ok = v.get<std::int64_t>() >= lo && v.get<std::int64_t>() <= hi;
    if (!ok)
        fail(key, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return v.get<std::int64_t>();
}

std::int64_t JsonFields::i64(const char* key, std::int64_t lo, std::int64_t hi, std::int64_t dflt) const {
    return has(key) ? i64(key, lo, hi) : dflt;
}

double JsonFields::num(const char* key, double lo, double hi) const {
    const json& v = raw(key);
    if (!v.is_number()) fail(key, "must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < lo || d > hi)
        fail(key, "must be a finite number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return d;
}

double JsonFields::num(const char* key, double lo, double hi, double dflt) const {
    return has(key) ? num(key, lo, hi) : dflt;
}

bool JsonFields::flag(const char* key, bool dflt) const {
    if (!has(key)) return dflt;
    const json& v = m_j.at(key);
    if (!v.is_boolean()) fail(key, "must be true or false");
    return v.get<bool>();
}

std::vector<std::string> JsonFields::strs(const char* key, std::size_t max_items,
                                          std::size_t max_len) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    const json& v = m_j.at(key);
    if (!v.is_array()) fail(key, "must be an array of strings");
    if (v.size() > max_items) fail(key, "holds more than " + std::to_string(max_items) + " entries");
    for (const auto& e : v) {
        if (!e.is_string()) fail(key, "must be an array of strings");
        if (e.get_ref<const std::string&>().size() > max_len)
            fail(key, "has an entry longer than " + std::to_string(max_len) + " bytes");
        out.push_back(e.get<std::string>());
    }
    return out;
}

std::vector<std::reference_wrapper<const json>> JsonFields::objects(const char* key,
                                                                    std::size_t max_items) const {
    std::vector<std::reference_wrapper<const json>> out;
    if (!has(key)) return out;
    const json& v = m_j.at(key);
    if (!v.is_array()) fail(key, "must be an array of objects");
    if (v.size() > max_items) fail(key, "holds more than " + std::to_string(max_items) + " entries");
    for (const auto& e : v) {
        if (!e.is_object()) fail(key, "must be an array of objects");
        out.push_back(std::cref(e));
    }
    return out;
}

void JsonFields::done(std::initializer_list<const char*> also) const {
    for (const char* k : also) seen(k);
    for (const auto& [k, v] : m_j.items()) {
        bool known = false;
        for (const char* s : m_seen) known = known || k == s;
        if (known) continue;
        const std::set<std::string> sorted(m_seen.begin(), m_seen.end());
        std::string list;
        for (const auto& s : sorted) list += (list.empty() ? "" : ", ") + s;
        throw usage_error("unknown field '" + k.substr(0, 64) + "' in the " + m_what +
                          "; valid fields: " + list);
    }
}

json parse_json_object(const std::string& text, const std::string& what, std::size_t max_bytes) {
    if (text.size() > max_bytes)
        throw usage_error("the " + what + " is over " + std::to_string(max_bytes) +
                          " bytes; send less at a time");
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception&) {
        // NaN, Infinity and 1e309 land here too: none is a JSON number.
        throw usage_error("the " + what + " is not valid JSON (numbers must be finite)");
    }
    if (!j.is_object()) throw usage_error("the " + what + " must be a JSON object");
    return j;
}

}  // namespace hearth
