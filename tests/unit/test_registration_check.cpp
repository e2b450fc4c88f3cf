// The agent's checks on a registration (core/registration_check): each
// refusal a named case, against /proc files of a fake root laid out as a
// node's would be: init (1), a worker (500) whose task (600) started a child
// (601), and an unrelated process (700).
#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "core/registration_check.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace hearth;
using hearth::test::FakeFs;

namespace {

constexpr uid_t k_worker_uid = 1500;

struct Node {
    FakeFs fs;
    RegistrationPolicy policy{k_worker_uid, 2};  // a 2-core node
    PeerCred worker{500, k_worker_uid, k_worker_uid};
    Node() {
        proc(1, 0, "/init.scope");
        proc(500, 1, "/system.slice/hearth-worker.service");
        proc(600, 500, "/system.slice/hearth-worker.service");
        proc(601, 600, "/system.slice/hearth-worker.service");
        proc(700, 1, "/user.slice/user-1500.slice/session-3.scope");
    }
    void proc(pid_t pid, pid_t ppid, const std::string& cgroup, unsigned long start = 1000) {
        const std::string p = std::to_string(pid);
        fs.write("/proc/" + p + "/stat", p + " (x) S " + std::to_string(ppid) + " " + p + " " + p +
                                             " 0 -1 0 0 0 0 0 5 1 0 0 20 0 1 0 " +
                                             std::to_string(start) + " 1 1\n");
        fs.write("/proc/" + p + "/cgroup", "0::" + cgroup + "\n");
    }
    std::string refusal(const PeerCred& peer, pid_t pid, unsigned cores) {
        try {
            check_registration(fs, policy, peer, pid, cores);
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    }
};

bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(registration_check)

BOOST_AUTO_TEST_CASE(the_workers_own_child_and_grandchild_are_accepted) {
    Node n;
    BOOST_TEST(check_registration(n.fs, n.policy, n.worker, 600, 1) == 1000u);
    BOOST_TEST(check_registration(n.fs, n.policy, n.worker, 601, 2) == 1000u);
}

BOOST_AUTO_TEST_CASE(pid_1_registered_as_bank_with_64_cores_is_refused) {
    Node n;
    BOOST_TEST(has(n.refusal(n.worker, 1, 64), "a task of 64 cores on a node of 2"));
    // With a core count it could have, pid 1 is still not the worker's task.
    BOOST_TEST(has(n.refusal(n.worker, 1, 1), "pid 1 is not a process of the registering pid 500"));
}

BOOST_AUTO_TEST_CASE(more_cores_than_the_node_has_are_refused) {
    Node n;
    BOOST_TEST(has(n.refusal(n.worker, 600, 3), "register at most the node's cores"));
    n.policy.max_cores = 0;  // unknown: not checked
    BOOST_TEST(n.refusal(n.worker, 600, 3).empty());
}

BOOST_AUTO_TEST_CASE(a_process_the_worker_did_not_start_is_refused) {
    Node n;
    BOOST_TEST(has(n.refusal(n.worker, 700, 1), "register only the tasks you started"));
}

BOOST_AUTO_TEST_CASE(a_task_registering_its_own_parent_or_a_sibling_is_refused) {
    // A task runs as another uid than the worker's and cannot reach the
    // socket; were it let in as the worker's uid, its own children are all
    // it could name.
    Node n;
    PeerCred task{600, k_worker_uid, k_worker_uid};
    BOOST_TEST(has(n.refusal(task, 500, 1), "is not a process of the registering pid 600"));
    BOOST_TEST(n.refusal(task, 601, 1).empty());
}

BOOST_AUTO_TEST_CASE(a_uid_other_than_the_workers_or_root_is_refused) {
    Node n;
    PeerCred tenant{600, 1600, 1600};
    BOOST_TEST(has(n.refusal(tenant, 601, 1), "uid 1600 may not register tasks here"));
    // Nor may it unregister (pid 0).
    BOOST_TEST(has(n.refusal(tenant, 0, 0), "may not register"));
    PeerCred root{500, 0, 0};
    BOOST_TEST(n.refusal(root, 600, 1).empty());
    // Root, too, registers only its own tasks.
    BOOST_TEST(has(n.refusal(root, 1, 1), "not a process of"));
}

BOOST_AUTO_TEST_CASE(a_process_in_a_cgroup_below_the_workers_is_accepted_but_not_below_root) {
    Node n;
    // Moved out of the worker's tree (double fork, reparented to init) but
    // still in the task cgroup the worker made.
    n.proc(800, 1, "/system.slice/hearth-worker.service/task-j1-0-1");
    BOOST_TEST(n.refusal(n.worker, 800, 1).empty());
    // A sibling whose name merely starts like the worker's cgroup is not below it.
    n.proc(801, 1, "/system.slice/hearth-worker.service2/x");
    BOOST_TEST(has(n.refusal(n.worker, 801, 1), "not a process of"));
    // A worker in the root cgroup would have every process "below" it.
    n.proc(500, 1, "/");
    n.proc(802, 1, "/user.slice");
    BOOST_TEST(has(n.refusal(n.worker, 802, 1), "not a process of"));
}

BOOST_AUTO_TEST_CASE(a_process_that_is_gone_is_refused) {
    Node n;
    BOOST_TEST(has(n.refusal(n.worker, 4242, 1), "pid 4242 is not running"));
}

BOOST_AUTO_TEST_CASE(descent_stops_at_a_loop_of_parents) {
    Node n;
    n.proc(900, 901, "/x");
    n.proc(901, 900, "/x");
    BOOST_TEST(!descends_from(n.fs, 900, 500));
}

BOOST_AUTO_TEST_SUITE_END()
