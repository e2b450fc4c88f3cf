#include "auth.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

#include "error.hpp"
#include "grid.hpp"
#include "utc_time.hpp"

namespace hearth {
namespace {

const char* k_role_forms = "tenant:NAME, facility, facility:SITE, operator or site:NAME";

bool hex_digit(char c, unsigned& v) {
    if (c >= '0' && c <= '9') v = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v = static_cast<unsigned>(c - 'A' + 10);
    else return false;
    return true;
}

std::string octal(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
    return buf;
}

}  // namespace

Role parse_role(const std::string& text) {
    Role r;
    auto colon = text.find(':');
    std::string kind = text.substr(0, colon);
    std::string scope = colon == std::string::npos ? "" : text.substr(colon + 1);
    if (kind == "tenant") {
        r.kind = RoleKind::tenant;
        if (colon == std::string::npos || !is_safe_name(scope))
            throw usage_error("bad role '" + text + "': a tenant role names the tenant, as tenant:NAME (letters, digits, '.', '_', '-')");
    } else if (kind == "facility") {
        r.kind = RoleKind::facility;
        if (colon != std::string::npos && !is_safe_name(scope))
            throw usage_error("bad role '" + text + "': write facility for every site or facility:SITE for one");
    } else if (kind == "operator" && colon == std::string::npos) {
        r.kind = RoleKind::operator_;
    } else if (kind == "site") {
        r.kind = RoleKind::site;
        if (colon == std::string::npos || !is_safe_name(scope))
            throw usage_error("bad role '" + text + "': a site role names the site, as site:NAME (the grid file's site name)");
    } else {
        throw usage_error("bad role '" + text + "'; use " + k_role_forms);
    }
    r.scope = scope;
    return r;
}

std::string to_string(const Role& role) {
    switch (role.kind) {
    case RoleKind::tenant: return "tenant:" + role.scope;
    case RoleKind::facility: return role.scope.empty() ? "facility" : "facility:" + role.scope;
    case RoleKind::operator_: return "operator";
    case RoleKind::site: return "site:" + role.scope;
    }
    return "?";
}

const char* to_string(RoleKind kind) {
    switch (kind) {
    case RoleKind::tenant: return "tenant";
    case RoleKind::facility: return "facility";
    case RoleKind::operator_: return "operator";
    case RoleKind::site: return "site";
    }
    return "?";
}

Sha256 sha256(std::string_view data) {
    Sha256 out{};
    unsigned len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
        throw Error("SHA-256 failed in OpenSSL's libcrypto; is the library intact?");
    return out;
}

std::string to_hex(const Sha256& h) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (unsigned char b : h) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

std::string generate_token() {
    unsigned char raw[32];
    std::size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(std::string("cannot read the kernel's random source: ") + std::strerror(errno));
        }
        got += static_cast<std::size_t>(n);
    }
    Sha256 as_array{};
    std::memcpy(as_array.data(), raw, sizeof raw);
    OPENSSL_cleanse(raw, sizeof raw);
    return "hearth_" + to_hex(as_array);
}

std::string token_line(const std::string& token, const Role& role, const std::string& label) {
    for (char c : label)
        if (c == '\n' || c == '\r' || c == '#')
            throw usage_error("a token label may not hold a newline or '#'; use plain words");
    Role r = role;
    r.label = label;
    return entry_line(sha256(token), r);
}

std::string entry_line(const Sha256& hash, const Role& role) {
    std::string line = "sha256:" + to_hex(hash) + " " + to_string(role);
    if (role.expires_ms != 0) line += " expires=" + format_utc(role.expires_ms / 1000);
    if (role.revoked_ms != 0) line += " revoked=" + format_utc(role.revoked_ms / 1000);
    if (!role.label.empty()) line += " " + role.label;
    return line;
}

TokenTable TokenTable::parse(const std::string& text, const std::string& origin) {
    TokenTable t;
    std::set<Sha256> seen;
    std::istringstream in(text);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string digest, role_text;
        if (!(words >> digest)) continue;
        const std::string where = origin + ":" + std::to_string(lineno) + ": ";
        if (!(words >> role_text))
            throw usage_error(where + "no role after the hash; write 'sha256:HEX ROLE [LABEL]'");
        if (digest.size() != 7 + 64 || digest.compare(0, 7, "sha256:") != 0)
            throw usage_error(where + "expected sha256: and 64 hex digits (make lines with 'hearth token new')");
        Entry e;
        for (std::size_t i = 0; i < 32; ++i) {
            unsigned hi = 0, lo = 0;
            if (!hex_digit(digest[7 + 2 * i], hi) || !hex_digit(digest[8 + 2 * i], lo))
                throw usage_error(where + "the hash is not hex; make lines with 'hearth token new'");
            e.hash[i] = static_cast<unsigned char>(hi << 4 | lo);
        }
        try {
            e.role = parse_role(role_text);
        } catch (const Error& err) {
            throw usage_error(where + err.what());
        }
        std::string rest;
        std::getline(words, rest);
        // Optional expires=UTC and revoked=UTC words, then the label.
        for (;;) {
            auto b = rest.find_first_not_of(" \t");
            rest = b == std::string::npos ? "" : rest.substr(b);
            const bool exp = rest.rfind("expires=", 0) == 0, rev = rest.rfind("revoked=", 0) == 0;
            if (!exp && !rev) break;
            auto end = rest.find_first_of(" \t");
            const std::string value =
                rest.substr(8, end == std::string::npos ? std::string::npos : end - 8);
            const auto at = try_parse_utc_ms(value);
            if (!at || *at <= 0)
                throw usage_error(where + "'" + rest.substr(0, end) +
                                  "' is not a UTC time; write e.g. expires=2027-01-04T06:00:00Z");
            (exp ? e.role.expires_ms : e.role.revoked_ms) = *at;
            rest = end == std::string::npos ? "" : rest.substr(end);
        }
        e.role.label = rest;
        if (!seen.insert(e.hash).second)
            throw usage_error(where + "the same token appears twice; delete one of the lines");
        t.m_entries.push_back(std::move(e));
    }
    return t;
}

std::optional<Role> TokenTable::find(std::string_view token) const {
    const Sha256 h = sha256(token);
    std::optional<Role> found;
    for (const auto& e : m_entries) {
        // CRYPTO_memcmp takes the same time wherever the bytes differ; every
        // entry is compared, so the loop's time does not depend on the match.
        const bool match = CRYPTO_memcmp(h.data(), e.hash.data(), h.size()) == 0;
        if (match) found = e.role;
    }
    return found;
}

std::string unsafe_mode_reason(unsigned mode, unsigned max_mode) {
    const unsigned extra = mode & 0777 & ~max_mode;
    if (extra == 0) return "";
    std::string who;
    if (extra & 0007) who = "other users";
    else if (extra & 0070) who = "its group";
    else who = "its owner beyond read/write";
    return "mode " + octal(mode) + " lets " + who + " " +
           ((extra & 0222) && !(extra & 0444) ? "write it" : "read it") + "; allowed at most " +
           octal(max_mode);
}

std::string read_secret_file(const std::string& path, unsigned max_mode) {
    // O_NONBLOCK: a FIFO planted at the path must not hang the start.
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        throw usage_error("cannot open " + path + ": " + std::strerror(errno) +
                          (errno == ELOOP ? " (it is a symlink; point at the file itself)" : "; check the path"));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw usage_error(path + " is not a regular file; give the token file itself");
    }
    // Whoever owns the file can rewrite it (and grant themselves any role).
    if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
        ::close(fd);
        throw usage_error("refusing " + path + ": it is owned by uid " + std::to_string(st.st_uid) +
                          ", not by root or this user; run chown root " + path);
    }
    if (std::string why = unsafe_mode_reason(st.st_mode, max_mode); !why.empty()) {
        ::close(fd);
        throw usage_error("refusing " + path + ": " + why + "; run chmod " + octal(max_mode) + " " + path);
    }
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > (1u << 20)) {
            ::close(fd);
            throw usage_error(path + " is over 1 MiB; a tokens file holds one short line a token");
        }
    }
    ::close(fd);
    if (n < 0) throw usage_error("cannot read " + path + ": " + std::strerror(errno));
    return text;
}

std::optional<std::string> bearer_token(std::string_view header) {
    constexpr std::string_view scheme = "Bearer ";
    if (header.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) !=
            std::tolower(static_cast<unsigned char>(scheme[i])))
            return std::nullopt;
    std::string_view tok = header.substr(scheme.size());
    while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
    while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
    if (tok.empty() || tok.size() > 512) return std::nullopt;
    for (char c : tok)
        if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 127) return std::nullopt;
    return std::string(tok);
}

Decision authorize(bool token_given, const std::optional<Role>& who, Route route,
                   const std::string& site, bool metrics_public) {
    if (route == Route::health || route == Route::dashboard) return {};
    if (route == Route::metrics && metrics_public) return {};
    if (!token_given)
        return {401, "no token: send 'Authorization: Bearer TOKEN' (HEARTH_TOKEN for hearth)"};
    if (!who) return {401, "the token is not valid here; ask the operator for a token of this grid"};
    const Role& r = *who;
    const std::string role = to_string(r);
    auto refuse = [&](const std::string& what) {
        return Decision{403, "role " + role + " may not " + what};
    };
    switch (r.kind) {
    case RoleKind::operator_: return {};
    case RoleKind::tenant:
        if (route == Route::whoami || route == Route::energy) return {};
        if (route == Route::metrics) return refuse("read /metrics (it holds every tenant's energy; use an operator token)");
        if (route == Route::heat_write) return refuse("change heat targets (a facility or operator token can)");
        if (route == Route::heat_try)
            return refuse("try heat targets or schedules (a facility or operator token can)");
        if (route == Route::drain) return refuse("drain nodes (an operator token can)");
        return refuse("read node or site state (a facility or operator token can)");
    case RoleKind::facility:
        if (route == Route::whoami) return {};
        if (route == Route::energy || route == Route::metrics)
            return refuse("read tenants' energy (a tenant token reads its own, an operator token all)");
        if (route == Route::drain) return refuse("drain nodes (an operator token can)");
        if (!r.scope.empty() && r.scope != site)
            return refuse("manage site '" + site + "' (it is scoped to site '" + r.scope + "')");
        return {};
    case RoleKind::site:
        // A site dispatcher's token is for the scheduler, not the agents.
        if (route == Route::whoami) return {};
        return refuse("use a grid-agent's API (a site token is for hearth serve only)");
    }
    return {403, "unknown role"};
}

Decision authorize_serve(bool token_given, const std::optional<Role>& who, ServeRoute route,
                         const std::string& site) {
    if (route == ServeRoute::health) return {};
    if (!token_given)
        return {401, "no token: send 'Authorization: Bearer TOKEN' (HEARTH_TOKEN for hearth)"};
    if (!who) return {401, "the token is not valid here; ask the operator for a token of this scheduler"};
    const Role& r = *who;
    auto refuse = [&](const std::string& what) {
        return Decision{403, "role " + to_string(r) + " may not " + what};
    };
    if (route == ServeRoute::whoami || r.kind == RoleKind::operator_) return {};
    if (route == ServeRoute::overview)
        return refuse("see the grid's overview (an operator token can)");
    switch (r.kind) {
    case RoleKind::tenant:
        if (route == ServeRoute::site_work) return refuse("ask for a site's work (a site:NAME token can)");
        return {};
    case RoleKind::facility:
        // Facilities manage heat at the agents; jobs and their data are the tenants'.
        if (route == ServeRoute::site_work) return refuse("ask for a site's work (a site:NAME token can)");
        return refuse("see jobs or their files (a tenant token sees its own, an operator token all)");
    case RoleKind::site:
        if (route == ServeRoute::blob_read || route == ServeRoute::blob_write) return {};
        if (route == ServeRoute::jobs) return refuse("see jobs (a tenant token sees its own, an operator token all)");
        if (r.scope != site)
            return refuse("ask for site '" + site + "'s work (it is site '" + r.scope + "')");
        return {};
    case RoleKind::operator_: return {};
    }
    return {403, "unknown role"};
}

Decision job_access(const Role& who, const std::string& job_tenant, const std::string& job_id) {
    switch (who.kind) {
    case RoleKind::operator_: return {};
    case RoleKind::tenant:
        if (who.scope == job_tenant) return {};
        // The same answer as for a job that does not exist: another tenant's
        // ids are not confirmed.
        return {404, "no job '" + job_id + "'; 'hearth jobs' lists yours"};
    case RoleKind::facility:
    case RoleKind::site:
        return {403, "role " + to_string(who) + " may not see jobs (a tenant token sees its own, an operator token all)"};
    }
    return {403, "unknown role"};
}

Decision check_tenant_query(const Role& who,
                            const std::vector<std::pair<std::string, std::string>>& params) {
    std::set<std::string> names;
    for (const auto& [name, value] : params) {
        if (!names.insert(name).second)
            return {400, "query parameter '" + name + "' given twice; give each at most once"};
        if (name == "tenant" && value != who.scope)
            return {403, "tenant '" + who.scope + "' may not read tenant '" + value +
                             "' (use a token of that tenant or an operator token)"};
    }
    return {};
}

}  // namespace hearth
