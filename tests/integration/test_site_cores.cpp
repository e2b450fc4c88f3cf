// Cores and memory through the shared grid: hearth serve and hearth site on
// loopback (one node, this machine, its cores in the grid file), jobs
// submitted with --cores-per-task and --mem-per-task. Every task writes its
// start and end, its CPU affinity (/proc/self/status Cpus_allowed_list) and
// OMP_NUM_THREADS into a spans file: tasks of 2 cores run on 2 cores each,
// concurrent tasks never share a core, and the cores held at once never
// pass the node's, with tasks of 1 and 2 cores mixed. A task asking for more
// memory or cores than any node of the grid file has is refused at submit.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "harness.hpp"

using namespace hearth::test;

namespace {

template <class F>
bool eventually(F&& f, int seconds) {
    for (int i = 0; i < seconds * 5; ++i) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return f();
}

unsigned cores_here() {
    return static_cast<unsigned>(std::stoul(sh_out("hwloc-calc --number-of core machine:0")));
}

// The node: this machine's cores (at most 4) and its memory, in MiB.
unsigned node_cores() {
    return std::min(4u, cores_here());
}

std::uint64_t mem_total_mib() {
    return std::stoull(sh_out("awk '/^MemTotal:/ {print $2}' /proc/meminfo")) / 1024;
}

std::string grid_text() {
    return R"(
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
slots = )" +
           std::to_string(node_cores()) + "\nmemory = \"" + std::to_string(mem_total_mib()) +
           "M\"\n";
}

struct Background {
    pid_t pid = -1;
    int sig = SIGTERM;
    ~Background() { stop(); }
    int stop() {
        if (pid <= 0) return 0;
        ::kill(pid, sig);
        const int code = wait_exit(pid);
        pid = -1;
        return code;
    }
};

struct Grid {
    TempDir t;
    std::string token, site_token, url;
    Background serve, site;

    Grid() {
        std::ofstream(t / "grid.toml") << grid_text();
        for (const char* role : {"tenant:lab", "site:home"}) {
            Result r = run_hearth(
                {"token", "new", "--role", role, "--tokens", (t / "tokens").string()}, t.path);
            BOOST_TEST_REQUIRE(r.code == 0, r.err);
            (std::string(role) == "site:home" ? site_token : token) =
                r.out.substr(0, r.out.find('\n'));
        }
        std::ofstream(t / "site.token") << site_token << "\n";
        ::chmod((t / "site.token").c_str(), 0600);
        fs::create_directories(t / "serve");
        serve.sig = SIGKILL;
        serve.pid = start_hearth(
            {"serve", "--grid", (t / "grid.toml").string(), "--state", (t / "queue").string(),
             "--listen", "127.0.0.1:0", "--tokens", (t / "tokens").string()},
            t / "serve");
        const std::string port = listening_port(t / "serve");
        BOOST_TEST_REQUIRE(!port.empty(),
                           "hearth serve did not start: " + slurp(t / "serve" / ".bg.err"));
        url = "http://127.0.0.1:" + port;
        // The tasks run as the tenant's user where the site is root: they
        // reach the spans file, and only it.
        fs::permissions(t.path,
                        fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        std::ofstream(t / "spans").close();
        fs::permissions(t / "spans",
                        fs::perms::all & ~(fs::perms::owner_exec | fs::perms::group_exec |
                                           fs::perms::others_exec));
    }

    void start_site() {
        fs::create_directories(t / "site");
        site.pid = start_hearth(
            {"site", "--grid", (t / "grid.toml").string(), "--site", "home", "--server", url,
             "--token-file", (t / "site.token").string(), "--state", (t / "state").string()},
            t / "site");
    }

    Result client(const std::vector<std::string>& args) {
        fs::create_directories(t / "client" / "home");
        return run_hearth(args, t / "client",
                          "env -u HEARTH_TOKEN_FILE -u HEARTH_CACERT -u HEARTH_TENANT HOME=" +
                              quote((t / "client" / "home").string()) +
                              " HEARTH_TOKEN=" + quote(token) + " HEARTH_SERVER=" + quote(url));
    }

    // count tasks of `cores` cores, each noting its span, affinity and threads.
    std::string submit(const std::string& name, int count, unsigned cores) {
        const std::string spans = quote((t / "spans").string());
        const std::string script =
            "echo \"s $(date +%s%N) " + name +
            "-$HEARTH_TASK $(grep Cpus_allowed_list /proc/self/status | cut -f2) "
            "$OMP_NUM_THREADS $HEARTH_CORES\" >> " +
            spans + "; sleep 1; echo \"e $(date +%s%N) " + name + "-$HEARTH_TASK\" >> " + spans;
        Result r = client({"submit", "--name", name, "--count", std::to_string(count),
                           "--cores-per-task", std::to_string(cores), "--", "sh", "-c", script});
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        return r.out.substr(0, r.out.find('\n'));
    }

    std::string state(const std::string& id) {
        Result r = client({"status", id, "--json"});
        if (r.code != 0) return "";
        return nlohmann::json::parse(r.out, nullptr, false).value("state", "");
    }

    std::string logs() {
        return "site: " + slurp(t / "site" / ".bg.err") +
               "\nmpirun: " + slurp(t / "state" / "mpirun.log") +
               "\nserve: " + slurp(t / "serve" / ".bg.err") + "\nspans:\n" + slurp(t / "spans");
    }
};

// "0-1" or "0,2-3"
std::set<int> cpu_set(const std::string& list) {
    std::set<int> s;
    std::stringstream ss(list);
    std::string part;
    while (std::getline(ss, part, ',')) {
        const auto dash = part.find('-');
        const int a = std::stoi(part.substr(0, dash));
        const int b = dash == std::string::npos ? a : std::stoi(part.substr(dash + 1));
        for (int c = a; c <= b; ++c) s.insert(c);
    }
    return s;
}

struct Span {
    long long start = 0, end = 0;
    std::set<int> cpus;
    std::string threads, cores;
};

std::map<std::string, Span> read_spans(const fs::path& file) {
    std::map<std::string, Span> spans;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string kind, task, cpus, threads, cores;
        long long ns = 0;
        ss >> kind >> ns >> task;
        if (kind == "s") {
            ss >> cpus >> threads >> cores;
            Span& s = spans[task];
            s.start = ns;
            s.cpus = cpu_set(cpus);
            s.threads = threads;
            s.cores = cores;
        } else if (kind == "e") {
            spans[task].end = ns;
        }
    }
    return spans;
}

bool overlap(const Span& a, const Span& b) {
    return a.start < b.end && b.start < a.end;
}

// Over every instant a task started: the cores the tasks running then hold
// (their affinity), and whether two of them share one.
struct Peak {
    std::size_t cores = 0;
    bool shared = false;
};

Peak peak(const std::map<std::string, Span>& spans) {
    Peak p;
    for (const auto& [name, at] : spans) {
        std::size_t held = 0;
        std::multiset<int> cpus;
        for (const auto& [other, s] : spans)
            if (s.start <= at.start && at.start < s.end) {
                held += s.cpus.size();
                cpus.insert(s.cpus.begin(), s.cpus.end());
            }
        p.cores = std::max(p.cores, held);
        for (int c : cpus) p.shared = p.shared || cpus.count(c) > 1;
    }
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(site_cores)

BOOST_AUTO_TEST_CASE(tasks_of_two_cores_hold_two_cores_each_and_never_share_one) {
    Grid g;
    const unsigned cores = node_cores();
    const std::string id = g.submit("wide", 4, 2);
    g.start_site();
    BOOST_TEST_REQUIRE(eventually([&] { return g.state(id) == "finished"; }, 120), g.logs());
    const auto spans = read_spans(g.t / "spans");
    BOOST_TEST_REQUIRE(spans.size() == 4u, g.logs());
    for (const auto& [name, s] : spans) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(s.end > s.start);
            BOOST_TEST(s.cpus.size() == std::min(2u, cores));
            BOOST_TEST(s.threads == "2");  // OMP_NUM_THREADS
            BOOST_TEST(s.cores == "2");    // HEARTH_CORES
        }
    }
    // At most cores / 2 at once (one on a 2-core machine), disjoint cores.
    std::size_t most = 0;
    for (const auto& [a, sa] : spans) {
        std::size_t now = 0;
        for (const auto& [b, sb] : spans) {
            if (!overlap(sa, sb)) continue;
            ++now;
            if (a == b) continue;
            std::vector<int> both;
            std::set_intersection(sa.cpus.begin(), sa.cpus.end(), sb.cpus.begin(), sb.cpus.end(),
                                  std::back_inserter(both));
            BOOST_TEST(both.empty(), a << " and " << b << " ran at once on a shared core");
        }
        most = std::max(most, now);
    }
    BOOST_TEST(most <= std::max(1u, cores / 2));
    BOOST_TEST(g.site.stop() == 0, g.logs());
}

BOOST_AUTO_TEST_CASE(tasks_of_one_and_two_cores_together_never_oversubscribe_the_node) {
    Grid g;
    const unsigned cores = node_cores();
    const std::string narrow = g.submit("narrow", 6, 1);
    const std::string wide = g.submit("wide", 3, 2);
    g.start_site();
    BOOST_TEST_REQUIRE(
        eventually([&] { return g.state(narrow) == "finished" && g.state(wide) == "finished"; },
                   180),
        g.logs());
    const auto spans = read_spans(g.t / "spans");
    BOOST_TEST_REQUIRE(spans.size() == 9u, g.logs());
    for (const auto& [name, s] : spans) {
        const unsigned want = name.rfind("wide", 0) == 0 ? 2 : 1;
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(s.cpus.size() == std::min(want, cores));
            BOOST_TEST(s.threads == std::to_string(want));
        }
    }
    const Peak p = peak(spans);
    BOOST_TEST(p.cores <= cores, g.logs());
    BOOST_TEST(!p.shared, g.logs());
    BOOST_TEST(g.site.stop() == 0, g.logs());
}

// --gpus-per-task through the shared grid: the site's worker gives each task
// a GPU of the node's (gpus = 1 in the grid file) that no running task holds,
// so the tasks run one at a time although the node has cores for more.
BOOST_AUTO_TEST_CASE(a_served_gpu_task_waits_for_its_gpu) {
    Grid g;
    std::ofstream(g.t / "grid.toml", std::ios::app) << "gpus = 1\n";
    const std::string spans = quote((g.t / "spans").string());
    const std::string script =
        "echo \"s $(date +%s%N) gpu-$HEARTH_TASK $CUDA_VISIBLE_DEVICES "
        "$CUDA_DEVICE_ORDER\" >> " +
        spans + "; sleep 1; echo \"e $(date +%s%N) gpu-$HEARTH_TASK\" >> " + spans;
    Result r = g.client({"submit", "--name", "gpu", "--count", "3", "--gpus-per-task", "1", "--",
                         "sh", "-c", script});
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const std::string id = r.out.substr(0, r.out.find('\n'));
    g.start_site();
    BOOST_TEST_REQUIRE(eventually([&] { return g.state(id) == "finished"; }, 120), g.logs());
    const auto got = read_spans(g.t / "spans");
    BOOST_TEST_REQUIRE(got.size() == 3u, g.logs());
    for (const auto& [name, s] : got) {
        // read_spans reads the GPU list where it reads the affinity and the
        // order where it reads the thread count.
        BOOST_TEST((s.cpus == std::set<int>{0}), name << " saw other GPUs; " << g.logs());
        BOOST_TEST(s.threads == "PCI_BUS_ID", name);
        for (const auto& [other, o] : got)
            if (other != name)
                BOOST_TEST(!overlap(s, o), name << " and " << other << " shared the GPU");
    }
    // The scheduler counts the GPU its attempt out there holds: it granted
    // each task only after the one before had ended (not all three at once
    // to wait in the site's queue), as its attempts' grant times say.
    std::vector<long long> ends;
    for (const auto& [name, s] : got) ends.push_back(s.end);
    std::sort(ends.begin(), ends.end());
    std::stringstream granted(sh_out(
        "sqlite3 " + quote((g.t / "queue" / "queue.db").string()) + " " +
        quote("SELECT started_ms FROM attempts WHERE job = '" + id + "' ORDER BY started_ms")));
    std::vector<long long> grants;
    for (long long ms = 0; granted >> ms;) grants.push_back(ms);
    BOOST_TEST_REQUIRE(grants.size() == 3u, g.logs());
    for (std::size_t k = 1; k < grants.size(); ++k)
        BOOST_TEST(grants[k] * 1'000'000 + 999'999 >= ends[k - 1],
                   "grant " << k << " at " << grants[k] << " ms, before task " << k - 1
                            << " ended at " << ends[k - 1] << " ns");
    BOOST_TEST(g.site.stop() == 0, g.logs());
}

// A node without GPUs (gpus = 0, as the site reports it) is never granted a
// GPU task: the job waits, and says why.
BOOST_AUTO_TEST_CASE(a_served_gpu_task_is_not_granted_to_a_node_without_gpus) {
    Grid g;
    std::ofstream(g.t / "grid.toml", std::ios::app) << "gpus = 0\n";
    Result r = g.client(
        {"submit", "--name", "gpu", "--count", "2", "--gpus-per-task", "1", "--", "sh", "-c",
         "echo \"s $(date +%s%N) gpu-$HEARTH_TASK\" >> " + quote((g.t / "spans").string())});
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const std::string id = r.out.substr(0, r.out.find('\n'));
    g.start_site();
    std::string waiting;
    const bool says = eventually(
        [&] {
            Result st = g.client({"status", id, "--json"});
            if (st.code != 0) return false;
            waiting = nlohmann::json::parse(st.out, nullptr, false).value("waiting", "");
            return !waiting.empty();
        },
        60);
    BOOST_TEST(says, g.logs());
    BOOST_TEST(waiting.find("1 GPUs") != std::string::npos, waiting);
    BOOST_TEST(waiting.find("the most GPUs 0") != std::string::npos, waiting);
    BOOST_TEST(g.state(id) == "queued", g.logs());
    BOOST_TEST(slurp(g.t / "spans").empty(), g.logs());  // no task ran
    BOOST_TEST(g.site.stop() == 0, g.logs());
}

BOOST_AUTO_TEST_CASE(a_task_larger_than_every_node_is_refused_at_submit_in_one_line) {
    Grid g;
    Result mem = g.client({"submit", "--count", "1", "--mem-per-task", "64T", "--", "true"});
    BOOST_TEST(mem.code == 2);
    BOOST_TEST(mem.err.find("'mem_per_task' 64 TiB is more than any node has") != std::string::npos,
               mem.err);
    BOOST_TEST(std::count(mem.err.begin(), mem.err.end(), '\n') == 1, mem.err);
    Result cores = g.client({"submit", "--count", "1", "--cores-per-task", "64", "--", "true"});
    BOOST_TEST(cores.code == 2);
    BOOST_TEST(cores.err.find("'cores_per_task' 64 is more than any node has") != std::string::npos,
               cores.err);
    BOOST_TEST(std::count(cores.err.begin(), cores.err.end(), '\n') == 1, cores.err);
    // A size that fits is taken.
    Result fits = g.client({"submit", "--count", "1", "--mem-per-task", "16M", "--", "true"});
    BOOST_TEST(fits.code == 0, fits.err);
}

// The site's worker holds a task to its --mem-per-task as hearth run does:
// 256 MiB of data fails under a 64M limit and passes under 1G.
BOOST_AUTO_TEST_CASE(a_served_task_is_held_to_its_memory) {
    Grid g;
    const auto submit = [&](const std::string& size) {
        Result r = g.client({"submit", "--count", "1", "--retries", "0", "--mem-per-task", size,
                             "--", "python3", "-c", "b = bytearray(256 << 20); print(len(b))"});
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        return r.out.substr(0, r.out.find('\n'));
    };
    const std::string small = submit("64M");
    const std::string large = submit("1G");
    g.start_site();
    BOOST_TEST_REQUIRE(
        eventually([&] { return g.state(small) == "failed" && g.state(large) == "finished"; }, 120),
        g.logs());
    Result log = g.client({"logs", small, "0"});
    BOOST_TEST(log.out.find("MemoryError") != std::string::npos, log.out + log.err);
    BOOST_TEST(g.site.stop() == 0, g.logs());
}

BOOST_AUTO_TEST_SUITE_END()
