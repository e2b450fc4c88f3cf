#include "core/token_route.hpp"

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

}  // namespace hearth
