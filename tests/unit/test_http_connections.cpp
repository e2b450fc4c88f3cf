// core/http_get's HttpConnections: exchanges that name one keep their
// connection open for the next (hearth site to its scheduler: one handshake
// per kept-alive connection, not per request); without it each call opens
// its own. Against a cpp-httplib server on 127.0.0.1, which says which
// client port each request came from.
#include <boost/test/unit_test.hpp>

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "core/http_get.hpp"

using namespace hearth;
using namespace std::chrono_literals;

namespace {

struct PortServer {
    httplib::Server server;
    int port = 0;
    std::mutex mu;
    std::set<int> client_ports;
    int requests = 0;
    std::thread thread;

    explicit PortServer(std::size_t keep_alive_max = 100) {
        server.set_keep_alive_max_count(keep_alive_max);
        server.Post("/work", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard l(mu);
            client_ports.insert(req.remote_port);
            ++requests;
            res.set_content(R"({"ok":true})", "application/json");
        });
        port = server.bind_to_any_port("127.0.0.1");
        BOOST_TEST_REQUIRE(port > 0);
        thread = std::thread([this] { server.listen_after_bind(); });
        for (int i = 0; i < 5000 && !server.is_running(); ++i) std::this_thread::sleep_for(1ms);
        BOOST_TEST_REQUIRE(server.is_running());
    }
    ~PortServer() {
        server.stop();
        if (thread.joinable()) thread.join();
    }
    HttpExchange post(HttpConnections* c) const {
        HttpExchange x;
        x.url = "http://127.0.0.1:" + std::to_string(port) + "/work";
        x.body = R"({"n":1})";
        x.no_proxy = true;
        x.connections = c;
        return x;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_connections)

BOOST_AUTO_TEST_CASE(exchanges_naming_one_cache_share_one_connection) {
    PortServer srv;
    HttpConnections keep;
    for (int i = 0; i < 10; ++i) {
        const auto r = http_exchange(srv.post(&keep));
        BOOST_TEST_REQUIRE(r.status == 200, r.error);
        BOOST_TEST(r.body == R"({"ok":true})");
    }
    BOOST_TEST(srv.requests == 10);
    BOOST_TEST(srv.client_ports.size() == 1u);
}

BOOST_AUTO_TEST_CASE(without_one_each_exchange_connects_anew) {
    PortServer srv;
    for (int i = 0; i < 4; ++i) BOOST_TEST_REQUIRE(http_exchange(srv.post(nullptr)).status == 200);
    BOOST_TEST(srv.client_ports.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_connection_the_server_closes_is_replaced_without_a_failure) {
    // The server ends a connection after 3 requests (httplib's
    // keep_alive_max_count): the next exchange connects again, and answers.
    PortServer srv(3);
    HttpConnections keep;
    for (int i = 0; i < 9; ++i) BOOST_TEST_REQUIRE(http_exchange(srv.post(&keep)).status == 200);
    BOOST_TEST(srv.requests == 9);
    BOOST_TEST(srv.client_ports.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_server_gone_is_a_failure_then_a_new_one_answers) {
    HttpConnections keep;
    int port = 0;
    {
        PortServer srv;
        port = srv.port;
        BOOST_TEST_REQUIRE(http_exchange(srv.post(&keep)).status == 200);
    }
    HttpExchange x;
    x.url = "http://127.0.0.1:" + std::to_string(port) + "/work";
    x.body = "{}";
    x.no_proxy = true;
    x.timeout_ms = 2000;
    x.connections = &keep;
    const auto r = http_exchange(x);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(!r.error.empty());
    PortServer again;
    BOOST_TEST(http_exchange(again.post(&keep)).status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
