#include "listen.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdexcept>

#include "error.hpp"

namespace hearth {

std::pair<std::string, int> split_listen(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0)
        throw usage_error("bad listen address '" + listen + "': write HOST:PORT, e.g. 127.0.0.1:9750");
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int port = 0;
    try {
        std::size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1) throw std::invalid_argument("junk");
    } catch (const std::exception&) {
        port = -1;
    }
    if (port < 0 || port > 65535)
        throw usage_error("bad port in listen address '" + listen + "': use 0-65535");
    return {host, port};
}

bool is_loopback_host(const std::string& host) {
    // Addresses only (and "localhost"): a name like 127.0.0.1.example.org
    // resolves wherever its DNS says.
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return host == "localhost";
}

}  // namespace hearth
