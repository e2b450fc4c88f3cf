#pragma once
// A real grid-agent with heat control for the integration tests: node n1 of
// a grid file, the model energy source, slot-only throttling, a control step
// every 0.2 s, on a free loopback port. The test's hearth runs use its socket.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdio>
#include <regex>

#include "harness.hpp"

namespace hearth::test {

// One line to an agent's Unix socket from this process (the registering
// peer, so the tasks it registers must be its own children) and the reply.
inline std::string agent_socket_line(const std::string& path, const std::string& line) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        std::string out = line + "\n";
        if (::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size())) {
            char c;
            while (::read(fd, &c, 1) == 1 && c != '\n') reply += c;
        }
    }
    ::close(fd);
    return reply;
}

struct HeatAgent {
    pid_t pid = -1;
    int port = 0;
    fs::path dir;
    std::string socket;
    std::string scheme = "http";
    // extra: the agent's security flags (a tokens file, TLS); --no-auth when none.
    HeatAgent(const fs::path& d, const fs::path& grid, const std::string& extra = "--no-auth") : dir(d) {
        if (extra.find("--tls-cert") != std::string::npos) scheme = "https";
        socket = (d / "agent.sock").string();
        std::string cmd = "exec " + quote(agent_bin()) + " --node n1 --grid " + quote(grid.string()) +
                          " --energy model --throttle slots --control 0.2 --listen 127.0.0.1:0 " + extra +
                          " --socket " + quote(socket) + " --ledger " + quote((d / "ledger.db").string()) +
                          " 2>>" + quote((d / "agent.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), cmd.data(),
                                   nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        std::regex re("http 127\\.0\\.0\\.1:([0-9]+)");
        wait_for(
            [&] {
                std::smatch m;
                std::string log = slurp(d / "agent.log");
                if (std::regex_search(log, m, re)) port = std::stoi(m[1]);
                return port > 0 && fs::exists(socket);
            },
            std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(port > 0, "grid-agent did not start: " + slurp(d / "agent.log"));
        ::setenv("HEARTH_AGENT_SOCKET", socket.c_str(), 1);
    }
    ~HeatAgent() {
        ::unsetenv("HEARTH_AGENT_SOCKET");
        ::kill(pid, SIGTERM);
        wait_exit(pid);
    }
    HeatAgent(const HeatAgent&) = delete;
    HeatAgent& operator=(const HeatAgent&) = delete;

    std::string url() const { return scheme + "://127.0.0.1:" + std::to_string(port); }
    // GET /v1/heat; an empty object when the answer is not JSON.
    nlohmann::json heat() const {
        auto j = nlohmann::json::parse(sh_out("curl -s " + quote(url() + "/v1/heat")), nullptr, false);
        return j.is_object() ? j : nlohmann::json::object();
    }
    std::string post(const std::string& what, const std::string& body) const {
        return sh_out("curl -s -H 'Content-Type: application/json' -X POST -d " + quote(body) + " " + quote(url() + "/v1/heat/" + what));
    }
    // Waits until /v1/heat satisfies pred; the last answer is kept in `last`.
    template <class Pred>
    bool until(Pred pred, nlohmann::json& last, std::chrono::seconds limit = std::chrono::seconds(15)) {
        return wait_for([&] { return pred(last = heat()); }, limit);
    }
};

}  // namespace hearth::test
