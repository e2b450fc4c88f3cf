// hearth token new: a token printed once, its hash appended to the tokens
// file (mode 0640), the plaintext kept nowhere.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "harness.hpp"

using namespace hearth::test;

namespace {

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

std::string sha256_hex(const std::string& text, const fs::path& dir) {
    std::ofstream(dir / ".tok", std::ios::binary) << text;
    std::string out = sh_out("sha256sum " + quote((dir / ".tok").string()));
    fs::remove(dir / ".tok");
    return out.substr(0, 64);
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(token)

BOOST_AUTO_TEST_CASE(two_new_tokens_are_two_hashed_lines_in_a_0640_file) {
    TempDir t;
    Result a = run_hearth({"token", "new", "--role", "tenant:bank", "--tokens", "tokens.txt",
                           "--label", "bank's quants"},
                          t.path);
    BOOST_TEST_REQUIRE(a.code == 0, a.err);
    Result b = run_hearth({"token", "new", "--role", "facility:poolroom", "--tokens", "tokens.txt"},
                          t.path);
    BOOST_TEST_REQUIRE(b.code == 0, b.err);
    const std::string ta = trim(a.out), tb = trim(b.out);
    BOOST_TEST(count_lines(a.out) == 1u);
    BOOST_TEST(ta.rfind("hearth_", 0) == 0u);
    BOOST_TEST(ta != tb);
    BOOST_TEST(a.err.find("only its hash is kept") != std::string::npos, a.err);
    const std::string file = slurp(t / "tokens.txt");
    BOOST_TEST(count_lines(file) == 2u, file);
    BOOST_TEST(mode_of(t / "tokens.txt") == 0640u);
    // No plaintext token, in whole or in its secret part.
    BOOST_TEST(file.find(ta) == std::string::npos);
    BOOST_TEST(file.find(ta.substr(7)) == std::string::npos);
    BOOST_TEST(file.find(tb.substr(7)) == std::string::npos);
    // Each line is the token's SHA-256 and its role.
    BOOST_TEST(file.find("sha256:" + sha256_hex(ta, t.path) + " tenant:bank bank's quants\n") !=
               std::string::npos, file);
    BOOST_TEST(file.find("sha256:" + sha256_hex(tb, t.path) + " facility:poolroom\n") !=
               std::string::npos, file);
}

BOOST_AUTO_TEST_CASE(a_bad_role_is_a_usage_error_and_writes_nothing) {
    TempDir t;
    for (const char* role : {"admin", "tenant:", "tenant:../x", "operator:x"}) {
        Result r = run_hearth({"token", "new", "--role", role, "--tokens", "tokens.txt"}, t.path);
        BOOST_TEST(r.code == 2, role);
        BOOST_TEST(count_lines(r.err) == 1u, r.err);
        BOOST_TEST(r.out.empty());
        BOOST_TEST(!fs::exists(t / "tokens.txt"));
    }
}

BOOST_AUTO_TEST_CASE(a_tokens_file_readable_by_others_is_refused_unchanged) {
    TempDir t;
    std::ofstream(t / "tokens.txt") << "# tokens\n";
    ::chmod((t / "tokens.txt").c_str(), 0644);
    Result r = run_hearth({"token", "new", "--role", "operator", "--tokens", "tokens.txt"}, t.path);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("chmod 640 tokens.txt") != std::string::npos, r.err);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(slurp(t / "tokens.txt") == "# tokens\n");
    // Once fixed, the token is added after what was there.
    ::chmod((t / "tokens.txt").c_str(), 0600);
    Result ok = run_hearth({"token", "new", "--role", "operator", "--tokens", "tokens.txt"}, t.path);
    BOOST_TEST(ok.code == 0, ok.err);
    BOOST_TEST(slurp(t / "tokens.txt").rfind("# tokens\nsha256:", 0) == 0u);
    BOOST_TEST(mode_of(t / "tokens.txt") == 0600u);
}

BOOST_AUTO_TEST_CASE(a_malformed_tokens_file_is_not_added_to) {
    TempDir t;
    std::ofstream(t / "tokens.txt") << "not a token line\n";
    ::chmod((t / "tokens.txt").c_str(), 0640);
    Result r = run_hearth({"token", "new", "--role", "operator", "--tokens", "tokens.txt"}, t.path);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("tokens.txt:1") != std::string::npos, r.err);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(slurp(t / "tokens.txt") == "not a token line\n");
}

BOOST_AUTO_TEST_SUITE_END()
