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

BOOST_AUTO_TEST_CASE(a_scoped_token_names_its_sites_and_a_plain_one_none) {
    const std::string hex(64, 'a');
    BOOST_TEST(scoped_token({}, hex) == "hearth_" + hex);
    BOOST_TEST(scoped_token({"poolroom", "lab.2"}, hex) == "hearth~poolroom~lab.2~" + hex);
    auto s = token_sites("hearth~poolroom~lab.2~" + hex);
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST(*s == (std::vector<std::string>{"poolroom", "lab.2"}),
               boost::test_tools::per_element());
    BOOST_TEST(!token_sites("hearth_" + hex).has_value());
    BOOST_TEST(!token_sites("hearth~" + hex).has_value());                 // no site
    BOOST_TEST(!token_sites("hearth~pool~" + hex.substr(1)).has_value());  // short secret
    BOOST_TEST(!token_sites("hearth~../x~" + hex).has_value());            // not a site name
    BOOST_TEST(!token_sites("someone-elses-secret").has_value());
}

BOOST_AUTO_TEST_CASE(
    a_scoped_token_goes_only_to_its_sites_agents_and_never_over_plain_http_off_loopback) {
    const std::string pool = "hearth~poolroom~" + std::string(64, 'b');
    BOOST_TEST(token_route_refusal(pool, "https://198.18.0.2:9750", "poolroom").empty());
    BOOST_TEST(token_route_refusal(pool, "http://127.0.0.1:9750", "poolroom").empty());
    const std::string other = token_route_refusal(pool, "https://198.18.0.3:9750", "studio");
    BOOST_TEST(other.find("it is for site poolroom, and that agent is of site 'studio'") !=
                   std::string::npos,
               other);
    BOOST_TEST(other.find("hearth token new --sites") != std::string::npos);
    // Its own site's agent over plain http off loopback: refused all the same.
    BOOST_TEST(token_route_refusal(pool, "http://198.18.0.2:9750", "poolroom").find("plain http") !=
               std::string::npos);
    // A token without a scope: any site's agent, by the transport rule alone.
    const std::string plain = "hearth_" + std::string(64, 'c');
    BOOST_TEST(token_route_refusal(plain, "https://198.18.0.3:9750", "studio").empty());
    BOOST_TEST(!token_route_refusal(plain, "http://198.18.0.3:9750", "studio").empty());
}

BOOST_AUTO_TEST_SUITE_END()
