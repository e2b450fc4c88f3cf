// A full disk at the job directory: the runner stops dispatching with one
// line that names the job directory, the error and the fix; the journal stays
// readable and keeps every committed task; once space is freed, `hearth
// resume` finishes the job without rerunning a committed task.
//
// The job directory sits on a small tmpfs mounted for the test, so the suite
// needs root (or CAP_SYS_ADMIN) and is skipped, saying why, where mount(2) is
// not permitted.
#include <sys/mount.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>

#include "harness.hpp"

using namespace hearth::test;

namespace {

// A tmpfs of `size` at dir for the life of the object; unmounted however the
// test ends.
class Tmpfs {
public:
    Tmpfs(const fs::path& dir, const std::string& size) : m_dir(dir) {
        fs::create_directories(dir);
        const std::string opts = "size=" + size + ",mode=0755";
        if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0)
            m_mounted = true;
        else
            m_error = std::strerror(errno);
    }
    ~Tmpfs() {
        if (!m_mounted) return;
        // Lazily if a straggler still has a file open there.
        if (::umount(m_dir.c_str()) != 0) ::umount2(m_dir.c_str(), MNT_DETACH);
    }
    Tmpfs(const Tmpfs&) = delete;
    Tmpfs& operator=(const Tmpfs&) = delete;

    bool mounted() const { return m_mounted; }
    const std::string& error() const { return m_error; }
    // Frees space the way an operator adding a disk would: the same files, more room.
    bool grow(const std::string& size) {
        const std::string opts = "size=" + size;
        return ::mount("tmpfs", m_dir.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
    }

private:
    fs::path m_dir;
    bool m_mounted = false;
    std::string m_error;
};

boost::test_tools::assertion_result can_mount(boost::unit_test::test_unit_id) {
    TempDir t;
    Tmpfs m(t / "probe", "1M");
    boost::test_tools::assertion_result r(m.mounted());
    if (!m.mounted())
        r.message() << "cannot mount a tmpfs here (" << m.error()
                    << "); the full-disk tests need root or CAP_SYS_ADMIN";
    return r;
}

// Lines of the journal that do not parse as JSON objects, the torn last line
// (no newline at its end) aside: readers ignore that one.
std::vector<std::string> unreadable_lines(const fs::path& journal) {
    std::string text = slurp(journal);
    if (!text.empty() && text.back() != '\n') text.erase(text.rfind('\n') + 1);
    std::vector<std::string> bad;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("e")) bad.push_back(line);
    }
    return bad;
}

std::map<std::uint64_t, int> commits(const fs::path& job) {
    std::map<std::uint64_t, int> n;
    for (const auto& r : journal(job))
        if (r["e"] == "done") n[r["t"].get<std::uint64_t>()]++;
    return n;
}

std::multiset<std::uint64_t> runs_in(const std::string& text) {
    std::multiset<std::uint64_t> runs;
    std::stringstream ss(text);
    std::uint64_t task;
    while (ss >> task) runs.insert(task);
    return runs;
}

// What the stop must look like: exit 4, one line on stderr with the job
// directory, the error and the fix; a readable journal. Returns the tasks
// committed before the stop. Commands run in cwd, off the full disk (their
// output is captured in files there).
std::map<std::uint64_t, int> check_the_stop(const Result& r, const fs::path& job,
                                            const fs::path& cwd) {
    BOOST_TEST(r.code == 4, r.err);
    BOOST_TEST(count_lines(r.err) == 1u, r.err);
    BOOST_TEST(r.err.find("No space left on device") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("job directory " + job.string()) != std::string::npos, r.err);
    BOOST_TEST(r.err.find("free space") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("hearth resume " + job.string()) != std::string::npos, r.err);
    auto bad = unreadable_lines(job / "journal");
    BOOST_TEST(bad.empty(), "unreadable journal line: " << (bad.empty() ? "" : bad.front()));
    // The journal reader of `hearth status` takes it as it is.
    Result st = run_hearth({"status", job.string(), "--json"}, cwd);
    BOOST_TEST(st.code == 0, st.err);
    auto c = commits(job);
    if (st.code == 0)
        BOOST_TEST(nlohmann::json::parse(st.out)["done"].get<std::size_t>() == c.size());
    for (const auto& [task, n] : c)
        BOOST_TEST(n == 1, "task " << task << " committed " << n << " times");
    return c;
}

// After space is freed: resume finishes every task, each committed once, and
// no task committed before the stop ran again.
void check_resume(const fs::path& job, const fs::path& cwd, std::uint64_t tasks,
                  const std::string& runs_file, const std::map<std::uint64_t, int>& before) {
    const std::string runs_at_stop = slurp(runs_file);
    Result r = run_hearth({"resume", job.string(), "--quiet"}, cwd);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    auto c = commits(job);
    BOOST_TEST(c.size() == tasks);
    for (const auto& [task, n] : c)
        BOOST_TEST(n == 1, "task " << task << " committed " << n << " times");
    for (auto task : runs_in(slurp(runs_file).substr(runs_at_stop.size())))
        BOOST_TEST(before.count(task) == 0u, "task " << task << " was committed but ran again");
    BOOST_TEST(summary(job)["committed"].get<std::uint64_t>() == tasks);
    BOOST_TEST(unreadable_lines(job / "journal").empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(disk_full, *boost::unit_test::precondition(can_mount))

BOOST_AUTO_TEST_CASE(collected_outputs_fill_the_disk) {
    TempDir t;
    Tmpfs disk(t / "disk", "2M");
    BOOST_TEST_REQUIRE(disk.mounted(), disk.error());
    const fs::path job = t / "disk" / "job";
    const std::string runs = (t / "runs.txt").string();  // off the full disk
    // 16 outputs of 256 KiB: about half fit in 2 MiB.
    const std::uint64_t tasks = 16;
    Result r =
        run_hearth({"run", "--tenant", "t", "--count", std::to_string(tasks), "--slots", "2",
                    "--collect", "out_*.bin", "--job-dir", job.string(), "--quiet", "--", "sh",
                    "-c", "echo {task} >> " + runs + "; head -c 262144 /dev/zero > out_{task}.bin"},
                   t.path);
    auto before = check_the_stop(r, job, t.path);
    BOOST_TEST_REQUIRE(before.size() > 0u);
    BOOST_TEST_REQUIRE(before.size() < tasks);
    // Every committed task's output is whole; no half-written file is left.
    for (const auto& [task, n] : before)
        BOOST_TEST(fs::file_size(job / "out" / ("out_" + std::to_string(task) + ".bin")) ==
                   262144u);
    for (const auto& e : fs::directory_iterator(job / "out"))
        BOOST_TEST(e.path().filename().string().find(".hearth-tmp") == std::string::npos, e.path());

    BOOST_TEST_REQUIRE(disk.grow("16M"));
    check_resume(job, t.path, tasks, runs, before);
    for (std::uint64_t task = 0; task < tasks; ++task)
        BOOST_TEST(fs::file_size(job / "out" / ("out_" + std::to_string(task) + ".bin")) ==
                   262144u);
}

BOOST_AUTO_TEST_CASE(another_writer_fills_the_disk_under_the_logs) {
    TempDir t;
    Tmpfs disk(t / "disk", "2M");
    BOOST_TEST_REQUIRE(disk.mounted(), disk.error());
    const fs::path job = t / "disk" / "job";
    const std::string runs = (t / "runs.txt").string();
    const std::uint64_t tasks = 300;
    // Each task logs 1 KiB, so that the log store and the journal keep growing.
    pid_t pid = start_hearth(
        {"run", "--tenant", "t", "--count", std::to_string(tasks), "--slots", "2", "--job-dir",
         job.string(), "--quiet", "--", "sh", "-c",
         "echo {task} >> " + runs + "; head -c 1024 /dev/zero | tr '\\0' x; sleep 0.05"},
        t.path);
    BOOST_TEST_REQUIRE(
        wait_for([&] { return commits(job).size() >= 20; }, std::chrono::seconds(60)),
        slurp(t / ".bg.err"));
    // Someone else's file takes every free byte, as a runaway log would.
    std::system(
        ("head -c 8M /dev/zero > " + quote((t / "disk" / "filler").string()) + " 2>/dev/null")
            .c_str());
    Result r;
    r.code = wait_exit(pid);
    r.err = slurp(t / ".bg.err");
    auto before = check_the_stop(r, job, t.path);
    BOOST_TEST_REQUIRE(before.size() >= 20u);
    BOOST_TEST_REQUIRE(before.size() < tasks);
    // Every committed task's log is where its journal line says.
    Result lg = run_hearth({"logs", job.string(), std::to_string(before.begin()->first)}, t.path);
    BOOST_TEST(lg.out.find(std::string(1024, 'x')) != std::string::npos, lg.err);

    fs::remove(t / "disk" / "filler");
    check_resume(job, t.path, tasks, runs, before);
}

BOOST_AUTO_TEST_SUITE_END()
