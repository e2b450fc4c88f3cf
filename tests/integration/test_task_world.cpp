// A task's world with hearth run (hearth(1), The task's environment): its
// environment is the submitter's (no Open MPI or Hearth variable of the
// worker leaks in; PWD and TMPDIR are its directory), an MPI program runs
// in it as a singleton and under its own mpirun on the task's cores only,
// an OpenMP program uses --cores-per-task threads on its cores, and a task
// that hangs fails at its own timeout while the rest of the job finishes.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include "harness.hpp"

using namespace hearth::test;

namespace {

std::string fixture(const std::string& name) {
    return repo_root() + "/tests/fixtures/task-world/" + name;
}

// Builds a fixture program into dir with the compiler a user would use.
fs::path build(const TempDir& t, const std::string& cc, const std::string& src,
               const std::string& out) {
    int code = 0;
    std::string log = sh_out(
        cc + " -O2 -o " + quote((t / out).string()) + " " + quote(fixture(src)) + " 2>&1", &code);
    BOOST_TEST_REQUIRE(code == 0, cc + " " + src + ": " + log);
    return t / out;
}

// The CPUs listed after "cpus" in a fixture's output line.
std::set<int> cpus_of(const std::string& line) {
    std::set<int> s;
    std::stringstream ss(line.substr(line.find("cpus") + 4));
    int c;
    while (ss >> c) s.insert(c);
    return s;
}

// taskset -cp's "pid N's current affinity list: 0,1" or "0-3".
std::set<int> taskset_cpus(const std::string& text) {
    std::set<int> s;
    std::string list = text.substr(text.rfind(':') + 1);
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

bool subset(const std::set<int>& a, const std::set<int>& b) {
    return std::includes(b.begin(), b.end(), a.begin(), a.end());
}

unsigned cores_here() {
    return static_cast<unsigned>(std::stoul(sh_out("hwloc-calc --number-of core machine:0")));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(task_world)

BOOST_AUTO_TEST_CASE(a_task_sees_the_submitters_environment_and_its_own_directory) {
    TempDir t;
    fs::copy_file(fixture("print_env.py"), t / "print_env.py");
    // The submitter's shell holds Open MPI settings and a Hearth token: the
    // tasks get neither; FROM_HERE travels because --env names it.
    Result r = run_hearth({"run", "--tenant", "studio", "--frames", "5-8", "--chunk", "2", "--env",
                           "GREETING=hello world", "--env", "FROM_HERE", "--stage", "print_env.py",
                           "--collect", "env_*.json", "--job-dir", "job", "--", "./print_env.py"},
                          t.path,
                          "FROM_HERE=submitter OMPI_MCA_btl_tcp_if_include=lo HEARTH_TOKEN=secret");
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const auto spec = nlohmann::json::parse(slurp(t / "job/job.json"));
    for (int task = 0; task < 2; ++task) {
        BOOST_TEST_CONTEXT("task " << task) {
            const auto j =
                nlohmann::json::parse(slurp(t / ("job/out/env_" + std::to_string(task) + ".json")));
            const auto& env = j.at("env");
            for (const auto& [name, value] : env.items()) {
                // The one Open MPI variable Hearth gives a task confines an
                // mpirun inside it to its cores; nothing else of Open MPI's.
                if (name != "OMPI_MCA_hwloc_base_cpu_list")
                    BOOST_TEST(name.rfind("OMPI_", 0) != 0, name);
                BOOST_TEST(name.rfind("PMIX_", 0) != 0, name);
                BOOST_TEST(name.rfind("OPAL_", 0) != 0, name);
            }
            BOOST_TEST(!env.contains("HEARTH_TOKEN"));
            BOOST_TEST(!env.contains("HEARTH_BIN"));  // the test runner's, through mpirun
            BOOST_TEST(env.value("PWD", "") == j.at("cwd").get<std::string>());
            BOOST_TEST(env.value("TMPDIR", "") == j.at("cwd").get<std::string>());
            BOOST_TEST(env.value("HEARTH_JOB", "") == spec.at("id").get<std::string>());
            BOOST_TEST(env.value("HEARTH_TASK", "") == std::to_string(task));
            BOOST_TEST(env.value("HEARTH_ATTEMPT", "") == "1");
            BOOST_TEST(env.value("HEARTH_TENANT", "") == "studio");
            BOOST_TEST(env.value("HEARTH_FIRST", "") == std::to_string(5 + 2 * task));
            BOOST_TEST(env.value("HEARTH_LAST", "") == std::to_string(6 + 2 * task));
            BOOST_TEST(env.value("HEARTH_CORES", "") == "1");
            BOOST_TEST(env.value("OMP_NUM_THREADS", "") == "1");
            BOOST_TEST(env.value("GREETING", "") == "hello world");
            BOOST_TEST(env.value("FROM_HERE", "") == "submitter");
            BOOST_TEST(env.contains("PATH"));  // the submitter's own variables stay
        }
    }
    // An --env naming a variable not set here is refused before anything starts.
    Result bad = run_hearth({"run", "--tenant", "t", "--count", "1", "--env", "NOT_SET_ANYWHERE",
                             "--job-dir", "job2", "--", "true"},
                            t.path);
    BOOST_TEST(bad.code == 2);
    BOOST_TEST(bad.err.find("NOT_SET_ANYWHERE is not set here") != std::string::npos, bad.err);
    BOOST_TEST(!fs::exists(t / "job2"));
    bad = run_hearth(
        {"run", "--tenant", "t", "--count", "1", "--env", "HEARTH_TASK=9", "--", "true"}, t.path);
    BOOST_TEST(bad.code == 2);
    BOOST_TEST(bad.err.find("Hearth sets HEARTH_TASK") != std::string::npos, bad.err);
    bad = run_hearth(
        {"run", "--tenant", "t", "--count", "1", "--cores-per-task", "0", "--", "true"}, t.path);
    BOOST_TEST(bad.code == 2);
    BOOST_TEST(bad.err.find("--cores-per-task 0") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_CASE(an_mpi_program_runs_as_a_singleton_task) {
    TempDir t;
    build(t, "mpicc", "mpi_ranks.c", "mpi_ranks");
    Result r = run_hearth(
        {"run", "--tenant", "bank", "--count", "2", "--timeout", "60s", "--retries", "0", "--stage",
         "mpi_ranks", "--collect", "mpi_*.txt", "--job-dir", "job", "--", "./mpi_ranks"},
        t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err + slurp(t / "job/journal"));
    for (int task = 0; task < 2; ++task) {
        const std::string line = slurp(t / ("job/out/mpi_" + std::to_string(task) + "_0.txt"));
        BOOST_TEST(line.rfind("rank 0 size 1 sum 1 cpus", 0) == 0, line);
    }
}

BOOST_AUTO_TEST_CASE(mpirun_inside_a_task_runs_on_the_tasks_cores_only) {
    TempDir t;
    build(t, "mpicc", "mpi_ranks.c", "mpi_ranks");
    // Open MPI refuses root without these; a user running as root says so too.
    const std::vector<std::string> root = {"--env", "OMPI_ALLOW_RUN_AS_ROOT=1", "--env",
                                           "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"};
    // The task notes its own cores, then runs its MPI job on them.
    const std::string script =
        "taskset -cp $$ > cpus_{task}.txt && exec mpirun --oversubscribe -np {cores} ./mpi_ranks";
    // Two ranks in one task of two cores.
    std::vector<std::string> args = {
        "run",       "--tenant",  "bank",  "--count",   "1",   "--cores-per-task",
        "2",         "--timeout", "60s",   "--retries", "0",   "--stage",
        "mpi_ranks", "--collect", "*.txt", "--job-dir", "job2"};
    args.insert(args.end(), root.begin(), root.end());
    args.insert(args.end(), {"--", "sh", "-c", script});
    Result r = run_hearth(args, t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err + slurp(t / "job2/journal"));
    std::set<int> task_cpus = taskset_cpus(slurp(t / "job2/out/cpus_0.txt"));
    BOOST_TEST(task_cpus.size() == std::min(2u, cores_here()));
    for (int rank = 0; rank < 2; ++rank) {
        const std::string line = slurp(t / ("job2/out/mpi_0_" + std::to_string(rank) + ".txt"));
        BOOST_TEST(line.rfind("rank " + std::to_string(rank) + " size 2 sum 2 cpus", 0) == 0, line);
        BOOST_TEST(subset(cpus_of(line), task_cpus), line);
    }
    // Tasks of one core each, side by side: each mpirun keeps to its own
    // core (left alone, Open MPI would bind its ranks to cores 0 and 1).
    args = {"run",
            "--tenant",
            "bank",
            "--count",
            "2",
            "--slots",
            std::to_string(std::min(2u, cores_here())),
            "--timeout",
            "60s",
            "--retries",
            "0",
            "--stage",
            "mpi_ranks",
            "--collect",
            "*.txt",
            "--job-dir",
            "job1"};
    args.insert(args.end(), root.begin(), root.end());
    args.insert(
        args.end(),
        {"--", "sh", "-c",
         "taskset -cp $$ > cpus_{task}.txt && exec mpirun --oversubscribe -np 2 ./mpi_ranks"});
    r = run_hearth(args, t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err + slurp(t / "job1/journal"));
    for (int task = 0; task < 2; ++task) {
        std::set<int> mine =
            taskset_cpus(slurp(t / ("job1/out/cpus_" + std::to_string(task) + ".txt")));
        BOOST_TEST(mine.size() == 1u);
        for (int rank = 0; rank < 2; ++rank) {
            const std::string line = slurp(
                t / ("job1/out/mpi_" + std::to_string(task) + "_" + std::to_string(rank) + ".txt"));
            BOOST_TEST(line.find("size 2 sum 2") != std::string::npos, line);
            BOOST_TEST(subset(cpus_of(line), mine), "task " << task << ": " << line);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_openmp_task_uses_its_cores_per_task) {
    TempDir t;
    build(t, "gcc -fopenmp", "omp_threads.c", "omp_threads");
    Result r = run_hearth(
        {"run", "--tenant", "lab", "--count", "2", "--cores-per-task", "2", "--stage",
         "omp_threads", "--collect", "omp_*.txt", "--job-dir", "job", "--", "./omp_threads"},
        t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const unsigned cores = cores_here();
    for (int task = 0; task < 2; ++task) {
        const std::string line = slurp(t / ("job/out/omp_" + std::to_string(task) + ".txt"));
        BOOST_TEST(line.rfind("threads 2 cpus", 0) == 0, line);
        BOOST_TEST(cpus_of(line).size() == std::min(2u, cores), line);
    }
    // The node's slots are its cores divided by the cores a task holds.
    for (const auto& e : journal(t / "job"))
        if (e.value("e", "") == "node" && e.contains("slots"))
            BOOST_TEST(e.at("slots").get<unsigned>() == std::max(1u, cores / 2));
}

BOOST_AUTO_TEST_CASE(a_task_hanging_at_start_fails_at_its_timeout_and_the_job_goes_on) {
    TempDir t;
    // Task 1 never gets past its start-up; the others finish.
    Result r = run_hearth(
        {"run", "--tenant", "t", "--count", "4", "--timeout", "2s", "--retries", "0", "--job-dir",
         "job", "--", "sh", "-c", "if [ {item} = 1 ]; then exec sleep 600; fi; echo ok"},
        t.path);
    BOOST_TEST(r.code == 1, r.err);
    const auto s = summary(t / "job");
    BOOST_TEST(s.at("committed").get<int>() == 3);
    bool timed_out = false;
    for (const auto& e : journal(t / "job"))
        if (e.value("e", "") == "fail")
            timed_out = timed_out || (e.value("t", -1) == 1 && e.value("why", "") == "timeout");
    BOOST_TEST(timed_out);
}

// --mem-per-task: a task is held to it (an allocation past it fails inside
// the task), and a node without that much free memory runs none of the
// job's tasks, saying why.
BOOST_AUTO_TEST_CASE(a_task_is_held_to_its_memory_and_placed_only_where_it_fits) {
    TempDir t;
    // 256 MiB of data: past a 64M limit, within a 1G one.
    const std::vector<std::string> alloc = {"python3", "-c",
                                            "b = bytearray(256 << 20); print(len(b))"};
    std::vector<std::string> args = {"run", "--tenant",  "lab",   "--count",
                                     "1",   "--retries", "0",     "--mem-per-task",
                                     "64M", "--job-dir", "small", "--"};
    args.insert(args.end(), alloc.begin(), alloc.end());
    Result r = run_hearth(args, t.path);
    BOOST_TEST(r.code == 1, r.err);
    BOOST_TEST(run_hearth({"logs", "small", "0"}, t.path).out.find("MemoryError") !=
               std::string::npos);
    args[8] = "1G";
    args[10] = "large";
    r = run_hearth(args, t.path);
    BOOST_TEST(r.code == 0, r.err);
    // More than this machine has free: refused where it would run, with the reason.
    r = run_hearth({"run", "--tenant", "lab", "--count", "2", "--retries", "0", "--mem-per-task",
                    "1000T", "--job-dir", "huge", "--", "true"},
                   t.path);
    BOOST_TEST(r.code == 1, r.err);
    bool said = false;
    for (const auto& e : journal(t / "huge"))
        said = said ||
               e.value("reason", "").find("less than --mem-per-task 1000 TiB") != std::string::npos;
    BOOST_TEST(said, slurp(t / "huge/journal"));
    // A size without a unit is a usage error, before anything starts.
    r = run_hearth(
        {"run", "--tenant", "lab", "--count", "1", "--mem-per-task", "512", "--", "true"}, t.path);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("no unit") != std::string::npos, r.err);
}

// Blender run directly, as a studio would (no sh -c): it reads the scene and
// writes its // outputs beside it, in the task's directory, because PWD is
// that directory; -t {cores} renders each frame on the task's cores. The
// frames come back identical to a serial render of the same scene.
BOOST_AUTO_TEST_CASE(blender_renders_frames_in_its_own_directory_identical_to_a_serial_render) {
    TempDir t;
    int code = 0;
    std::string log =
        sh_out("cd " + quote(t.path.string()) + " && blender -b --factory-startup --python " +
                   quote(fixture("make_scene.py")) + " -- " + quote((t / "scene.blend").string()) +
                   " 2>&1",
               &code);
    BOOST_TEST_REQUIRE(code == 0, log);
    fs::create_directories(t / "serial");
    fs::copy_file(t / "scene.blend", t / "serial" / "scene.blend");
    log = sh_out("cd " + quote((t / "serial").string()) +
                     " && blender -b scene.blend -o //f#### -F PNG -s 1 -e 4 -t 1 -a 2>&1",
                 &code);
    BOOST_TEST_REQUIRE(code == 0, log);
    Result r = run_hearth({"run",         "--tenant",  "studio",  "--frames",
                           "1-4",         "--chunk",   "2",       "--cores-per-task",
                           "2",           "--timeout", "5m",      "--stage",
                           "scene.blend", "--collect", "f*.png",  "--job-dir",
                           "job",         "--",        "blender", "-b",
                           "scene.blend", "-o",        "//f####", "-F",
                           "PNG",         "-s",        "{first}", "-e",
                           "{last}",      "-t",        "{cores}", "-a"},
                          t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err + slurp(t / "job/journal"));
    for (const char* f : {"f0001.png", "f0002.png", "f0003.png", "f0004.png"}) {
        BOOST_TEST_CONTEXT(f) {
            const std::string got = slurp(t / "job/out" / f);
            BOOST_TEST_REQUIRE(!got.empty());
            BOOST_TEST(png_image_chunks(got) == png_image_chunks(slurp(t / "serial" / f)));
            // Nothing was written beside the submitter's scene.
            BOOST_TEST(!fs::exists(t / f));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
