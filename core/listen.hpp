#pragma once
// A server's --listen address, read the same way by grid-agent and hearth
// serve: HOST:PORT, and whether HOST is loopback (plain HTTP and --no-auth
// are allowed there only).
#include <string>
#include <utility>

namespace hearth {

// "127.0.0.1:9750" -> host, port ("[::1]:9750" -> "::1"). Throws usage_error.
std::pair<std::string, int> split_listen(const std::string& listen);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace hearth
