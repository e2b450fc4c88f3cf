#include "runner/clients/server_client.hpp"

#include <sys/stat.h>

#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/safe_path.hpp"
#include "runner/clients/credentials.hpp"
#include "runner/clients/http_client.hpp"

namespace hearth {
namespace {

namespace fs = std::filesystem;

constexpr long k_call_ms = 30'000;
// Uploads and downloads: bounded, but generous enough for a large input.
constexpr long k_transfer_ms = 6 * 3600 * 1000L;

std::string trim_slash(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

// The reply when it is a success; otherwise the Error the user sees.
const HttpReply& checked(const HttpReply& r, const std::string& url) {
    if (!r.answered())
        throw Error("cannot reach the scheduler at " + url + ": " + r.failure +
                    "; is hearth serve running there? check --server or HEARTH_SERVER");
    if (r.status >= 200 && r.status < 300) return r;
    std::string why;
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) why = j["error"].get<std::string>();
    else why = "HTTP " + std::to_string(r.status);
    std::string msg = "hearth serve at " + url + ": " + why;
    if (r.status == 401 || r.status == 403) {
        const ClientCredentials& sent = client_credentials();
        msg += sent.token ? "; the token sent is from " + sent.origin
                          : "; no token was sent: set HEARTH_TOKEN or HEARTH_TOKEN_FILE (hearth(1))";
    }
    // A refusal changed nothing: exit 2, as for any bad input.
    throw Error(msg, r.status >= 500 ? ExitCode::internal : ExitCode::usage, static_cast<int>(r.status));
}

nlohmann::json as_json(const HttpReply& r, const std::string& url) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded())
        throw Error("the scheduler at " + url + " answered with something other than JSON; is it hearth serve?");
    return j;
}

// Read in pieces: an input or output may be far larger than memory allows.
std::string file_sha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw usage_error("cannot read " + path + "; check the path");
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw Error("SHA-256 failed in OpenSSL's libcrypto; is the library intact?");
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw Error("cannot read " + path + " to the end");
    Sha256 h{};
    unsigned len = 0;
    if (EVP_DigestFinal_ex(ctx.get(), h.data(), &len) != 1 || len != h.size())
        throw Error("SHA-256 failed in OpenSSL's libcrypto; is the library intact?");
    return to_hex(h);
}

}  // namespace

std::optional<std::string> server_url(const std::optional<std::string>& flag) {
    if (flag && !flag->empty()) return trim_slash(*flag);
    const char* env = std::getenv("HEARTH_SERVER");
    if (env && *env) return trim_slash(env);
    return std::nullopt;
}

ServerClient::ServerClient(std::string url) : m_url(trim_slash(std::move(url))) {
    if (m_url.rfind("http://", 0) != 0 && m_url.rfind("https://", 0) != 0)
        throw usage_error("bad server URL '" + m_url + "': write http://HOST:PORT or https://HOST:PORT");
    // An unusable token file stops the command before its first request.
    client_credentials();
}

nlohmann::json ServerClient::get(const std::string& path) const {
    return as_json(checked(http_request(m_url + path, std::nullopt, k_call_ms), m_url), m_url);
}

std::string ServerClient::get_text(const std::string& path) const {
    return checked(http_request(m_url + path, std::nullopt, k_call_ms), m_url).body;
}

nlohmann::json ServerClient::post(const std::string& path, const nlohmann::json& body) const {
    return as_json(checked(http_request(m_url + path, body.dump(), k_call_ms), m_url), m_url);
}

BlobRef ServerClient::upload(const std::string& file, const std::string& name) const {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw usage_error("cannot stage '" + file + "' through a server: only regular files travel (tar a directory first)");
    BlobRef b;
    b.name = name;
    b.sha256 = file_sha256(file);
    b.size = static_cast<std::uint64_t>(st.st_size);
    b.mode = st.st_mode & 0777;
    checked(http_put_file(m_url + "/v1/blobs/" + b.sha256, file, k_transfer_ms), m_url);
    return b;
}

void ServerClient::download(const OutputInfo& out, const std::string& dest) const {
    const fs::path tmp = fs::path(dest).parent_path() / ("." + fs::path(dest).filename().string() + ".part");
    try {
        checked(http_get_file(m_url + "/v1/blobs/" + out.sha256, tmp.string(), k_transfer_ms), m_url);
        const auto size = fs::file_size(tmp);
        if (size != out.size || file_sha256(tmp.string()) != out.sha256)
            throw Error("the download of " + out.path + " does not match its SHA-256 and size; fetch it again");
        fs::permissions(tmp, static_cast<fs::perms>(out.mode & 0777));
        fs::rename(tmp, dest);
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
}

JobInfo ServerClient::job(const std::string& id) const {
    return job_info_from_json(get("/v1/jobs/" + url_escape(id)));
}

std::size_t fetch_outputs(const ServerClient& server, const std::string& job, const std::string& dir) {
    const auto j = server.get("/v1/jobs/" + url_escape(job) + "/outputs");
    std::size_t n = 0;
    fs::create_directories(dir);
    for (const auto& o : j.at("outputs")) {
        const OutputInfo out = output_info_from_json(o);
        // The server's paths are checked like a user's: nothing lands outside dir.
        if (!is_clean_relative_path(out.path))
            throw Error("the scheduler named an output '" + out.path + "' outside the job's directory; refusing it");
        const fs::path dest = fs::path(dir) / out.path;
        fs::create_directories(dest.parent_path());
        server.download(out, dest.string());
        ++n;
    }
    return n;
}

}  // namespace hearth
