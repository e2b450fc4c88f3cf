#include "bmc_credentials.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hearth {

BmcLogin read_bmc_credentials(const std::string& path, const std::string& source) {
    const std::string what = source + " credentials file " + path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw usage_error(what + ": " + errno_text(errno) +
                          "; write user:password to it with mode 0600");
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw usage_error(what + " has mode " + mode + ", readable by others; run chmod 600 " +
                          path);
    }
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = trimmed(ss.str());
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || text.find('\n') != std::string::npos)
        throw usage_error(what + " must hold one line user:password");
    return {text.substr(0, colon), text.substr(colon + 1)};
}

}  // namespace hearth
