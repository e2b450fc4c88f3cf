#pragma once
// Where a caller's bearer token may be sent on: over HTTPS, or over plain
// HTTP to a loopback address only (hearth-api(7) SECURITY MODEL). Anything
// else would put the token on a network in clear text. Pure.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

// The host of an http(s) URL ("http://[::1]:9750/v1" -> "::1"); "" when
// the URL is neither.
std::string url_host_of(const std::string& url);

// Why a token must not be sent to url, one line naming the fix; "" when it may.
std::string token_refusal(const std::string& url);

// A token may name the sites it is for in its own text (hearth-tokens(5)):
//   hearth_<64 hex>                       no scope: any site's agents
//   hearth~SITE[~SITE...]~<64 hex>        those sites' agents only
// The agents keep the hash of the whole text, so the scope cannot be changed
// without making the token unknown: only its issuer (hearth token new
// --sites) sets it. '~' is in no site name (core/grid is_safe_name).
// The sites a token names; nullopt for a token without a scope (or not of
// this form: a caller's own secret, sent as before).
std::optional<std::vector<std::string>> token_sites(std::string_view token);
// The scoped form of a new token's secret hex digits. sites: safe names.
std::string scoped_token(const std::vector<std::string>& sites, const std::string& secret_hex);

// Why `token` must not go to the agent at url, of a node of site
// node_site: the transport rule above, then the token's scope; "" when it
// may. The dashboard asks this before every call it forwards a token on.
std::string token_route_refusal(std::string_view token, const std::string& url,
                                const std::string& node_site);

}  // namespace hearth
