// What a job reads and writes stays inside the task's scratch directory and
// the job's out/: --collect and --stage are checked at submit, symlinks a
// task plants are not followed when its outputs are collected, a symlink
// planted in out/ is not written through, and a placeholder's value is one
// literal argument, never shell text.
#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using namespace hearth::test;

namespace {

// Refused at submit: exit 2, one line naming the argument, nothing written.
void expect_refused(const std::vector<std::string>& opts, const std::string& needle) {
    TempDir t;
    fs::create_directory(t / "sub");
    std::vector<std::string> args = {"run", "--tenant", "t", "--count", "2", "--job-dir", "job"};
    args.insert(args.end(), opts.begin(), opts.end());
    args.insert(args.end(), {"--", "true"});
    Result r = run_hearth(args, t.path);
    BOOST_TEST_CONTEXT("hearth run ... " << opts.front() << " " << opts.back() << ": " << r.err) {
        BOOST_TEST(r.code == 2);
        BOOST_TEST(count_lines(r.err) == 1u);
        BOOST_TEST(r.err.find(needle) != std::string::npos);
        BOOST_TEST(!fs::exists(t / "job"));
        BOOST_TEST(!fs::exists(t / ".job.creating"));
        BOOST_TEST(!fs::exists(t / "hearth-jobs"));
    }
}

// Every byte under dir, to look for a secret that must not have landed there.
std::string all_files_under(const fs::path& dir) {
    std::string all;
    if (!fs::exists(dir)) return all;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) all += slurp(e.path());
    return all;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(confinement)

BOOST_AUTO_TEST_CASE(collect_globs_reaching_outside_are_refused_at_submit) {
    expect_refused({"--collect", "../../etc/passwd"}, "bad --collect '../../etc/passwd'");
    expect_refused({"--collect", "out/../../x"}, "'..'");
    expect_refused({"--collect", "/etc/passwd"}, "an absolute path");
    // One bad glob among good ones is enough.
    expect_refused({"--collect", "frame*.png", "/tmp/*"}, "/tmp/*");
}

BOOST_AUTO_TEST_CASE(stage_inputs_named_outside_the_scratch_directory_are_refused) {
    expect_refused({"--stage", ".."}, "bad --stage '..'");
    expect_refused({"--stage", "sub/.."}, "bad --stage 'sub/..'");
    expect_refused({"--stage", "/"}, "bad --stage '/'");
}

BOOST_AUTO_TEST_CASE(unsafe_tenant_and_job_names_are_refused) {
    expect_refused({"--name", "../x"}, "bad --name");
    expect_refused({"--name", "a b"}, "bad --name");
    // The job id (name and time stamp) must stay a name the agents accept.
    expect_refused({"--name", std::string(50, 'n')}, "bad --name");
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "bank';DROP TABLE charges;--", "--count", "1",
                           "--job-dir", "job", "--", "true"},
                          t.path);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(!fs::exists(t / "job"));
}

BOOST_AUTO_TEST_CASE(a_staged_input_from_a_parent_directory_keeps_its_name) {
    TempDir t;
    fs::create_directory(t / "work");
    std::ofstream(t / "scene.txt") << "scene\n";
    Result r = run_hearth({"run", "--tenant", "t", "--count", "1", "--job-dir", "job", "--stage",
                           "../scene.txt", "--collect", "copy.txt", "--", "cp", "scene.txt",
                           "copy.txt"},
                          t / "work");
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(slurp(t / "work" / "job" / "out" / "copy.txt") == "scene\n");
}

BOOST_AUTO_TEST_CASE(a_symlink_to_a_file_outside_is_not_collected) {
    TempDir t, outside;
    std::ofstream(outside / "secret") << "SECRET-FILE-CONTENT\n";
    const std::string script = "echo mine > res_ok.txt; ln -s " + quote((outside / "secret").string()) +
                               " res_secret; ln -s /etc/passwd res_passwd";
    Result r = run_hearth({"run", "--tenant", "t", "--count", "1", "--retries", "0", "--job-dir",
                           "job", "--collect", "res*", "--", "sh", "-c", script},
                          t.path);
    BOOST_TEST(r.code == 1, r.err);
    std::string landed = all_files_under(t / "job" / "out");
    BOOST_TEST(landed.find("SECRET-FILE-CONTENT") == std::string::npos);
    BOOST_TEST(landed.find("root:") == std::string::npos);
    // The task failed, saying which output and why.
    bool told = false;
    for (const auto& e : journal(t / "job"))
        if (e.value("e", "") == "fail") {
            const std::string why = e.value("reason", "");
            told = why.find("symbolic link") != std::string::npos &&
                   (why.find("res_secret") != std::string::npos ||
                    why.find("res_passwd") != std::string::npos);
            BOOST_TEST(told, why);
        }
    BOOST_TEST(told);
}

BOOST_AUTO_TEST_CASE(a_symlink_to_a_directory_outside_is_not_collected_through) {
    TempDir t, outside;
    std::ofstream(outside / "secret.txt") << "SECRET-DIR-CONTENT\n";
    Result r = run_hearth({"run", "--tenant", "t", "--count", "1", "--retries", "0", "--job-dir",
                           "job", "--collect", "res/*.txt", "--", "ln", "-s",
                           outside.path.string(), "res"},
                          t.path);
    BOOST_TEST(r.code == 1, r.err);
    BOOST_TEST(all_files_under(t / "job" / "out").find("SECRET-DIR-CONTENT") == std::string::npos);
    BOOST_TEST(slurp(t / "job" / "journal").find("'res' is a symbolic link") != std::string::npos);
    // And the directory outside is as it was.
    BOOST_TEST(slurp(outside / "secret.txt") == "SECRET-DIR-CONTENT\n");
}

BOOST_AUTO_TEST_CASE(a_symlink_planted_in_out_is_not_written_through) {
    TempDir t, outside;
    // The task runs as its tenant's user (the test is root): it must see the flag.
    fs::permissions(t.path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    const std::string flag = (t / "flag").string();
    // Fails until the flag exists, then writes frames/f_0.txt.
    const std::string script = "test -f " + quote(flag) +
                               " && mkdir -p frames && echo data > frames/f_{task}.txt";
    Result r = run_hearth({"run", "--tenant", "t", "--count", "1", "--retries", "0", "--job-dir",
                           "job", "--collect", "frames/*", "--", "sh", "-c", script},
                          t.path);
    BOOST_TEST_REQUIRE(r.code == 1, r.err);
    fs::create_directory_symlink(outside.path, t / "job" / "out" / "frames");
    std::ofstream(flag) << "go\n";
    Result again = run_hearth({"resume", "job"}, t.path);
    BOOST_TEST(again.code != 0);
    BOOST_TEST(again.err.find("'frames' is a symbolic link") != std::string::npos, again.err);
    BOOST_TEST(!fs::exists(outside / "f_0.txt"));
    BOOST_TEST(fs::is_empty(outside.path));
}

BOOST_AUTO_TEST_CASE(a_placeholder_value_is_one_literal_argument_never_shell_text) {
    TempDir t;
    fs::create_directory(t / "canary");
    std::ofstream(t / "canary" / "alive") << "yes\n";
    const std::string canary = (t / "canary").string();
    const std::string pwned = (t / "pwned").string();
    const std::vector<std::string> items = {
        "; rm -rf " + canary,
        "$(touch " + pwned + ")",
        "`touch " + pwned + "`",
        "a b  c",
        "x' && touch " + pwned + " && echo '",
        "{task} | > " + pwned,
    };
    {
        std::ofstream f(t / "items.txt");
        for (const auto& i : items) f << i << "\n";
    }
    // printf, not a shell: each argument is printed between brackets.
    Result r = run_hearth({"run", "--tenant", "t", "--items", "items.txt", "--job-dir", "job", "--",
                           "printf", "[%s]\\n", "{item}", "end"},
                          t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    for (std::size_t i = 0; i < items.size(); ++i) {
        Result log = run_hearth({"logs", "job", std::to_string(i)}, t.path);
        BOOST_TEST(log.code == 0);
        BOOST_TEST(log.out.find("[" + items[i] + "]\n[end]\n") != std::string::npos,
                   "task " << i << " printed: " << log.out);
    }
    BOOST_TEST(fs::exists(t / "canary" / "alive"));
    BOOST_TEST(!fs::exists(pwned));
}

BOOST_AUTO_TEST_SUITE_END()
