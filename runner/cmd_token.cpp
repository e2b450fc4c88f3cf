// hearth token new: makes an agent API token, appends its hash to a tokens
// file (hearth-tokens(5)) and prints the token, once. Only the hash is kept,
// so a lost token is replaced, never recovered.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "commands.hpp"
#include "core/auth.hpp"
#include "core/error.hpp"

namespace hearth {
namespace {

// The agents' tokens file may be read by a 'hearth' group, never by others.
constexpr unsigned k_tokens_mode = 0640;

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::string read_all(int fd, const std::string& path) {
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(text.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error("cannot read " + path + ": " + std::strerror(errno));
        if (n == 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > (1u << 20))
            throw usage_error(path + " is over 1 MiB; is it a tokens file?");
    }
}

void write_all(int fd, const std::string& data, const std::string& path) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error("cannot write " + path + ": " + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

int cmd_token(const TokenArgs& a) {
    // Everything is checked before the file is touched.
    const Role role = parse_role(a.role);
    const std::string token = generate_token();
    const std::string line = token_line(token, role, a.label);
    if (a.tokens.empty()) throw usage_error("no tokens file: give --tokens FILE");

    Fd f;
    bool created = true;
    f.fd = ::open(a.tokens.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  k_tokens_mode);
    if (f.fd < 0 && errno == EEXIST) {
        created = false;
        f.fd = ::open(a.tokens.c_str(), O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    }
    if (f.fd < 0)
        throw usage_error("cannot open " + a.tokens + ": " + std::strerror(errno) +
                          (errno == ELOOP ? " (it is a symlink; give the file itself)"
                                          : "; check the path"));
    if (created) {
        // Exactly 0640 whatever the umask: the agent's group must read it.
        if (::fchmod(f.fd, k_tokens_mode) != 0)
            throw Error("cannot set the mode of " + a.tokens + ": " + std::strerror(errno));
    } else {
        struct stat st {};
        if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))
            throw usage_error(a.tokens + " is not a regular file; give a tokens file");
        if (std::string why = unsafe_mode_reason(st.st_mode, k_tokens_mode); !why.empty()) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%o", k_tokens_mode);
            throw usage_error("refusing " + a.tokens + ": " + why + "; run chmod " + mode + " " +
                              a.tokens);
        }
    }
    // Two operators adding tokens at once: one after the other.
    if (::flock(f.fd, LOCK_EX) != 0)
        throw Error("cannot lock " + a.tokens + ": " + std::strerror(errno));
    const std::string before = created ? "" : read_all(f.fd, a.tokens);
    // A malformed file would stop the agent at its next start; say so now,
    // before adding to it.
    TokenTable::parse(before, a.tokens);
    const std::string text = (before.empty() || before.back() == '\n' ? "" : "\n") + line + "\n";
    write_all(f.fd, text, a.tokens);
    if (::fsync(f.fd) != 0) throw Error("cannot sync " + a.tokens + ": " + std::strerror(errno));
    std::cout << token << std::endl;
    std::cerr << "hearth: store it: only its hash is kept (" << to_string(role) << ", in "
              << a.tokens << ")\n";
    return 0;
}

}  // namespace hearth
