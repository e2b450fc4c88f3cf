#pragma once
// What every Hearth HTTP server (grid-agent's API, hearth dashboard) sets up
// the same way: bounded bodies and time, refusals as JSON, and where the
// dashboard's files sit next to the executable. A template over the server
// type, so core/ needs no HTTP library.
#include <filesystem>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "api_request.hpp"

namespace hearth {

template <class Server>
void bound_json_server(Server& s) {
    s.set_payload_max_length(k_max_body_bytes);
    s.set_read_timeout(10, 0);
    s.set_write_timeout(10, 0);
    // The library writes a reply's headers and body in separate writes: with
    // Nagle's algorithm the body waits for the client's delayed ACK (40 ms
    // on Linux), which capped hearth serve at one work request per 40 ms a
    // site.
    s.set_tcp_nodelay(true);
    // Every refusal is a JSON body, the HTTP library's own (413, 404) included.
    s.set_error_handler([](const auto&, auto& res) {
        if (!res.body.empty()) return;
        std::string msg = res.status == 413   ? "request body over 64 KiB; send one small JSON object"
                          : res.status == 404 ? "no such route; see hearth-api(7)"
                                              : "request refused (HTTP " + std::to_string(res.status) + ")";
        res.set_content(nlohmann::json{{"error", msg}}.dump(), "application/json");
    });
}

// <dir of the executable>/../share/hearth/dashboard: build/bin -> build/share,
// /usr/local/bin -> /usr/local/share. Empty when /proc/self/exe is unreadable.
inline std::filesystem::path installed_dashboard_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    return exe.parent_path().parent_path() / "share" / "hearth" / "dashboard";
}

}  // namespace hearth
