#pragma once
// What `hearth` presents to grid-agents: the bearer token of its user and the
// CA that signs the agents' certificates, from the environment (hearth(1),
// ENVIRONMENT), and how an agent's refusal of them is told to the user.
#include <functional>
#include <optional>
#include <string>

namespace hearth {

struct ClientCredentials {
    std::optional<std::string> token;  // sent as "Authorization: Bearer TOKEN"
    std::string origin;                // where the token came from, for messages
    std::optional<std::string> cacert;  // PEM file: the only CA agents' certificates may chain to
};

// The first of: HEARTH_TOKEN; the file HEARTH_TOKEN_FILE names; the file
// $XDG_CONFIG_HOME/hearth/token (default ~/.config/hearth/token) when it
// exists. A token file must be mode 0600 or stricter and not a symlink.
// HEARTH_CACERT names the CA file. Throws usage_error naming the variable or
// file and the fix. env: the environment lookup (std::getenv in hearth).
ClientCredentials load_credentials(const std::function<const char*(const char*)>& env);

// HEARTH_CACERT alone (hearth dashboard passes its callers' tokens on, not
// its user's). Throws usage_error when the file cannot be read.
std::optional<std::string> load_cacert(const std::function<const char*(const char*)>& env);

// The process's credentials, read from the environment on first use. A
// command that talks to agents calls it before its first request, so that an
// unsafe token file stops it with exit 2 instead of failing every request.
const ClientCredentials& client_credentials();
const std::optional<std::string>& client_cacert();

// The one-line message for an agent's 401 or 403: the agent, the status, the
// agent's own reason, where the token sent came from and what would do.
// needed: the role the request takes, e.g. "a facility or operator token";
// sent: the credentials the request carried.
std::string refusal_message(const std::string& agent, long status, const std::string& agent_error,
                            const std::string& needed, const ClientCredentials& sent);

}  // namespace hearth
