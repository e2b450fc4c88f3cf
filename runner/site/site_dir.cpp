#include "runner/site/site_dir.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace hearth {

void save_site_settings(const SiteDir& dir, const SiteSettings& s) {
    nlohmann::json j = {{"site", s.site},
                        {"server", s.server},
                        {"token_file", s.token_file},
                        {"cacert", s.cacert},
                        {"timeout_ms", s.timeout_ms},
                        {"max_buffer_bytes", s.max_buffer_bytes},
                        {"tenant_users", s.tenant_users}};
    write_file_atomic(dir.settings(), j.dump(2) + "\n", 0600);
}

SiteSettings load_site_settings(const SiteDir& dir) {
    std::ifstream in(dir.settings());
    if (!in) throw Error("cannot read " + dir.settings() + ": start the site with 'hearth site'");
    nlohmann::json j = nlohmann::json::parse(in);
    SiteSettings s;
    s.site = j.at("site").get<std::string>();
    s.server = j.at("server").get<std::string>();
    s.token_file = j.value("token_file", "");
    s.cacert = j.value("cacert", "");
    s.timeout_ms = j.value("timeout_ms", 10000L);
    s.max_buffer_bytes = j.value("max_buffer_bytes", std::uint64_t{256} << 20);
    if (j.contains("tenant_users"))
        s.tenant_users = j["tenant_users"].get<std::map<std::string, std::string>>();
    return s;
}

}  // namespace hearth
