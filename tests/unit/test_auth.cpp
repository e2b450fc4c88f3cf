#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/auth.hpp"
#include "core/error.hpp"
#include "tests/unit/support.hpp"

using namespace hearth;
using hearth::test::usage_mentioning;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(auth)

BOOST_AUTO_TEST_CASE(roles_parse_and_print_back) {
    for (const char* text : {"tenant:bank", "facility", "facility:pool-room", "operator", "site:pool-room"})
        BOOST_TEST(to_string(parse_role(text)) == text);
    BOOST_TEST((parse_role("tenant:bank").kind == RoleKind::tenant));
    BOOST_TEST(parse_role("facility").scope.empty());
    BOOST_TEST((parse_role("site:pool").kind == RoleKind::site));
    BOOST_TEST(parse_role("site:pool").scope == "pool");
    for (const char* bad : {"", "tenant", "tenant:", "tenant:../x", "root", "operator:x", "facility:a b",
                            "Tenant:bank", "site", "site:", "site:../pool"})
        BOOST_CHECK_EXCEPTION(parse_role(bad), Error, usage_mentioning("role"));
}

BOOST_AUTO_TEST_CASE(sha256_matches_the_standard_test_vector) {
    // FIPS 180-2's "abc".
    BOOST_TEST(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(tokens_are_random_and_only_their_hash_is_written) {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        std::string t = generate_token();
        BOOST_TEST(t.size() == 7u + 64u);
        BOOST_TEST(t.rfind("hearth_", 0) == 0u);
        BOOST_TEST(seen.insert(t).second);
    }
    std::string tok = generate_token();
    std::string line = token_line(tok, parse_role("tenant:bank"), "bank's risk desk");
    BOOST_TEST(line.find(tok) == std::string::npos);
    BOOST_TEST(line == "sha256:" + to_hex(sha256(tok)) + " tenant:bank bank's risk desk");
    BOOST_CHECK_EXCEPTION(token_line(tok, parse_role("operator"), "two\nlines"), Error, usage_mentioning("label"));
}

BOOST_AUTO_TEST_CASE(a_token_table_finds_the_role_of_each_token_and_nothing_else) {
    std::string a = generate_token(), b = generate_token();
    std::string text = "# tokens\n\n" + token_line(a, parse_role("operator"), "ops") + "\n" +
                       token_line(b, parse_role("facility:lab"), "") + "   # the lab's manager\n";
    TokenTable t = TokenTable::parse(text, "tokens");
    BOOST_TEST(t.size() == 2u);
    BOOST_TEST(to_string(*t.find(a)) == "operator");
    BOOST_TEST(t.find(a)->label == "ops");
    BOOST_TEST(to_string(*t.find(b)) == "facility:lab");
    BOOST_TEST(!t.find(""));
    BOOST_TEST(!t.find(a.substr(0, a.size() - 1)));
    BOOST_TEST(!t.find(to_hex(sha256(a))));  // the hash itself is not a token
}

BOOST_AUTO_TEST_CASE(a_malformed_tokens_file_is_refused_with_its_line) {
    std::string good = token_line(generate_token(), parse_role("operator"), "");
    BOOST_CHECK_EXCEPTION(TokenTable::parse("sha256:abc operator\n", "f"), Error, usage_mentioning("f:1"));
    BOOST_CHECK_EXCEPTION(TokenTable::parse(good + "\nsha256:" + std::string(64, 'z') + " operator\n", "f"),
                          Error, usage_mentioning("f:2: the hash is not hex"));
    BOOST_CHECK_EXCEPTION(TokenTable::parse("sha256:" + std::string(64, 'a') + "\n", "f"), Error,
                          usage_mentioning("no role"));
    BOOST_CHECK_EXCEPTION(TokenTable::parse("sha256:" + std::string(64, 'a') + " admin\n", "f"), Error,
                          usage_mentioning("f:1: bad role 'admin'"));
    BOOST_CHECK_EXCEPTION(TokenTable::parse(good + "\n" + good + "\n", "f"), Error, usage_mentioning("twice"));
    BOOST_CHECK_EXCEPTION(TokenTable::parse("md5:" + std::string(32, 'a') + " operator\n", "f"), Error,
                          usage_mentioning("sha256:"));
}

BOOST_AUTO_TEST_CASE(bearer_headers_are_read_strictly) {
    BOOST_TEST(*bearer_token("Bearer abc") == "abc");
    BOOST_TEST(*bearer_token("bearer  abc ") == "abc");
    BOOST_TEST(!bearer_token(""));
    BOOST_TEST(!bearer_token("Bearer "));
    BOOST_TEST(!bearer_token("Basic abc"));
    BOOST_TEST(!bearer_token("Bearer a b"));
    BOOST_TEST(!bearer_token(std::string("Bearer a\0b", 10)));
    BOOST_TEST(!bearer_token("Bearer " + std::string(600, 'a')));
}

BOOST_AUTO_TEST_CASE(unsafe_modes_are_named) {
    BOOST_TEST(unsafe_mode_reason(0600, 0600).empty());
    BOOST_TEST(unsafe_mode_reason(0640, 0640).empty());
    BOOST_TEST(unsafe_mode_reason(0400, 0640).empty());
    BOOST_TEST(unsafe_mode_reason(0644, 0640).find("other users read") != std::string::npos);
    BOOST_TEST(unsafe_mode_reason(0660, 0640).find("its group write") != std::string::npos);
    BOOST_TEST(unsafe_mode_reason(0640, 0600).find("0640") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secret_files_are_read_only_when_private) {
    fs::path dir = fs::temp_directory_path() / ("hearth-auth-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path f = dir / "token";
    std::ofstream(f) << "secret\n";
    ::chmod(f.c_str(), 0600);
    BOOST_TEST(read_secret_file(f.string(), 0600) == "secret\n");
    ::chmod(f.c_str(), 0644);
    BOOST_CHECK_EXCEPTION(read_secret_file(f.string(), 0600), Error, usage_mentioning("chmod 0600"));
    ::chmod(f.c_str(), 0600);
    if (::geteuid() == 0) {
        // A file someone else owns could be rewritten by them: refused.
        BOOST_TEST_REQUIRE(::chown(f.c_str(), 65534, 65534) == 0);
        BOOST_CHECK_EXCEPTION(read_secret_file(f.string(), 0600), Error, usage_mentioning("owned by uid 65534"));
        BOOST_TEST_REQUIRE(::chown(f.c_str(), 0, 0) == 0);
    }
    fs::create_symlink(f, dir / "link");
    BOOST_CHECK_EXCEPTION(read_secret_file((dir / "link").string(), 0600), Error, usage_mentioning("symlink"));
    BOOST_CHECK_EXCEPTION(read_secret_file((dir / "missing").string(), 0600), Error, usage_mentioning("cannot open"));
    BOOST_CHECK_EXCEPTION(read_secret_file(dir.string(), 0600), Error, usage_mentioning("not a regular file"));
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(the_policy_table) {
    const Role op = parse_role("operator"), fac = parse_role("facility"), lab = parse_role("facility:lab"),
               other = parse_role("facility:other"), bank = parse_role("tenant:bank");
    auto status = [](const std::optional<Role>& who, Route r, bool given = true) {
        return authorize(given, who, r, "lab").status;
    };
    // Open routes, whoever asks.
    BOOST_TEST(status(std::nullopt, Route::health, false) == 200);
    BOOST_TEST(status(std::nullopt, Route::dashboard, false) == 200);
    // 401: no token, or one that is not in the table.
    BOOST_TEST(status(std::nullopt, Route::whoami, false) == 401);
    BOOST_TEST(status(std::nullopt, Route::node, true) == 401);
    for (Route r : {Route::whoami, Route::node, Route::energy, Route::heat_read, Route::heat_write,
                    Route::heat_try, Route::metrics, Route::drain})
        BOOST_TEST(status(op, r) == 200);
    for (Route r :
         {Route::whoami, Route::node, Route::heat_read, Route::heat_write, Route::heat_try}) {
        BOOST_TEST(status(fac, r) == 200);
        BOOST_TEST(status(lab, r) == 200);
    }
    for (Route r : {Route::node, Route::heat_read, Route::heat_write, Route::heat_try,
                    Route::energy, Route::metrics, Route::drain})
        BOOST_TEST(status(other, r) == 403);
    for (Route r : {Route::energy, Route::metrics, Route::drain}) BOOST_TEST(status(fac, r) == 403);
    BOOST_TEST(status(bank, Route::whoami) == 200);
    BOOST_TEST(status(bank, Route::energy) == 200);
    for (Route r : {Route::node, Route::heat_read, Route::heat_write, Route::heat_try,
                    Route::metrics, Route::drain})
        BOOST_TEST(status(bank, r) == 403);
    BOOST_TEST(authorize(false, std::nullopt, Route::metrics, "lab", true).status == 200);
    BOOST_TEST(authorize(true, bank, Route::heat_write, "lab").error.find("tenant:bank") != std::string::npos);
    // A site dispatcher's token is for the scheduler: at an agent it is itself, and no more.
    const Role site = parse_role("site:lab");
    BOOST_TEST(status(site, Route::whoami) == 200);
    for (Route r : {Route::node, Route::energy, Route::heat_read, Route::heat_write,
                    Route::heat_try, Route::metrics, Route::drain})
        BOOST_TEST(status(site, r) == 403);
}

BOOST_AUTO_TEST_CASE(the_schedulers_policy_table) {
    const Role op = parse_role("operator"), fac = parse_role("facility"), bank = parse_role("tenant:bank"),
               pool = parse_role("site:pool"), lab = parse_role("site:lab");
    auto status = [](const std::optional<Role>& who, ServeRoute r, const std::string& site = "pool") {
        return authorize_serve(true, who, r, site).status;
    };
    BOOST_TEST(authorize_serve(false, std::nullopt, ServeRoute::health).status == 200);
    for (ServeRoute r : {ServeRoute::whoami, ServeRoute::jobs, ServeRoute::blob_read, ServeRoute::site_work}) {
        BOOST_TEST(authorize_serve(false, std::nullopt, r, "pool").status == 401);
        BOOST_TEST(status(std::nullopt, r) == 401);
    }
    for (ServeRoute r : {ServeRoute::whoami, ServeRoute::jobs, ServeRoute::blob_read, ServeRoute::blob_write,
                         ServeRoute::site_work})
        BOOST_TEST(status(op, r) == 200);
    // Tenants: jobs and blobs, never a site's work.
    for (ServeRoute r : {ServeRoute::whoami, ServeRoute::jobs, ServeRoute::blob_read, ServeRoute::blob_write})
        BOOST_TEST(status(bank, r) == 200);
    BOOST_TEST(status(bank, ServeRoute::site_work) == 403);
    // Facilities: who they are, no jobs, no files, no work.
    BOOST_TEST(status(fac, ServeRoute::whoami) == 200);
    for (ServeRoute r : {ServeRoute::jobs, ServeRoute::blob_read, ServeRoute::blob_write, ServeRoute::site_work})
        BOOST_TEST(status(fac, r) == 403);
    // A site: its own work and the blobs its tasks read and write, no jobs,
    // and not another site's work.
    for (ServeRoute r : {ServeRoute::blob_read, ServeRoute::blob_write, ServeRoute::site_work})
        BOOST_TEST(status(pool, r) == 200);
    BOOST_TEST(status(pool, ServeRoute::jobs) == 403);
    BOOST_TEST(status(lab, ServeRoute::site_work) == 403);
    BOOST_TEST(authorize_serve(true, lab, ServeRoute::site_work, "pool").error.find("site:lab") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(job_access_is_own_jobs_for_tenants_all_for_operators_none_for_others) {
    BOOST_TEST(job_access(parse_role("tenant:bank"), "bank", "j1").allowed());
    BOOST_TEST(job_access(parse_role("operator"), "bank", "j1").allowed());
    const Decision other = job_access(parse_role("tenant:studio"), "bank", "j1");
    BOOST_TEST(other.status == 404);
    // Nothing in the refusal says the job exists or whose it is.
    BOOST_TEST(other.error.find("bank") == std::string::npos);
    BOOST_TEST(job_access(parse_role("facility"), "bank", "j1").status == 403);
    BOOST_TEST(job_access(parse_role("facility:pool"), "bank", "j1").status == 403);
    BOOST_TEST(job_access(parse_role("site:pool"), "bank", "j1").status == 403);
}

BOOST_AUTO_TEST_CASE(a_tenant_query_names_no_one_else_and_repeats_nothing) {
    const Role bank = parse_role("tenant:bank");
    using P = std::vector<std::pair<std::string, std::string>>;
    BOOST_TEST(check_tenant_query(bank, P{}).allowed());
    BOOST_TEST(check_tenant_query(bank, P{{"tenant", "bank"}, {"by", "job"}}).allowed());
    BOOST_TEST(check_tenant_query(bank, P{{"tenant", "studio"}}).status == 403);
    BOOST_TEST(check_tenant_query(bank, P{{"tenant", "BANK"}}).status == 403);
    BOOST_TEST(check_tenant_query(bank, P{{"tenant", std::string("bank\0", 5)}}).status == 403);
    BOOST_TEST(check_tenant_query(bank, P{{"tenant", "bank"}, {"tenant", "studio"}}).status == 400);
    BOOST_TEST(check_tenant_query(bank, P{{"by", "job"}, {"by", "tenant"}}).status == 400);
}

BOOST_AUTO_TEST_SUITE_END()
