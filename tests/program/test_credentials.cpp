#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/error.hpp"
#include "runner/clients/credentials.hpp"

using hearth::ClientCredentials;
using hearth::load_credentials;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;
namespace fs = std::filesystem;

namespace {

// An environment of its own for each test, never the process's.
struct Env {
    std::map<std::string, std::string> vars;
    std::function<const char*(const char*)> lookup() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

void secret(const std::string& path, const std::string& text, unsigned mode) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
}

const std::string k_token =
    "hearth_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

}  // namespace

BOOST_AUTO_TEST_SUITE(credentials)

BOOST_AUTO_TEST_CASE(no_configuration_means_no_token) {
    TempDir home;
    Env env{{{"HOME", home.path().string()}}};
    ClientCredentials c = load_credentials(env.lookup());
    BOOST_TEST(!c.token.has_value());
    BOOST_TEST(!c.cacert.has_value());
}

BOOST_AUTO_TEST_CASE(hearth_token_comes_first_then_the_file_then_the_config_file) {
    TempDir home;
    secret(home.file("file-token"), "from_file\n", 0600);
    secret(home.file(".config/hearth/token"), "from_config\n", 0600);
    Env env{{{"HOME", home.path().string()},
             {"HEARTH_TOKEN", k_token},
             {"HEARTH_TOKEN_FILE", home.file("file-token")}}};
    ClientCredentials c = load_credentials(env.lookup());
    BOOST_TEST(*c.token == k_token);
    BOOST_TEST(c.origin == "HEARTH_TOKEN");
    env.vars.erase("HEARTH_TOKEN");
    c = load_credentials(env.lookup());
    BOOST_TEST(*c.token == "from_file");  // the newline an editor adds is not part of it
    BOOST_TEST(c.origin == home.file("file-token"));
    env.vars.erase("HEARTH_TOKEN_FILE");
    c = load_credentials(env.lookup());
    BOOST_TEST(*c.token == "from_config");
    BOOST_TEST(c.origin == home.file(".config/hearth/token"));
    // XDG_CONFIG_HOME moves the config directory.
    secret(home.file("xdg/hearth/token"), "from_xdg", 0400);
    env.vars["XDG_CONFIG_HOME"] = home.file("xdg");
    BOOST_TEST(*load_credentials(env.lookup()).token == "from_xdg");
}

BOOST_AUTO_TEST_CASE(a_token_file_readable_by_others_is_refused_with_the_chmod) {
    TempDir home;
    secret(home.file("t"), k_token, 0644);
    Env env{{{"HEARTH_TOKEN_FILE", home.file("t")}}};
    BOOST_CHECK_EXCEPTION(load_credentials(env.lookup()), hearth::Error,
                          usage_mentioning("chmod 0600 " + home.file("t")));
    BOOST_CHECK_EXCEPTION(load_credentials(env.lookup()), hearth::Error,
                          usage_mentioning("mode 0644"));
    secret(home.file(".config/hearth/token"), k_token, 0640);
    Env config{{{"HOME", home.path().string()}}};
    BOOST_CHECK_EXCEPTION(load_credentials(config.lookup()), hearth::Error,
                          usage_mentioning(".config/hearth/token"));
}

BOOST_AUTO_TEST_CASE(a_symlinked_or_missing_named_token_file_is_refused) {
    TempDir home;
    secret(home.file("real"), k_token, 0600);
    fs::create_symlink(home.file("real"), home.file("link"));
    Env env{{{"HEARTH_TOKEN_FILE", home.file("link")}}};
    BOOST_CHECK_EXCEPTION(load_credentials(env.lookup()), hearth::Error,
                          usage_mentioning("symlink"));
    env.vars["HEARTH_TOKEN_FILE"] = home.file("missing");
    BOOST_CHECK_EXCEPTION(load_credentials(env.lookup()), hearth::Error,
                          usage_mentioning(home.file("missing")));
}

BOOST_AUTO_TEST_CASE(a_token_with_spaces_or_line_breaks_inside_is_refused) {
    Env env{{{"HEARTH_TOKEN", "abc\r\nX-Evil: 1"}}};
    BOOST_CHECK_EXCEPTION(load_credentials(env.lookup()), hearth::Error,
                          usage_mentioning("HEARTH_TOKEN holds a space or control character"));
    env.vars["HEARTH_TOKEN"] = "two words";
    BOOST_CHECK_EXCEPTION(load_credentials(env.lookup()), hearth::Error,
                          usage_mentioning("HEARTH_TOKEN"));
    TempDir home;
    secret(home.file("t"), "\n\n", 0600);
    Env empty{{{"HEARTH_TOKEN_FILE", home.file("t")}}};
    BOOST_CHECK_EXCEPTION(load_credentials(empty.lookup()), hearth::Error,
                          usage_mentioning("holds no token"));
}

BOOST_AUTO_TEST_CASE(hearth_cacert_must_name_a_readable_file) {
    TempDir d;
    std::ofstream(d.file("ca.pem")) << "-----BEGIN CERTIFICATE-----\n";
    Env env{{{"HEARTH_CACERT", d.file("ca.pem")}}};
    BOOST_TEST(*load_credentials(env.lookup()).cacert == d.file("ca.pem"));
    env.vars["HEARTH_CACERT"] = d.file("nope.pem");
    BOOST_CHECK_EXCEPTION(load_credentials(env.lookup()), hearth::Error,
                          usage_mentioning("HEARTH_CACERT=" + d.file("nope.pem")));
    env.vars["HEARTH_CACERT"] = d.path().string();
    BOOST_CHECK_EXCEPTION(load_credentials(env.lookup()), hearth::Error,
                          usage_mentioning("not a regular file"));
}

BOOST_AUTO_TEST_CASE(a_refusal_names_the_agent_its_reason_and_the_token_sent) {
    ClientCredentials none;
    std::string m =
        hearth::refusal_message("http://n1:9750", 401, "no token", "an operator token", none);
    BOOST_TEST(m.find("grid-agent at http://n1:9750: 401 no token") == 0u, m);
    BOOST_TEST(m.find("no token was sent: set HEARTH_TOKEN") != std::string::npos, m);
    ClientCredentials bank{std::string("t"), "/home/b/.config/hearth/token", std::nullopt};
    m = hearth::refusal_message("http://n1:9750", 403,
                                "tenant 'bank' may not read tenant 'studio' (use a token of that "
                                "tenant or an operator token)",
                                "a token of tenant 'studio' or an operator token", bank);
    BOOST_TEST(m ==
               "grid-agent at http://n1:9750: 403 tenant 'bank' may not read tenant 'studio' "
               "(use a token of that tenant or an operator token); the token sent is from "
               "/home/b/.config/hearth/token");
    // Without the agent's reason, the role needed is said.
    m = hearth::refusal_message("http://n1:9750", 403, "", "a facility or operator token", bank);
    BOOST_TEST(m.find("403 refused; this takes a facility or operator token") != std::string::npos,
               m);
    m = hearth::refusal_message("http://n1:9750", 401, "the token is not valid here", "x", bank);
    BOOST_TEST(m.find("this agent does not know it") != std::string::npos, m);
}

BOOST_AUTO_TEST_SUITE_END()
