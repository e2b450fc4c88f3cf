#include "site_link.hpp"

#include "core/auth.hpp"
#include "core/result_buffer.hpp"
#include "http_client.hpp"

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
    HttpCall call;
    call.method = "POST";
    call.url = m_server + "/v1/sites/" + url_escape(m_site) + "/work";
    call.body = dump_json(to_json(req));
    call.timeout_ms = m_timeout_ms;
    HttpReply r = http_call(call);
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

std::string SiteLink::put_blob(const std::string& sha256, const std::string& data) {
    HttpCall call;
    call.method = "PUT";
    call.url = m_server + "/v1/blobs/" + sha256;
    call.body = data;
    call.content_type = "application/octet-stream";
    call.timeout_ms = m_timeout_ms + static_cast<long>(data.size() / 1000);  // ~1 MB/s floor
    HttpReply r = http_call(call);
    if (!r.answered()) return r.failure;
    if (r.status / 100 != 2) return refusal(r);
    return "";
}

std::optional<std::string> SiteLink::get_blob(const std::string& sha256, std::string& why) {
    HttpCall call;
    call.url = m_server + "/v1/blobs/" + sha256;
    call.timeout_ms = m_timeout_ms * 6;
    HttpReply r = http_call(call);
    if (!r.answered()) {
        why = r.failure;
        return std::nullopt;
    }
    if (r.status != 200) {
        why = refusal(r);
        return std::nullopt;
    }
    if (sha256_hex(r.body) != sha256) {
        why = "the bytes served do not hash to " + sha256;
        return std::nullopt;
    }
    return std::move(r.body);
}

}  // namespace hearth
