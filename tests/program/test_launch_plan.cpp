// Where each rank goes: nodes that are this machine (by name or by one of
// its addresses) share the dispatcher's hostfile line; Open MPI refuses a
// machine listed twice ("multiple definitions of the slot count").
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <optional>
#include <string>

#include "runner/job/launch_plan.hpp"

using namespace hearth;

namespace {

// A non-loopback IPv4 address of this machine, if it has one.
std::optional<std::string> own_ipv4() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return std::nullopt;
    std::optional<std::string> out;
    for (ifaddrs* a = list; a && !out; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        char text[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                    sizeof text);
        if (std::string(text).rfind("127.", 0) != 0) out = text;
    }
    ::freeifaddrs(list);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(launch_plan)

BOOST_AUTO_TEST_CASE(a_node_named_by_this_machines_address_shares_the_local_line) {
    const auto addr = own_ipv4();
    if (!addr) {
        BOOST_TEST_MESSAGE("no non-loopback IPv4 address here: nothing to check");
        BOOST_TEST(is_local_host("127.0.0.1"));
        return;
    }
    BOOST_TEST(is_local_host(*addr));
    JobSpec spec;
    spec.nodes = {NodeSpec{"localhost", 1, {}}, NodeSpec{*addr, 1, {}},
                  NodeSpec{"198.18.255.254", 1, {}}};
    const LaunchPlan plan = plan_launch(spec);
    BOOST_TEST_REQUIRE(plan.hostfile.size() == 2u);
    BOOST_TEST(plan.hostfile[0].first == "localhost");
    BOOST_TEST(plan.hostfile[0].second == 3u);  // the dispatcher and both local workers
    BOOST_TEST(plan.hostfile[1].first == "198.18.255.254");
    BOOST_TEST(plan.np() == 4);
}

BOOST_AUTO_TEST_CASE(other_addresses_and_names_are_remote) {
    BOOST_TEST(!is_local_host("198.18.255.254"));
    BOOST_TEST(!is_local_host("no-such-host.invalid"));
    BOOST_TEST(!is_local_host("::2"));
}

BOOST_AUTO_TEST_SUITE_END()
