// PUT and GET /v1/blobs/SHA: the content store over HTTP. Uploads stream
// to disk (hashed, capped, renamed into place when the hash matches);
// downloads stream from the file.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "runner/serve/blob_sink.hpp"
#include <httplib.h>

#include "core/error.hpp"
#include "runner/serve/serve_http.hpp"
#include "runner/serve/serve_routes.hpp"
#include "runner/serve/thumbnail_maker.hpp"

namespace hearth {

using namespace serve_http;

void ServeApi::install_blob_routes(httplib::Server& s) {
    s.Put(R"(/v1/blobs/([0-9a-f]{64}))",
          [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
              try {
                  const std::string sha = req.matches[1];
                  if (!req.has_header("Content-Length"))
                      return error_reply(res, 411, "send Content-Length with the upload");
                  bool have = false;
                  {
                      std::lock_guard lock(m_mu);
                      have = m_sched.has_blob(sha);
                  }
                  // Streamed to where the content store keeps it
                  // (STATE/blobs/ab/SHA, core/content_store.hpp, hearth-queue(5))
                  // outside the lock: Scheduler::put_blob would need the whole
                  // upload in memory.
                  const std::string path = m_state_dir + "/blobs/" + sha.substr(0, 2) + "/" + sha;
                  // Read (and drop) the body even when the blob is there already:
                  // the connection stays usable for the client's next request.
                  std::optional<BlobSink> sink;
                  if (!have) sink.emplace(path, sha, k_max_blob_bytes);
                  std::string failure;
                  reader([&](const char* data, std::size_t n) {
                      if (!sink) return true;
                      try {
                          sink->write(data, n);
                          return true;
                      } catch (const std::exception& e) {
                          failure = e.what();
                          return false;
                      }
                  });
                  if (!failure.empty()) throw usage_error(failure);
                  if (sink) {
                      sink->commit();
                      std::lock_guard lock(m_mu);
                      if (!m_sched.has_blob(sha))
                          throw Error("the content store does not see blob " + sha + " at " + path);
                  }
                  json_reply(res, {{"sha256", sha}, {"stored", !have}}, have ? 200 : 201);
              } catch (const Error& e) {
                  error_reply(res, e.http_status(), e.what());
              } catch (const std::exception& e) {
                  error_reply(res, 500, std::string("internal error: ") + e.what());
              }
          });
    s.Put(R"(/v1/blobs/(.*))", [](const httplib::Request&, httplib::Response& res, const httplib::ContentReader&) {
        error_reply(res, 400, "a blob is named by its SHA-256: 64 lowercase hex digits (sha256sum FILE)");
    });
    s.Get(R"(/v1/blobs/([^/]*))", guarded([this](const httplib::Request& req, httplib::Response& res) {
              const std::string sha = req.matches[1];
              if (!is_sha256_hex(sha))
                  throw usage_error("a blob is named by its SHA-256: 64 lowercase hex digits (sha256sum FILE)");
              std::string path;
              {
                  std::lock_guard lock(m_mu);
                  if (!m_sched.has_blob(sha)) throw not_found_error("no blob " + sha + "; upload it with PUT first");
                  path = m_sched.blob_path(sha);
              }
              // Streamed from the file: a large output never sits in memory whole.
              const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
              if (fd < 0) throw Error("cannot open blob " + path + ": " + std::strerror(errno));
              const auto size = static_cast<std::size_t>(std::filesystem::file_size(path));
              res.set_content_provider(
                  size, "application/octet-stream",
                  [fd](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                      char buf[64 * 1024];
                      const ssize_t n = ::pread(fd, buf, std::min(length, sizeof buf), static_cast<off_t>(offset));
                      if (n <= 0) return false;
                      return sink.write(buf, static_cast<std::size_t>(n));
                  },
                  [fd](bool) { ::close(fd); });
          }));
    // A small PNG of an image blob (the Jobs view's frame grid), made by
    // ffmpeg on the first request and kept beside the store.
    s.Get(R"(/v1/blobs/([0-9a-f]{64})/thumb)",
          guarded([this](const httplib::Request& req, httplib::Response& res) {
              const std::string sha = req.matches[1];
              std::string path;
              {
                  std::lock_guard lock(m_mu);
                  if (!m_sched.has_blob(sha))
                      throw not_found_error("no blob " + sha + "; upload it with PUT first");
                  path = m_sched.blob_path(sha);
              }
              std::ifstream in(blob_thumbnail(m_state_dir, sha, path), std::ios::binary);
              std::string png((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
              res.set_header("Cache-Control",
                             "private, max-age=86400");  // a blob's content never changes
              res.set_content(png, "image/png");
          }));
}

}  // namespace hearth
