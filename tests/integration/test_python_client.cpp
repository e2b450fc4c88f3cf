// The Python client (runner/python/hearth): tests/python/test_client.py, a
// unittest script, drives it against a real `hearth serve` on loopback with
// a tokens file, playing the site itself (tests/python/site_sim.py runs each
// granted attempt, uploads what it collects); with risk_mc built it also runs
// examples/risk-mc/submit.py end to end. And the package installs with pip
// from the tree, offline. Skipped, saying why, where python3 (3.9 or later)
// is missing.
#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using namespace hearth::test;

namespace {

std::string python_missing() {
    int code = 0;
    const std::string v = sh_out("python3 -c 'import sys; print(sys.version_info >= (3, 9))' 2>/dev/null", &code);
    if (code != 0) return "python3 is not installed (apt-get install python3)";
    if (v.rfind("True", 0) != 0) return "python3 is older than 3.9, the client's least";
    return "";
}

boost::test_tools::assertion_result python_possible(boost::unit_test::test_unit_id) {
    const std::string why = python_missing();
    boost::test_tools::assertion_result r(why.empty());
    if (!why.empty()) r.message() << "no Python client test: " << why;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(python_client, *boost::unit_test::precondition(python_possible))

BOOST_AUTO_TEST_CASE(the_client_against_a_real_hearth_serve) {
    TempDir t;
    const fs::path root = repo_root();
    const fs::path risk_bins = fs::path(hearth_bin()).parent_path().parent_path() / "examples" / "risk-mc";
    const std::string cmd = "cd " + quote(t.path.string()) + " && env -u HEARTH_TOKEN -u HEARTH_TOKEN_FILE -u " +
                            "HEARTH_SERVER -u HEARTH_CACERT -u HEARTH_TENANT HEARTH_BIN=" + quote(hearth_bin()) +
                            " HEARTH_ROOT=" + quote(root.string()) + " RISK_MC_BIN_DIR=" +
                            quote(risk_bins.string()) + " PYTHONDONTWRITEBYTECODE=1 python3 " +
                            quote((root / "tests" / "python" / "test_client.py").string()) + " -v 2>&1";
    int code = -1;
    const std::string out = sh_out(cmd, &code);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST(code == 0, out);
    BOOST_TEST(out.find("\nOK") != std::string::npos, out);
    // Every case ran (the risk driver's may skip without risk_mc built).
    for (const char* c : {"test_submit_staged_wait_download_log_energy", "test_bad_frame_range_is_a_400_naming_it",
                          "test_another_tenants_job_is_404", "test_bad_token_is_401", "test_cancel",
                          "test_items_file_is_uploaded_and_split", "test_driver"})
        BOOST_TEST(out.find(c) != std::string::npos, c);
}

BOOST_AUTO_TEST_CASE(the_package_installs_with_pip_offline_and_imports_outside_the_tree) {
    TempDir t;
    const fs::path pkg = fs::path(repo_root()) / "runner" / "python";
    // Without installing: PYTHONPATH (or a copy of the folder) is enough.
    int code = -1;
    std::string out = sh_out("cd " + quote(t.path.string()) + " && PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=" +
                                 quote(pkg.string()) +
                                 " python3 -c 'import hearth; print(hearth.__version__, hearth.NotFound.__mro__[1].__name__)' 2>&1",
                             &code);
    BOOST_TEST(code == 0, out);
    BOOST_TEST(out == "0.1.0 HearthError\n", out);
    // pip with setuptools and wheel as the system has them, nothing fetched.
    // Debian 12's setuptools (66) builds wheels only with python3-wheel.
    const std::string py = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    const std::string have = sh_out(py + " -c 'import setuptools, wheel, venv, ensurepip; print(1)' 2>/dev/null");
    if (have != "1\n") {
        BOOST_TEST_MESSAGE("skipped the pip install: " + py +
                           " lacks setuptools, wheel or venv (apt-get install python3-venv python3-setuptools "
                           "python3-wheel)");
        return;
    }
    // A copy: the build leaves build/ and *.egg-info beside pyproject.toml.
    fs::copy(pkg, t / "src", fs::copy_options::recursive);
    out = sh_out("cd " + quote(t.path.string()) + " && " + py + " -m venv --system-site-packages v 2>&1 && " +
                     "v/bin/pip install --no-build-isolation --no-index ./src 2>&1",
                 &code);
    BOOST_TEST_REQUIRE(code == 0, out);
    fs::remove_all(t / "src");
    out = sh_out("cd / && " + quote((t / "v" / "bin" / "python").string()) +
                     " -c 'import hearth; print(hearth.__file__)' 2>&1",
                 &code);
    BOOST_TEST(code == 0, out);
    BOOST_TEST(out.find((t / "v").string()) == 0, out);
}

BOOST_AUTO_TEST_SUITE_END()
