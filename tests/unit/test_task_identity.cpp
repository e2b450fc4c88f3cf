// Which user a tenant's tasks run as, and becoming it (core/task_identity,
// core/task_confine), against a fake user database and fake credential
// calls that refuse what the kernel refuses.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.hpp"
#include "core/task_confine.hpp"
#include "core/task_identity.hpp"
#include "tests/fakes/fake_identity.hpp"
#include "tests/unit/support.hpp"

using namespace hearth;
using hearth::test::FakeIdentityOps;
using hearth::test::FakeUserDb;
using hearth::test::TempDir;

namespace {

DynamicUidRange range_in(const TempDir& d, uid_t first = 61184, uid_t last = 61190) {
    DynamicUidRange r;
    r.first = first;
    r.last = last;
    r.dir = d.file("uids");
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(task_identity)

BOOST_AUTO_TEST_CASE(a_tenant_with_a_grid_user_runs_as_that_user_with_its_groups_but_not_root_s) {
    TempDir d;
    FakeUserDb db;
    db.add("hearth-bank", 1201, 1201, {1201, 0, 1300});
    TaskIdentity id = resolve_task_identity(db, range_in(d), 0, "bank", "hearth-bank");
    BOOST_TEST(id.separate);
    BOOST_TEST(id.uid == 1201u);
    BOOST_TEST(id.gid == 1201u);
    BOOST_TEST((id.groups == std::vector<gid_t>{1201, 1300}));
}

BOOST_AUTO_TEST_CASE(a_missing_user_or_root_is_refused_with_the_fix) {
    TempDir d;
    FakeUserDb db;
    db.add("root", 0, 0);
    db.add("wheel-ish", 1500, 0);
    auto says = [](const std::string& part) {
        return [part](const Error& e) {
            return std::string(e.what()).find(part) != std::string::npos;
        };
    };
    BOOST_CHECK_EXCEPTION(resolve_task_identity(db, range_in(d), 0, "bank", "hearth-bank"), Error,
                          says("useradd --system --no-create-home hearth-bank"));
    BOOST_CHECK_EXCEPTION(resolve_task_identity(db, range_in(d), 0, "bank", "root"), Error,
                          says("tasks never run as root"));
    BOOST_CHECK_EXCEPTION(resolve_task_identity(db, range_in(d), 0, "bank", "wheel-ish"), Error,
                          says("in group root"));
}

BOOST_AUTO_TEST_CASE(tenants_without_a_user_get_distinct_uids_that_stay_theirs) {
    TempDir d;
    FakeUserDb db;
    auto r = range_in(d);
    db.taken.insert(61186);
    std::map<std::string, uid_t> got;
    for (const std::string t : {"bank", "studio", "lab", "uni"}) {
        TaskIdentity id = resolve_task_identity(db, r, 0, t, "");
        BOOST_TEST(id.separate);
        BOOST_TEST(id.uid >= 61184u);
        BOOST_TEST(id.uid <= 61190u);
        BOOST_TEST(id.uid != 61186u);  // in use already
        BOOST_TEST(id.gid == id.uid);
        got[t] = id.uid;
    }
    std::set<uid_t> distinct;
    for (auto& [t, u] : got) distinct.insert(u);
    BOOST_TEST(distinct.size() == 4u);
    // Asked again (another worker of this node, or the next job): the same.
    for (auto& [t, u] : got) BOOST_TEST(dynamic_uid(r, db, t) == u);
    BOOST_TEST(((std::filesystem::status(r.dir).permissions() & std::filesystem::perms::all) ==
                std::filesystem::perms::owner_all));
}

BOOST_AUTO_TEST_CASE(a_full_range_is_an_error_naming_the_setting) {
    TempDir d;
    FakeUserDb db;
    auto r = range_in(d, 61184, 61185);
    dynamic_uid(r, db, "a");
    dynamic_uid(r, db, "b");
    BOOST_CHECK_EXCEPTION(dynamic_uid(r, db, "c"), Error, [](const Error& e) {
        return std::string(e.what()).find("HEARTH_TASK_UIDS") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(two_workers_allocating_at_once_give_each_tenant_one_uid) {
    TempDir d;
    FakeUserDb db;
    auto r = range_in(d, 61184, 61300);
    std::vector<uid_t> a(8), b(8);
    std::thread t1([&] {
        for (int i = 0; i < 8; ++i) a[i] = dynamic_uid(r, db, "t" + std::to_string(i));
    });
    std::thread t2([&] {
        for (int i = 0; i < 8; ++i) b[i] = dynamic_uid(r, db, "t" + std::to_string(i));
    });
    t1.join();
    t2.join();
    BOOST_TEST(a == b);
    BOOST_TEST(std::set<uid_t>(a.begin(), a.end()).size() == 8u);
}

BOOST_AUTO_TEST_CASE(a_bad_uid_range_is_a_usage_error) {
    BOOST_TEST(parse_uid_range("70000-70999").first == 70000u);
    for (const std::string bad : {"", "61184", "10-20", "5000-4000", "61184-x", "-1-5"})
        BOOST_CHECK_EXCEPTION(parse_uid_range(bad), Error,
                              hearth::test::usage_mentioning("HEARTH_TASK_UIDS"));
}

BOOST_AUTO_TEST_CASE(without_root_tasks_run_as_the_worker_and_the_note_says_why) {
    TempDir d;
    FakeUserDb db;
    TaskIdentity id = resolve_task_identity(db, range_in(d), 1000, "bank", "hearth-bank");
    BOOST_TEST(!id.separate);
    BOOST_TEST(id.uid == 1000u);
    BOOST_TEST(not_separated_note(1000).find("tenants are not separated") != std::string::npos);
    BOOST_TEST(not_separated_note(1000).find("needs root") != std::string::npos);
    BOOST_TEST(not_separated_note(0).empty());
    // Nothing to do in the child.
    FakeIdentityOps ops;
    BOOST_TEST(enter_task_identity(id, ops) == 0);
    BOOST_TEST(ops.calls.empty());
}

BOOST_AUTO_TEST_CASE(the_child_drops_groups_then_gid_then_uid_and_cannot_come_back) {
    FakeIdentityOps ops;
    TaskIdentity id{true, 1201, 1201, {1201, 1300}, "hearth-bank"};
    BOOST_TEST(enter_task_identity(id, ops) == 0);
    BOOST_TEST((ops.calls ==
                std::vector<std::string>{"setgroups", "setgid 1201", "setuid 1201", "setuid 0"}));
    BOOST_TEST(ops.uid == 1201u);
    BOOST_TEST(ops.gid == 1201u);
    BOOST_TEST((ops.groups == std::vector<gid_t>{1201, 1300}));
}

BOOST_AUTO_TEST_CASE(an_identity_of_root_or_a_failed_setuid_is_refused_in_the_child) {
    FakeIdentityOps ops;
    BOOST_TEST(enter_task_identity(TaskIdentity{true, 0, 0, {}, "root"}, ops) == EPERM);
    BOOST_TEST(ops.calls.empty());
    FakeIdentityOps failing;
    failing.fail_uid = EAGAIN;  // RLIMIT_NPROC of the target user
    TaskConfinement c;
    c.identity = TaskIdentity{true, 1201, 1201, {}, "hearth-bank"};
    ConfineResult r = confine_in_child(c, failing);
    BOOST_TEST(static_cast<int>(r.step) == static_cast<int>(ConfineStep::identity));
    BOOST_TEST(describe(r, c).find("cannot run the task as hearth-bank") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_scratch_tree_is_given_to_the_tenant_without_following_links) {
    TempDir d;
    std::filesystem::create_directories(d.path() / "d0/sub");
    std::ofstream(d.path() / "d0/sub/in.txt") << "x";
    std::filesystem::create_symlink("/etc/passwd", d.path() / "d0/link");
    FakeIdentityOps ops;
    give_tree(d.file("d0"), TaskIdentity{true, 1201, 1201, {}, "hearth-bank"}, ops);
    BOOST_TEST(ops.owners.size() == 4u);  // d0, sub, in.txt and the link itself (lchown)
    BOOST_TEST(ops.owners.count(d.file("d0/link")) == 1u);
    BOOST_TEST(ops.owners.count("/etc/passwd") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
