// The rule "is this token in force now": revocation and expiry against a
// given time, the tokens file's expires=/revoked= words, and --expires.
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/token_file.hpp"
#include "core/token_validity.hpp"
#include "core/utc_time.hpp"

using namespace hearth;

namespace {
const std::int64_t k_noon = parse_utc_ms("2027-01-04T12:00:00Z");
const std::string k_hash = "sha256:" + std::string(64, 'a');
}  // namespace

BOOST_AUTO_TEST_SUITE(token_validity)

BOOST_AUTO_TEST_CASE(a_token_without_dates_is_valid_at_any_time) {
    Role r = parse_role("tenant:bank");
    BOOST_TEST(std::string(to_string(token_state(r, 0))) == "valid");
    BOOST_TEST(std::string(to_string(token_state(r, k_noon))) == "valid");
    BOOST_TEST(token_in_force(r, k_noon).allowed());
    BOOST_TEST(token_in_force(std::nullopt, k_noon).allowed());
}

BOOST_AUTO_TEST_CASE(expiry_takes_effect_at_its_millisecond) {
    Role r = parse_role("operator");
    r.expires_ms = k_noon;
    BOOST_TEST(std::string(to_string(token_state(r, k_noon - 1))) == "valid");
    BOOST_TEST(std::string(to_string(token_state(r, k_noon))) == "expired");
    const Decision d = token_in_force(r, k_noon + 1000);
    BOOST_TEST(d.status == 401);
    BOOST_TEST(d.error.find("expired at 2027-01-04T12:00:00Z") != std::string::npos, d.error);
    BOOST_TEST(d.error.find("hearth token new") != std::string::npos, d.error);
}

BOOST_AUTO_TEST_CASE(revocation_wins_over_expiry_and_names_its_time) {
    Role r = parse_role("facility:pool");
    r.expires_ms = k_noon;
    r.revoked_ms = k_noon - 3'600'000;
    BOOST_TEST(std::string(to_string(token_state(r, k_noon - 3'600'001))) == "valid");
    BOOST_TEST(std::string(to_string(token_state(r, k_noon - 3'600'000))) == "revoked");
    BOOST_TEST(std::string(to_string(token_state(r, k_noon + 1))) == "revoked");
    const Decision d = token_in_force(r, k_noon);
    BOOST_TEST(d.status == 401);
    BOOST_TEST(d.error.find("revoked at 2027-01-04T11:00:00Z") != std::string::npos, d.error);
}

BOOST_AUTO_TEST_CASE(the_file_reads_back_expires_and_revoked_and_keeps_the_label) {
    const std::string text =
        k_hash +
        " tenant:bank expires=2027-01-04T12:00:00Z revoked=2027-01-02T00:00:00Z risk desk\n";
    TokenTable t = TokenTable::parse(text, "tokens");
    BOOST_TEST_REQUIRE(t.size() == 1u);
    const Role& r = t.entries()[0].role;
    BOOST_TEST(r.expires_ms == k_noon);
    BOOST_TEST(r.revoked_ms == parse_utc_ms("2027-01-02"));
    BOOST_TEST(r.label == "risk desk");
    // And writes them back the same way.
    BOOST_TEST(entry_line(t.entries()[0].hash, r) + "\n" == text);
}

BOOST_AUTO_TEST_CASE(an_old_line_without_dates_still_parses) {
    TokenTable t = TokenTable::parse(k_hash + " operator ops on-call\n", "tokens");
    BOOST_TEST(t.entries()[0].role.expires_ms == 0);
    BOOST_TEST(t.entries()[0].role.revoked_ms == 0);
    BOOST_TEST(t.entries()[0].role.label == "ops on-call");
}

BOOST_AUTO_TEST_CASE(a_bad_date_in_the_file_names_the_line) {
    try {
        TokenTable::parse("\n" + k_hash + " operator expires=tomorrow\n", "tokens");
        BOOST_FAIL("accepted");
    } catch (const Error& e) {
        const std::string m = e.what();
        BOOST_TEST(m.find("tokens:2:") != std::string::npos, m);
        BOOST_TEST(m.find("expires=tomorrow") != std::string::npos, m);
    }
}

BOOST_AUTO_TEST_CASE(expires_takes_a_duration_or_a_utc_time_in_the_future) {
    BOOST_TEST(parse_token_expiry("30d", k_noon) == k_noon + 30LL * 86'400'000);
    BOOST_TEST(parse_token_expiry("12h", k_noon) == k_noon + 12LL * 3'600'000);
    BOOST_TEST(parse_token_expiry("2027-02-01T00:00:00Z", k_noon) == parse_utc_ms("2027-02-01"));
    for (const char* bad : {"soon", "-5d", "2027-01-01", "2027-13-01T00:00Z", ""}) {
        try {
            parse_token_expiry(bad, k_noon);
            BOOST_ERROR("accepted " << bad);
        } catch (const Error& e) {
            BOOST_TEST(static_cast<int>(e.code()) == 2, bad);
            BOOST_TEST(std::string(e.what()).find("--expires") != std::string::npos, e.what());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_token_file_follows_an_atomic_replacement_and_keeps_the_last_good_table) {
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::temp_directory_path() / ("hearth-token-file-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "tokens").string();
    const std::string tok = generate_token();
    Role op = parse_role("operator");
    write_file_atomic(path, token_line(tok, op, "") + "\n", 0600);
    TokenFile f(path);
    BOOST_TEST_REQUIRE(f.find(tok).has_value());
    BOOST_TEST(f.find(tok)->revoked_ms == 0);
    // Revoked in a new file renamed over the old: seen at the next lookup.
    op.revoked_ms = k_noon;
    write_file_atomic(path, entry_line(sha256(tok), op) + "\n", 0600);
    BOOST_TEST_REQUIRE(f.find(tok).has_value());
    BOOST_TEST(f.find(tok)->revoked_ms == k_noon);
    // A malformed replacement: the last good table stays.
    write_file_atomic(path, "garbage\n", 0600);
    BOOST_TEST_REQUIRE(f.find(tok).has_value());
    BOOST_TEST(f.find(tok)->revoked_ms == k_noon);
    // The line deleted: the token is unknown.
    write_file_atomic(path, "# none\n", 0600);
    BOOST_TEST(!f.find(tok).has_value());
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
