#pragma once
// The integration tests' side of `hearth serve`: a small grid and one HTTP
// exchange through curl (the tests speak to the server as any client would,
// nothing of Hearth's own client in between).
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.hpp"

namespace hearth::test {

// A grid of one site, "home", with one 4-slot node on this machine.
inline const char* k_home_grid = R"(
[[site]]
name = "home"
kind = "room"
target = 20
min = 10
max = 30
[site.source]
type = "static"
measured = 15

[[node]]
name = "n1"
site = "home"
host = "localhost"
slots = 4
)";

struct Reply {
    int code = 0;
    std::string body;
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One HTTP exchange through curl: the test speaks to the server as any
// client would, nothing of Hearth's own client in between.
inline Reply http(const TempDir& t, const std::string& method, const std::string& url,
                  const std::string& token,
                  const std::optional<std::string>& json_body = std::nullopt,
                  const std::optional<fs::path>& upload = std::nullopt) {
    const fs::path out = t / "curl.out";
    std::string cmd =
        "curl -s --max-time 20 -o " + quote(out.string()) + " -w '%{http_code}' -X " + method;
    if (!token.empty()) cmd += " -H " + quote("Authorization: Bearer " + token);
    if (json_body) {
        std::ofstream(t / "curl.in", std::ios::binary) << *json_body;
        cmd += " -H 'Content-Type: application/json' --data-binary @" +
               quote((t / "curl.in").string());
    }
    if (upload) cmd += " -H 'Expect:' --data-binary @" + quote(upload->string());
    cmd += " " + quote(url);
    Reply r;
    r.code = std::atoi(sh_out(cmd).c_str());
    r.body = slurp(out);
    return r;
}

}  // namespace hearth::test
