#pragma once
// Who may do what on a grid-agent's HTTP API: roles, the tokens file, and the
// authorization policy as a pure function of (role, route, agent's site).
//
// Tokens file (hearth-tokens(5)): one token a line,
//   sha256:<64 hex digits>  ROLE  [expires=UTC] [revoked=UTC]  [LABEL]
// ROLE is tenant:NAME, facility, facility:SITE, operator or site:NAME; '#' starts a
// comment. Only hashes are stored: the tokens are 256-bit random secrets, so a
// plain SHA-256 is as good as a slow password hash here, and a stolen file
// gives no usable token.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

// site: a `hearth site` dispatcher's token; it asks the scheduler for its
// own site's work and moves blobs, nothing else.
enum class RoleKind { tenant, facility, operator_, site };

struct Role {
    RoleKind kind = RoleKind::tenant;
    // tenant: the tenant's name; facility: the one site it may manage ("" = all
    // sites); site: the site whose work it may ask for.
    std::string scope;
    std::string label;  // the tokens file's label, for logs ("" when none)
    // Unix ms when the token stops being accepted (0: never); see
    // core/token_validity for the rule.
    std::int64_t expires_ms = 0;
    std::int64_t revoked_ms = 0;
};

// "tenant:bank", "facility", "facility:poolroom", "operator", "site:poolroom". Throws
// usage_error naming the text and the valid forms.
Role parse_role(const std::string& text);
std::string to_string(const Role& role);
const char* to_string(RoleKind kind);  // "tenant", "facility", "operator", "site"

using Sha256 = std::array<unsigned char, 32>;
Sha256 sha256(std::string_view data);
std::string to_hex(const Sha256& h);

// A new token: "hearth_" and 64 hex digits of getrandom(2). Throws Error when
// the kernel's random source fails.
std::string generate_token();
// The tokens file line for a token (its hash, the role, the label).
// role.expires_ms, when set, is written as expires=UTC.
std::string token_line(const std::string& token, const Role& role, const std::string& label);
// The line of a parsed entry, for rewriting the file (hash as sha256:HEX).
std::string entry_line(const Sha256& hash, const Role& role);

class TokenTable {
public:
    // origin names the file in messages ("tokens.txt:3: ..."). Throws
    // usage_error on a malformed line, a bad role or a duplicate hash.
    static TokenTable parse(const std::string& text, const std::string& origin);
    // The role of a presented token. Compares the token's hash with every
    // entry in constant time and without stopping at a match, so the time
    // taken says nothing about which entry (if any) matched.
    std::optional<Role> find(std::string_view token) const;
    std::size_t size() const { return m_entries.size(); }

    struct Entry {
        Sha256 hash;
        Role role;
    };
    const std::vector<Entry>& entries() const { return m_entries; }

private:
    std::vector<Entry> m_entries;
};

// Why a secret file's permissions are unsafe, or "" when they are fine.
// max_mode: the permission bits allowed (0640 for the agent's tokens file, so
// a 'hearth' group may read it; 0600 for a user's own token file).
std::string unsafe_mode_reason(unsigned mode, unsigned max_mode);
// Reads a secret file after checking its mode (lstat: no symlinks) against
// max_mode; throws usage_error naming the file, the mode and the chmod that
// fixes it.
std::string read_secret_file(const std::string& path, unsigned max_mode);
// The bearer token of an Authorization header value, or nullopt when the
// header is absent or not "Bearer <token>".
std::optional<std::string> bearer_token(std::string_view header);

// The agent's HTTP routes as the policy sees them.
enum class Route {
    health,      // GET /v1/health: open, tells nothing a scan would not
    whoami,      // GET /v1/whoami: the caller's own role
    node,        // GET /v1/node
    energy,      // GET /v1/energy (tenants: scoped to themselves)
    heat_read,   // GET /v1/heat, GET /v1/history, GET /v1/grid
    heat_write,  // POST /v1/heat/target, /v1/heat/schedule, /v1/heat/measured
    heat_try,    // POST /v1/heat/try: simulate a target or schedule (changes nothing)
    metrics,     // GET /metrics
    drain,       // POST /v1/node/drain
    dashboard,   // GET / and the dashboard's static files: open (no data in them)
};

struct Decision {
    int status = 200;   // 200 allowed, 401 no or bad token, 403 outside the role
    std::string error;  // the JSON error message when refused
    bool allowed() const { return status == 200; }
};

// token_given: an Authorization header was sent; who: the role it maps to
// (nullopt when unknown). site: the agent's site (facility scoping).
// metrics_public: /metrics is open (config).
Decision authorize(bool token_given, const std::optional<Role>& who, Route route,
                   const std::string& site, bool metrics_public = false);

// A tenant's query parameters for /v1/energy: a tenant may not name another
// tenant nor repeat a parameter (a server reading the first and a proxy the
// last would disagree). Returns a refusal, or allowed() when the query is
// fine; the caller then forces the tenant filter to the role's tenant.
// params: the (name, value) pairs as received, in order.
Decision check_tenant_query(const Role& who,
                            const std::vector<std::pair<std::string, std::string>>& params);

// The scheduler's (hearth serve) routes as the policy sees them.
enum class ServeRoute {
    health,      // GET /v1/health: open
    whoami,      // GET /v1/whoami: any valid token
    jobs,        // /v1/jobs...: tenants (their own jobs) and operators
    blob_read,   // GET /v1/blobs/SHA: tenants, operators, sites
    blob_write,  // PUT /v1/blobs/SHA: tenants (inputs), sites (outputs), operators
    site_work,   // POST /v1/sites/NAME/work: that site's token, or an operator
    overview,    // GET /v1/overview: operators only
};

// token_given and who as for authorize(); site: NAME of /v1/sites/NAME/work.
Decision authorize_serve(bool token_given, const std::optional<Role>& who, ServeRoute route,
                         const std::string& site = "");

// Whether `who` may see and act on a job of job_tenant: a tenant its own
// jobs only (404 for another's, as if absent: ids tell nothing), an operator
// every job, a facility or site token none (403). The scheduler applies it
// to every job it answers about.
Decision job_access(const Role& who, const std::string& job_tenant, const std::string& job_id);

}  // namespace hearth
