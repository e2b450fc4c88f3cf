#include "runner/site/site_link.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/auth.hpp"
#include "core/result_buffer.hpp"
#include "runner/clients/http_client.hpp"

namespace fs = std::filesystem;

namespace hearth {
namespace {

// The server's own words for a refusal, when it answered with a JSON error.
std::string refusal(const HttpReply& r) {
    std::string why = "HTTP " + std::to_string(r.status);
    try {
        auto j = nlohmann::json::parse(r.body);
        if (j.contains("error")) why += ": " + j.at("error").get<std::string>();
    } catch (const std::exception&) {
    }
    return why;
}

}  // namespace

std::string sha256_hex(const std::string& data) { return to_hex(sha256(data)); }

SiteLink::SiteLink(std::string server, std::string site, long timeout_ms)
    : m_server(std::move(server)), m_site(std::move(site)), m_timeout_ms(timeout_ms) {
    while (!m_server.empty() && m_server.back() == '/') m_server.pop_back();
}

SiteLink::Answer SiteLink::work(const WorkRequest& req) {
    HttpReply r =
        http_request(m_server + "/v1/sites/" + url_escape(m_site) + "/work",
                     dump_json(to_json(req)), m_timeout_ms, std::nullopt, m_connections.get());
    Answer a;
    if (!r.answered()) {
        a.failure = r.failure;
        return a;
    }
    if (r.status != 200) {
        a.failure = refusal(r);
        return a;
    }
    try {
        a.reply = work_reply_from_json(nlohmann::json::parse(r.body));
    } catch (const std::exception& e) {
        a.failure = std::string("unreadable work reply: ") + e.what();
    }
    return a;
}

std::string SiteLink::put_blob(const std::string& sha256, const std::string& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    try {
        // About 1 MB/s at least, on top of the request's own allowance.
        HttpReply r = http_put_file(m_server + "/v1/blobs/" + sha256, path,
                                    m_timeout_ms + static_cast<long>((ec ? 0 : size) / 1000),
                                    m_connections.get());
        if (!r.answered()) return r.failure;
        if (r.status / 100 != 2) return refusal(r);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

std::string SiteLink::get_blob(const std::string& sha256, const std::string& path) {
    const std::string tmp = path + ".part";
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    try {
        HttpReply r = http_get_file(m_server + "/v1/blobs/" + sha256, tmp, m_timeout_ms * 6,
                                    m_connections.get());
        if (!r.answered()) return r.failure;
        if (r.status != 200) return refusal(r);
    } catch (const std::exception& e) {
        return e.what();
    }
    std::ifstream in(tmp, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (sha256_hex(ss.str()) != sha256) {
        fs::remove(tmp, ec);
        return "the bytes served do not hash to " + sha256;
    }
    fs::rename(tmp, path, ec);
    if (ec) return "cannot keep " + path + ": " + ec.message();
    return "";
}

}  // namespace hearth
