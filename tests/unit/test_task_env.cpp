#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/task_env.hpp"

using hearth::test::usage_mentioning;
using Env = std::vector<std::string>;

namespace {

// The variables as a map; a name given twice fails the test (execve would
// hand the program the first, getenv in some libcs the last).
std::map<std::string, std::string> as_map(const Env& env) {
    std::map<std::string, std::string> m;
    for (const auto& e : env) {
        const auto eq = e.find('=');
        BOOST_TEST_REQUIRE(eq != std::string::npos, "entry without '=': " << e);
        BOOST_TEST_REQUIRE(m.emplace(e.substr(0, eq), e.substr(eq + 1)).second,
                           "given twice: " << e);
    }
    return m;
}

// What a worker started by mpirun carries (taken from `mpirun -np 1 env`
// with Open MPI 4.1 on Debian 12, shortened), plus a site's credentials.
const Env k_worker_env = {
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "HOME=/home/studio",
    "LANG=C.UTF-8",
    "PWD=/home/studio/shots",
    "OLDPWD=/home/studio",
    "TMPDIR=/var/tmp",
    "OMPI_COMM_WORLD_RANK=1",
    "OMPI_COMM_WORLD_SIZE=2",
    "OMPI_MCA_orte_hnp_uri=3735552000.0;tcp://10.0.0.1:41111",
    "OMPI_MCA_ess=^singleton",
    "OMPI_MCA_pmix=^s1,s2,cray,isolated",
    "PMIX_RANK=1",
    "PMIX_SERVER_URI4=pmix-server.1234;tcp4://127.0.0.1:39999",
    "PMIX_NAMESPACE=3735552001",
    "OPAL_PREFIX=/usr",
    "IPATH_NO_BACKTRACE=1",
    "HFI_NO_BACKTRACE=1",
    "HEARTH_TOKEN=site-secret",
    "HEARTH_AGENT_SOCKET=/run/hearth/agent.sock",
    "OMP_NUM_THREADS=64",
    "NOEQUALS",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(task_env)

BOOST_AUTO_TEST_CASE(a_workers_mpi_and_hearth_variables_never_reach_a_task) {
    const auto m = as_map(hearth::job_environment(k_worker_env, {}, 1));
    for (const auto& [name, value] : m) {
        BOOST_TEST(name.rfind("OMPI_", 0) != 0, name);
        BOOST_TEST(name.rfind("PMIX_", 0) != 0, name);
        BOOST_TEST(name.rfind("OPAL_", 0) != 0, name);
        BOOST_TEST(name.rfind("HEARTH_", 0) != 0, name);
    }
    BOOST_TEST(!m.count("IPATH_NO_BACKTRACE"));
    BOOST_TEST(!m.count("PWD"));
    BOOST_TEST(!m.count("OLDPWD"));
    BOOST_TEST(!m.count("TMPDIR"));
    BOOST_TEST(!m.count("NOEQUALS"));
    // The user's own environment stays.
    BOOST_TEST(m.at("PATH") == "/usr/local/bin:/usr/bin:/bin");
    BOOST_TEST(m.at("HOME") == "/home/studio");
    BOOST_TEST(m.at("LANG") == "C.UTF-8");
}

BOOST_AUTO_TEST_CASE(thread_counts_follow_the_cores_and_env_wins_over_both) {
    auto m = as_map(hearth::job_environment(k_worker_env, {}, 4));
    BOOST_TEST(m.at("OMP_NUM_THREADS") == "4");  // not the worker's 64
    BOOST_TEST(m.at("MKL_NUM_THREADS") == "4");
    BOOST_TEST(m.at("OPENBLAS_NUM_THREADS") == "4");
    m = as_map(hearth::job_environment(k_worker_env,
                                       {"OMP_NUM_THREADS=1", "LANG=fr_FR.UTF-8", "SCENE=a=b"}, 4));
    BOOST_TEST(m.at("OMP_NUM_THREADS") == "1");
    BOOST_TEST(m.at("MKL_NUM_THREADS") == "4");
    BOOST_TEST(m.at("LANG") == "fr_FR.UTF-8");
    BOOST_TEST(m.at("SCENE") == "a=b");
    // An Open MPI setting the submitter chose for an MPI task is theirs to give.
    m = as_map(hearth::job_environment(k_worker_env, {"OMPI_MCA_btl=self,vader"}, 1));
    BOOST_TEST(m.at("OMPI_MCA_btl") == "self,vader");
    BOOST_TEST(!m.count("OMPI_COMM_WORLD_RANK"));
}

BOOST_AUTO_TEST_CASE(an_attempt_gets_its_identity_and_its_directory) {
    const Env job = hearth::job_environment(k_worker_env, {}, 2);
    hearth::TaskAttemptVars id;
    id.job = "20261206-101500-ab12";
    id.task = 7;
    id.attempt = 2;
    id.tenant = "studio";
    id.first = "15";
    id.last = "16";
    id.cores = 2;
    id.cpu_list = "2,3";
    id.dir = "/tmp/hearth-w1-99/job/d3";
    const auto m = as_map(hearth::task_environment(job, id));
    BOOST_TEST(m.at("HEARTH_JOB") == id.job);
    BOOST_TEST(m.at("HEARTH_TASK") == "7");
    BOOST_TEST(m.at("HEARTH_ATTEMPT") == "2");
    BOOST_TEST(m.at("HEARTH_TENANT") == "studio");
    BOOST_TEST(m.at("HEARTH_FIRST") == "15");
    BOOST_TEST(m.at("HEARTH_LAST") == "16");
    BOOST_TEST(m.at("HEARTH_CORES") == "2");
    BOOST_TEST(m.at("PWD") == id.dir);
    BOOST_TEST(m.at("TMPDIR") == id.dir);
    BOOST_TEST(m.at("OMPI_MCA_hwloc_base_cpu_list") == "2,3");
    BOOST_TEST(!m.count("HEARTH_TOKEN"));
    // Unknown cores: no confinement variable at all.
    id.cpu_list.clear();
    BOOST_TEST(!as_map(hearth::task_environment(job, id)).count("OMPI_MCA_hwloc_base_cpu_list"));
    // The submitter's own choice of it stands.
    id.cpu_list = "2,3";
    const Env chosen = hearth::job_environment(k_worker_env, {"OMPI_MCA_hwloc_base_cpu_list=0"}, 2);
    BOOST_TEST(as_map(hearth::task_environment(chosen, id)).at("OMPI_MCA_hwloc_base_cpu_list") ==
               "0");
}

BOOST_AUTO_TEST_CASE(env_words_resolve_like_sbatch_export) {
    const auto lookup = [](const std::string& n) -> const char* {
        return n == "SCENE_DIR" ? "/data/shots" : nullptr;
    };
    BOOST_TEST(hearth::resolve_env_word("SCENE_DIR", lookup) == "SCENE_DIR=/data/shots");
    BOOST_TEST(hearth::resolve_env_word("QUALITY=high", lookup) == "QUALITY=high");
    BOOST_TEST(hearth::resolve_env_word("EMPTY=", lookup) == "EMPTY=");
    BOOST_CHECK_EXCEPTION(hearth::resolve_env_word("UNSET_HERE", lookup), hearth::Error,
                          usage_mentioning("UNSET_HERE is not set here"));
    BOOST_CHECK_EXCEPTION(hearth::resolve_env_word("2FAST=1", lookup), hearth::Error,
                          usage_mentioning("not a variable name"));
    BOOST_CHECK_EXCEPTION(hearth::resolve_env_word("=1", lookup), hearth::Error,
                          usage_mentioning("not a variable name"));
    BOOST_CHECK_EXCEPTION(hearth::resolve_env_word("HEARTH_TASK=3", lookup), hearth::Error,
                          usage_mentioning("Hearth sets HEARTH_TASK"));
    BOOST_CHECK_EXCEPTION(hearth::resolve_env_word("PWD=/", lookup), hearth::Error,
                          usage_mentioning("Hearth sets PWD"));
}

BOOST_AUTO_TEST_CASE(env_lists_from_the_wire_are_checked) {
    BOOST_CHECK_NO_THROW(hearth::check_env_list({"A=1", "B=", "C=x=y"}, "'env'"));
    BOOST_CHECK_EXCEPTION(hearth::check_env_list({"A"}, "'env'"), hearth::Error,
                          usage_mentioning("must be NAME=VALUE"));
    BOOST_CHECK_EXCEPTION(hearth::check_env_list({"A=1", "A=2"}, "'env'"), hearth::Error,
                          usage_mentioning("A is given twice"));
    BOOST_CHECK_EXCEPTION(hearth::check_env_list({"TMPDIR=/x"}, "'env'"), hearth::Error,
                          usage_mentioning("Hearth sets TMPDIR"));
    BOOST_CHECK_EXCEPTION(hearth::check_env_list({std::string("A=x\0y", 5)}, "'env'"),
                          hearth::Error, usage_mentioning("NUL"));
    Env many;
    for (int i = 0; i <= 256; ++i) many.push_back("V" + std::to_string(i) + "=1");
    BOOST_CHECK_EXCEPTION(hearth::check_env_list(many, "'env'"), hearth::Error,
                          usage_mentioning("at most 256"));
    BOOST_CHECK_EXCEPTION(hearth::check_env_list({"BIG=" + std::string(70000, 'x')}, "'env'"),
                          hearth::Error, usage_mentioning("at most 65536"));
}

BOOST_AUTO_TEST_CASE(a_node_with_gpus_sets_each_tasks_gpus) {
    // A worker started inside a Slurm GPU allocation carries the allocation's
    // CUDA variables: on a node whose GPUs Hearth hands out, each task gets
    // its own instead.
    Env worker = k_worker_env;
    worker.push_back("CUDA_VISIBLE_DEVICES=0,1,2,3");
    worker.push_back("CUDA_DEVICE_ORDER=FASTEST_FIRST");
    const Env job = hearth::job_environment(worker, {}, 1);
    hearth::TaskAttemptVars id{"j1", 4, 1, "studio", "4", "4", 1, "0", "/scratch/t4", {}};
    id.gpus = std::vector<unsigned>{1, 3};
    auto m = as_map(hearth::task_environment(job, id));
    BOOST_TEST(m.at("CUDA_VISIBLE_DEVICES") == "1,3");
    BOOST_TEST(m.at("HEARTH_GPUS") == "1,3");
    // NVML (and so the agent) numbers GPUs by PCI bus; CUDA must too.
    BOOST_TEST(m.at("CUDA_DEVICE_ORDER") == "PCI_BUS_ID");
    // A task of a job without GPUs, on that node, sees none.
    id.gpus = std::vector<unsigned>{};
    m = as_map(hearth::task_environment(job, id));
    BOOST_TEST(m.at("CUDA_VISIBLE_DEVICES") == "");
    BOOST_TEST(m.at("HEARTH_GPUS") == "");
    // A node without GPUs to hand out leaves the variables as they were.
    id.gpus.reset();
    m = as_map(hearth::task_environment(job, id));
    BOOST_TEST(m.at("CUDA_VISIBLE_DEVICES") == "0,1,2,3");
    BOOST_TEST(!m.count("HEARTH_GPUS"));
}

BOOST_AUTO_TEST_CASE(env_may_not_choose_the_gpus) {
    const auto lookup = [](const std::string&) -> const char* { return "0"; };
    for (const char* word :
         {"CUDA_VISIBLE_DEVICES=0", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER=PCI_BUS_ID"})
        BOOST_CHECK_EXCEPTION(hearth::resolve_env_word(word, lookup), hearth::Error,
                              usage_mentioning("--gpus-per-task N"));
    BOOST_CHECK_EXCEPTION(hearth::check_env_list({"CUDA_VISIBLE_DEVICES=1"}, "'env'"),
                          hearth::Error, usage_mentioning("Hearth sets CUDA_VISIBLE_DEVICES"));
    BOOST_CHECK_EXCEPTION(hearth::resolve_env_word("HEARTH_GPUS=1", lookup), hearth::Error,
                          usage_mentioning("Hearth sets HEARTH_GPUS"));
}

BOOST_AUTO_TEST_CASE(cpu_lists_are_written_as_open_mpi_reads_them) {
    BOOST_TEST(hearth::cpu_list_text({0, 1}) == "0,1");
    BOOST_TEST(hearth::cpu_list_text({5}) == "5");
    BOOST_TEST(hearth::cpu_list_text({}) == "");
}

BOOST_AUTO_TEST_SUITE_END()
