#include "core/token_route.hpp"

#include "core/grid.hpp"
#include "core/listen.hpp"

namespace hearth {

std::string url_host_of(const std::string& url) {
    std::string rest;
    if (url.rfind("https://", 0) == 0)
        rest = url.substr(8);
    else if (url.rfind("http://", 0) == 0)
        rest = url.substr(7);
    else
        return "";
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
    if (!rest.empty() && rest[0] == '[') {
        auto close = rest.find(']');
        return close == std::string::npos ? "" : rest.substr(1, close - 1);
    }
    return rest.substr(0, rest.find(':'));
}

std::string token_refusal(const std::string& url) {
    if (url.rfind("https://", 0) == 0) return "";
    if (url.rfind("http://", 0) != 0)
        return "the token is not sent to " + url + ": not an http(s) URL";
    const std::string host = url_host_of(url);
    if (is_loopback_host(host)) return "";
    return "the token is not sent to " + url +
           ": plain http to a host that is not loopback would show it to the network; serve "
           "that agent over https (grid-agent --tls-cert) and name it https:// in the grid file";
}

std::optional<std::vector<std::string>> token_sites(std::string_view token) {
    constexpr std::string_view prefix = "hearth~";
    if (token.substr(0, prefix.size()) != prefix) return std::nullopt;
    std::vector<std::string> parts;
    std::string_view rest = token.substr(prefix.size());
    for (;;) {
        const auto tilde = rest.find('~');
        if (tilde == std::string_view::npos) break;
        parts.emplace_back(rest.substr(0, tilde));
        rest = rest.substr(tilde + 1);
    }
    // The last part is the secret; a scope names at least one site.
    if (parts.empty() || rest.size() != 64 ||
        rest.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return std::nullopt;
    for (const auto& p : parts)
        if (!is_safe_name(p)) return std::nullopt;
    return parts;
}

std::string scoped_token(const std::vector<std::string>& sites, const std::string& secret_hex) {
    if (sites.empty()) return "hearth_" + secret_hex;
    std::string t = "hearth";
    for (const auto& s : sites) t += "~" + s;
    return t + "~" + secret_hex;
}

std::string token_route_refusal(std::string_view token, const std::string& url,
                                const std::string& node_site) {
    if (std::string why = token_refusal(url); !why.empty()) return why;
    auto sites = token_sites(token);
    if (!sites) return "";
    for (const auto& s : *sites)
        if (s == node_site) return "";
    std::string list;
    for (const auto& s : *sites) list += (list.empty() ? "" : ", ") + s;
    return "the token is not sent to " + url + ": it is for site" +
           (sites->size() == 1 ? " " : "s ") + list + ", and that agent is of site '" + node_site +
           "'; use a token made for that site (hearth token new --sites)";
}

}  // namespace hearth
