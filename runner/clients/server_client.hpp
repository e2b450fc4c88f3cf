#pragma once
// The clients' side of the scheduler's API (hearth-api(7)): hearth submit,
// jobs, status, logs, cancel, resume, fetch and run --server. Every refusal
// becomes an Error carrying the server's own reason: 4xx exit 2 (the
// request was wrong, nothing changed), 5xx and no answer exit 4.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jobs_api.hpp"

namespace hearth {

// The scheduler's URL: flag, else HEARTH_SERVER, else nullopt (the command
// then works on local job directories, as before there was a server).
std::optional<std::string> server_url(const std::optional<std::string>& flag);

class ServerClient {
public:
    explicit ServerClient(std::string url);
    const std::string& url() const { return m_url; }

    nlohmann::json get(const std::string& path) const;
    std::string get_text(const std::string& path) const;
    nlohmann::json post(const std::string& path, const nlohmann::json& body) const;

    // Uploads a local file to the content store (PUT /v1/blobs/SHA) and
    // returns its reference, named `name` in the task's scratch directory.
    BlobRef upload(const std::string& file, const std::string& name) const;
    // Downloads a blob to dest (written beside it, checked against its
    // SHA-256 and size, then renamed into place with its mode).
    void download(const OutputInfo& out, const std::string& dest) const;

    JobInfo job(const std::string& id) const;

private:
    std::string m_url;
};

// A job's outputs into dir, byte for byte; returns how many files.
std::size_t fetch_outputs(const ServerClient& server, const std::string& job, const std::string& dir);

}  // namespace hearth
