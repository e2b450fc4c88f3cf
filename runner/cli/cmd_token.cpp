// hearth token new / revoke: makes an API token and adds its hash to a
// tokens file (hearth-tokens(5)), printing the token once; or marks a token
// revoked. Only the hash is kept, so a lost token is replaced, never
// recovered. The file is replaced atomically (core/atomic_file) under a lock
// of its directory, so a server re-reading it sees the old lines or the new,
// and two operators at once do not lose each other's change.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string_view>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/token_route.hpp"
#include "core/token_validity.hpp"
#include "core/utc_time.hpp"
#include "runner/cli/commands.hpp"

namespace hearth {
namespace {

// The agents' tokens file may be read by a 'hearth' group, never by others.
constexpr unsigned k_tokens_mode = 0640;
// How many hex digits of the hash `hearth token new` prints as the token's id.
constexpr std::size_t k_id_digits = 12;

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The tokens file, read under an exclusive lock of its directory (held until
// this is destroyed), with the owner and mode its replacement keeps.
struct LockedTokens {
    Fd dir;
    bool exists = false;
    std::string text;
    FileOwner owner;
    unsigned mode = k_tokens_mode;
    TokenTable table;
};

void open_locked(LockedTokens& t, const std::string& path, bool must_exist) {
    if (path.empty()) throw usage_error("no tokens file: give --tokens FILE");
    const std::filesystem::path p(path);
    const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
    t.dir.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (t.dir.fd < 0)
        throw usage_error("cannot open the directory " + dir + " of " + path + ": " +
                          std::strerror(errno) + "; check the path");
    if (::flock(t.dir.fd, LOCK_EX) != 0)
        throw Error("cannot lock " + dir + ": " + std::strerror(errno));
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno != ENOENT)
            throw usage_error("cannot read " + path + ": " + std::strerror(errno) +
                              "; check the path");
        if (must_exist)
            throw usage_error("no tokens file " + path +
                              "; give the file the servers read (--tokens)");
        t.owner = {static_cast<unsigned>(::geteuid()), static_cast<unsigned>(::getegid())};
        return;
    }
    if (S_ISLNK(st.st_mode))
        throw usage_error("cannot open " + path + ": it is a symlink; give the file itself");
    if (!S_ISREG(st.st_mode))
        throw usage_error(path + " is not a regular file; give a tokens file");
    if (std::string why = unsafe_mode_reason(st.st_mode, k_tokens_mode); !why.empty()) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%o", k_tokens_mode);
        throw usage_error("refusing " + path + ": " + why + "; run chmod " + mode + " " + path);
    }
    t.exists = true;
    t.owner = {static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_gid)};
    t.mode = st.st_mode & 0777;
    t.text = read_secret_file(path, k_tokens_mode);
    // A malformed file would stop the servers at their next start; say so
    // now, before changing it.
    t.table = TokenTable::parse(t.text, path);
}

bool all_hex(const std::string& s) {
    for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return !s.empty();
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

int cmd_token(const TokenArgs& a) {
    // Everything is checked before the file is touched.
    Role role = parse_role(a.role);
    if (!a.expires.empty()) role.expires_ms = parse_token_expiry(a.expires, now_ms());
    // The sites the token is for, in its text (core/token_route).
    std::vector<std::string> sites;
    for (std::string_view rest = a.sites; !rest.empty();) {
        const auto comma = rest.find(',');
        const std::string one(rest.substr(0, comma));
        if (!is_safe_name(one))
            throw usage_error("--sites: '" + one.substr(0, 64) +
                              "' is not a site name; give the grid file's site names, comma "
                              "separated");
        sites.push_back(one);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    const bool site_bound =
        (role.kind == RoleKind::facility || role.kind == RoleKind::site) && !role.scope.empty();
    if (site_bound && sites.empty()) sites.push_back(role.scope);
    if (site_bound && (sites.size() != 1 || sites[0] != role.scope))
        throw usage_error("--sites " + a.sites + " does not match the role " + to_string(role) +
                          ", which is for site " + role.scope + " only; leave --sites out");
    std::string token = generate_token();
    if (!sites.empty()) token = scoped_token(sites, token.substr(token.find('_') + 1));
    const std::string line = token_line(token, role, a.label);
    if (a.tokens.empty()) throw usage_error("no tokens file: give --tokens FILE");

    LockedTokens t;
    open_locked(t, a.tokens, false);
    const std::string text =
        t.text + (t.text.empty() || t.text.back() == '\n' ? "" : "\n") + line + "\n";
    write_file_atomic(a.tokens, text, t.mode, t.owner);
    std::cout << token << std::endl;
    std::cerr << "hearth: store it: only its hash is kept (" << to_string(role) << ", id "
              << to_hex(sha256(token)).substr(0, k_id_digits)
              << (role.expires_ms ? ", expires " + format_utc(role.expires_ms / 1000) : "")
              << ", in " << a.tokens << ")\n";
    return 0;
}

int cmd_token_revoke(const TokenArgs& a) {
    // The id: the token itself, or 8+ hex digits of its hash.
    std::string prefix;
    if (a.id.rfind("hearth_", 0) == 0 || a.id.rfind("hearth~", 0) == 0) {
        prefix = to_hex(sha256(a.id));
    } else {
        prefix = lower(a.id.rfind("sha256:", 0) == 0 ? a.id.substr(7) : a.id);
        if (prefix.size() < 8 || prefix.size() > 64 || !all_hex(prefix))
            throw usage_error("'" + a.id +
                              "' is not a token id; give 8 or more hex digits of its hash (as "
                              "'hearth token new' printed) or the token itself");
    }
    LockedTokens t;
    open_locked(t, a.tokens, true);
    const TokenTable::Entry* match = nullptr;
    for (const auto& e : t.table.entries()) {
        if (to_hex(e.hash).rfind(prefix, 0) != 0) continue;
        if (match)
            throw usage_error("id '" + a.id + "' matches more than one token in " + a.tokens +
                              "; give more digits of the hash");
        match = &e;
    }
    if (!match)
        throw usage_error("no token with id '" + a.id + "' in " + a.tokens +
                          "; the ids are the first digits after sha256: on each line");
    const std::string id = to_hex(match->hash).substr(0, k_id_digits);
    const std::int64_t now = now_ms();
    if (token_state(match->role, now) == TokenState::revoked) {
        std::cerr << "hearth: token " << id << " was already revoked at "
                  << format_utc(match->role.revoked_ms / 1000) << "\n";
        return 0;
    }
    // Rewrite that one line; comments and every other line stay as they were.
    Role revoked = match->role;
    revoked.revoked_ms = now / 1000 * 1000;  // the file holds whole seconds
    const std::string digest = "sha256:" + to_hex(match->hash);
    std::istringstream in(t.text);
    std::string out, line;
    while (std::getline(in, line)) {
        auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos && lower(line.substr(first, digest.size())) == digest) {
            auto hash = line.find('#');
            line = entry_line(match->hash, revoked) +
                   (hash == std::string::npos ? "" : "  " + line.substr(hash));
        }
        out += line + "\n";
    }
    write_file_atomic(a.tokens, out, t.mode, t.owner);
    std::cerr << "hearth: revoked token " << id << " (" << to_string(match->role)
              << (match->role.label.empty() ? "" : ", " + match->role.label)
              << "); servers refuse it from their next request\n";
    return 0;
}

}  // namespace hearth
