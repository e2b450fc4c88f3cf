#include "runner/clients/credentials.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/text.hpp"

namespace hearth {
namespace {

// The agents read "Bearer TOKEN" as one word of visible ASCII (core/auth.hpp
// bearer_token); anything else would be refused there, or, with a line
// break, smuggle a header into the request.
std::string checked_token(const std::string& raw, const std::string& origin) {
    std::string t = trimmed(raw);
    if (t.empty())
        throw usage_error(origin + " holds no token; put the token 'hearth token new' printed in it");
    if (t.size() > 512)
        throw usage_error(origin + " holds more than a token (over 512 characters); keep only the "
                          "token 'hearth token new' printed");
    for (unsigned char c : t)
        if (c <= ' ' || c >= 127)
            throw usage_error(origin + " holds a space or control character inside the token; keep "
                              "only the one word 'hearth token new' printed");
    return t;
}

std::string from_file(const std::string& path, const std::string& origin) {
    // read_secret_file refuses a symlink and a mode above 0600, naming the chmod.
    return checked_token(read_secret_file(path, 0600), origin);
}

}  // namespace

std::optional<std::string> load_cacert(const std::function<const char*(const char*)>& env) {
    const char* v = env("HEARTH_CACERT");
    if (!v || !*v) return std::nullopt;
    const std::string ca = v;
    struct stat st {};
    std::string why;
    if (::stat(ca.c_str(), &st) != 0 || ::access(ca.c_str(), R_OK) != 0) why = std::strerror(errno);
    else if (!S_ISREG(st.st_mode)) why = "not a regular file";
    if (!why.empty())
        throw usage_error("HEARTH_CACERT=" + ca + ": cannot read it (" + why +
                          "); give the PEM file of the CA that signed the agents' certificates");
    return ca;
}

ClientCredentials load_credentials(const std::function<const char*(const char*)>& env) {
    auto var = [&](const char* name) -> std::string {
        const char* v = env(name);
        return v ? v : "";
    };
    ClientCredentials c;
    if (std::string t = var("HEARTH_TOKEN"); !t.empty()) {
        c.token = checked_token(t, "HEARTH_TOKEN");
        c.origin = "HEARTH_TOKEN";
    } else if (std::string f = var("HEARTH_TOKEN_FILE"); !f.empty()) {
        c.token = from_file(f, f);
        c.origin = f;
    } else {
        std::string dir = var("XDG_CONFIG_HOME");
        if (dir.empty() && !var("HOME").empty()) dir = var("HOME") + "/.config";
        if (!dir.empty()) {
            const std::string f = dir + "/hearth/token";
            struct stat st {};
            if (::lstat(f.c_str(), &st) == 0) {
                c.token = from_file(f, f);
                c.origin = f;
            }
        }
    }
    c.cacert = load_cacert(env);
    return c;
}

namespace {

const char* from_environ(const char* name) { return std::getenv(name); }

}  // namespace

// Read once each: the threads of one command all send the same token.
const ClientCredentials& client_credentials() {
    static std::mutex m;
    static std::optional<ClientCredentials> loaded;
    std::lock_guard<std::mutex> lock(m);
    if (!loaded) loaded = load_credentials(from_environ);
    return *loaded;
}

const std::optional<std::string>& client_cacert() {
    static std::mutex m;
    static std::optional<std::optional<std::string>> loaded;
    std::lock_guard<std::mutex> lock(m);
    if (!loaded) loaded = load_cacert(from_environ);
    return *loaded;
}

std::string refusal_message(const std::string& agent, long status, const std::string& agent_error,
                            const std::string& needed, const ClientCredentials& sent) {
    // The agents' reasons already name the role that would do; the needed
    // role is added only when the agent gave none.
    std::string msg = "grid-agent at " + agent + ": " + std::to_string(status) + " " +
                      (agent_error.empty() ? "refused; this takes " + needed : agent_error);
    if (!sent.token)
        return msg + "; no token was sent: set HEARTH_TOKEN, HEARTH_TOKEN_FILE or "
                     "~/.config/hearth/token (hearth(1), AGENT TOKENS)";
    if (status == 401)
        return msg + "; the token sent is from " + sent.origin + ", and this agent does not know it";
    return msg + "; the token sent is from " + sent.origin;
}

}  // namespace hearth
