// Where a caller's token may be sent on (core/token_route): https anywhere,
// plain http only to loopback.
#include <boost/test/unit_test.hpp>

#include "core/token_route.hpp"

using namespace hearth;

BOOST_AUTO_TEST_SUITE(token_route)

BOOST_AUTO_TEST_CASE(the_host_of_a_url_is_found_with_ports_brackets_and_paths) {
    BOOST_TEST(url_host_of("http://127.0.0.1:9750/v1/node") == "127.0.0.1");
    BOOST_TEST(url_host_of("https://[::1]:9750") == "::1");
    BOOST_TEST(url_host_of("http://user@198.18.0.2/x") == "198.18.0.2");
    BOOST_TEST(url_host_of("http://localhost") == "localhost");
    BOOST_TEST(url_host_of("ftp://x").empty());
}

BOOST_AUTO_TEST_CASE(a_token_goes_over_https_anywhere_and_over_http_only_to_loopback) {
    BOOST_TEST(token_refusal("https://198.18.0.2:9750").empty());
    BOOST_TEST(token_refusal("http://127.0.0.1:9750").empty());
    BOOST_TEST(token_refusal("http://[::1]:9750").empty());
    BOOST_TEST(token_refusal("http://localhost:9750").empty());
    const std::string why = token_refusal("http://198.18.0.2:9750");
    BOOST_TEST(why.find("plain http to a host that is not loopback") != std::string::npos);
    BOOST_TEST(why.find("grid-agent --tls-cert") != std::string::npos);
    // A name that merely starts like a loopback address is not one.
    BOOST_TEST(!token_refusal("http://127.0.0.1.example.org:9750").empty());
    BOOST_TEST(!token_refusal("gopher://127.0.0.1").empty());
}

BOOST_AUTO_TEST_SUITE_END()
