// Tenants apart on one node (issue 18), with real uids: hearth runs as root
// here, so each tenant's tasks run as the grid file's user of that tenant
// (two users made for the suite with useradd, removed after it). A bank
// task writes a secret into its scratch directory, keeps a secret in its
// environment and waits; a studio task then tries, as a hostile tenant
// would, to read, list, signal, write and connect: each try a named case,
// each refused by the kernel.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <memory>
#include <thread>

#include "harness.hpp"
#include "heat_agent.hpp"

using namespace hearth::test;

namespace {

const char* const k_bank_user = "hearth-t-bank";
const char* const k_studio_user = "hearth-t-studio";

bool have_user(const char* name) {
    return ::getpwnam(name) != nullptr;
}

// The two users, the grid file naming them, and a bank task kept running
// for the whole suite.
struct Tenants {
    TempDir t;
    fs::path rv;  // where the tasks meet: world-writable, sticky, as /tmp
    pid_t bank_run = -1;
    std::string bank_dir, bank_pid;
    Tenants() {
        for (const char* u : {k_bank_user, k_studio_user})
            if (!have_user(u))
                std::system(("useradd --system --no-create-home --shell /usr/sbin/nologin " +
                             std::string(u) + " 2>/dev/null")
                                .c_str());
        fs::permissions(t.path, fs::perms::all);  // the tasks reach rv below it
        rv = t / "rv";
        fs::create_directories(rv);
        fs::permissions(rv, fs::perms::all | fs::perms::sticky_bit);
        std::ofstream(t / "grid.toml")
            << "[[site]]\nname = \"lab\"\nkind = \"room\"\ntarget = 20\nmin = 10\nmax = 30\n"
            << "[site.source]\ntype = \"static\"\nmeasured = 19\n"
            << "[[node]]\nname = \"n1\"\nsite = \"lab\"\nhost = \"localhost\"\nslots = 2\n"
            << "[[tenant]]\nname = \"bank\"\nuser = \"" << k_bank_user << "\"\n"
            << "[[tenant]]\nname = \"studio\"\nuser = \"" << k_studio_user << "\"\n";
        // The bank's task: a secret in its scratch directory and in its
        // environment, its pid and directory told to rv, then it waits for
        // the suite to end.
        const std::string r = rv.string();
        fs::create_directories(t / "bank");
        bank_run =
            start_hearth({"run", "--grid", (t / "grid.toml").string(), "--tenant", "bank",
                          "--count", "1", "--collect", "secret.txt", "--", "sh", "-c",
                          "echo bank-secret > secret.txt; pwd > " + r + "/bank.dir.tmp; mv " + r +
                              "/bank.dir.tmp " + r + "/bank.dir; echo $$ > " + r +
                              "/bank.pid; exec env BANK_KEY=s3cr3t sh -c 'while [ ! -e " + r +
                              "/release ]; do sleep 0.1; done'"},
                         t / "bank");
        for (int i = 0; i < 300 && !fs::exists(rv / "bank.dir"); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        bank_dir = trim(slurp(rv / "bank.dir"));
        bank_pid = trim(slurp(rv / "bank.pid"));
    }
    ~Tenants() {
        std::ofstream(rv / "release") << "1";
        if (bank_run > 0) wait_exit(bank_run);
        for (const char* u : {k_bank_user, k_studio_user})
            std::system(("userdel " + std::string(u) + " 2>/dev/null").c_str());
    }
    static std::string trim(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s;
    }
    // Runs script as a task of the studio; what it printed (its log).
    std::string as_studio(const std::string& script) {
        static int n = 0;
        fs::path cwd = t / ("studio" + std::to_string(++n));
        fs::create_directories(cwd);
        // In a file: braces on a command line are hearth's placeholders.
        const fs::path sh = rv / ("studio" + std::to_string(n) + ".sh");
        const std::string out = (rv / ("studio" + std::to_string(n) + ".out")).string();
        std::ofstream(sh) << "exec > " << out << " 2>&1\n" << script << "\nexit 0\n";
        fs::permissions(sh, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
        Result r = run_hearth({"run", "--grid", (t / "grid.toml").string(), "--tenant", "studio",
                               "--count", "1", "--", "sh", sh.string()},
                              cwd);
        BOOST_TEST_INFO("hearth run: " << r.err);
        BOOST_TEST(r.code == 0);
        return slurp(out);
    }
};

Tenants* g_tenants = nullptr;
struct SuiteFixture {
    std::unique_ptr<Tenants> owned;
    void setup() {
        owned = std::make_unique<Tenants>();
        g_tenants = owned.get();
    }
    void teardown() {
        g_tenants = nullptr;
        owned.reset();
    }
};

boost::test_tools::assertion_result tenants_possible(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(::geteuid() == 0 &&
                                          std::system("command -v useradd >/dev/null") == 0);
    if (!r) r.message() << "needs root and useradd, to run tasks as two tenants' users";
    return r;
}

bool refused(const std::string& out) {
    return out.find("Permission denied") != std::string::npos ||
           out.find("Operation not permitted") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tenants, *boost::unit_test::precondition(tenants_possible) *
                                   boost::unit_test::fixture<SuiteFixture>())

BOOST_AUTO_TEST_CASE(each_tenants_task_runs_as_its_own_user_in_a_0700_directory) {
    Tenants& w = *g_tenants;
    BOOST_TEST_REQUIRE(!w.bank_dir.empty(), "the bank's task did not start");
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(w.bank_dir.c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == ::getpwnam(k_bank_user)->pw_uid);
    BOOST_TEST((st.st_mode & 0777) == 0700u);
    std::string id = w.as_studio("id -un; id -u");
    BOOST_TEST(id.find(k_studio_user) != std::string::npos, id);
    BOOST_TEST(id.find("\n0\n") == std::string::npos, id);
}

BOOST_AUTO_TEST_CASE(a_studio_task_cannot_read_the_banks_scratch_files) {
    std::string out = g_tenants->as_studio("cat " + g_tenants->bank_dir + "/secret.txt");
    BOOST_TEST(out.find("bank-secret") == std::string::npos, out);
    BOOST_TEST(refused(out), out);
}

BOOST_AUTO_TEST_CASE(a_studio_task_cannot_list_the_banks_scratch_directory) {
    std::string out = g_tenants->as_studio("ls " + g_tenants->bank_dir);
    BOOST_TEST(out.find("secret.txt") == std::string::npos, out);
    BOOST_TEST(refused(out), out);
}

BOOST_AUTO_TEST_CASE(a_studio_task_cannot_read_the_banks_environment) {
    std::string out = g_tenants->as_studio("cat /proc/" + g_tenants->bank_pid + "/environ");
    BOOST_TEST(out.find("s3cr3t") == std::string::npos, out);
    BOOST_TEST(refused(out), out);
}

BOOST_AUTO_TEST_CASE(a_studio_task_cannot_signal_the_banks_task) {
    std::string out = g_tenants->as_studio("kill -KILL " + g_tenants->bank_pid);
    BOOST_TEST(refused(out), out);
    BOOST_TEST(::kill(std::stoi(g_tenants->bank_pid), 0) == 0);  // still running
}

BOOST_AUTO_TEST_CASE(a_studio_task_cannot_write_under_the_banks_job_directory) {
    const std::string job_dir = fs::path(g_tenants->bank_dir).parent_path().string();
    std::string out = g_tenants->as_studio("touch " + job_dir + "/planted; touch " +
                                           g_tenants->bank_dir + "/planted; ls " + job_dir);
    BOOST_TEST(!fs::exists(job_dir + "/planted"));
    BOOST_TEST(!fs::exists(g_tenants->bank_dir + "/planted"));
    BOOST_TEST(refused(out), out);
}

BOOST_AUTO_TEST_CASE(a_studio_task_cannot_reach_the_agents_socket) {
    Tenants& w = *g_tenants;
    fs::path d = w.t / "agent";
    fs::create_directories(d);
    fs::permissions(d, fs::perms::all);  // only the socket's own mode stands in the way
    HeatAgent agent(d, w.t / "grid.toml");
    std::string out =
        w.as_studio("python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('" +
                    agent.socket + "'); s.sendall(b'{}'); print(s.recv(99))\"");
    BOOST_TEST(out.find("PermissionError") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(the_banks_own_task_reads_its_files_and_the_worker_collects_them) {
    // The control: what the studio was refused, the bank's own user may do.
    Tenants& w = *g_tenants;
    std::ofstream(w.rv / "release") << "1";
    BOOST_TEST(wait_exit(w.bank_run) == 0);
    w.bank_run = -1;
    bool found = false;
    for (const auto& e : fs::recursive_directory_iterator(w.t / "bank"))
        if (e.path().filename() == "secret.txt" && slurp(e.path()) == "bank-secret\n") found = true;
    BOOST_TEST(found, "the bank's output secret.txt was not collected");
}

BOOST_AUTO_TEST_SUITE_END()
