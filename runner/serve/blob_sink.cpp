#include "runner/serve/blob_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/auth.hpp"
#include "core/error.hpp"

namespace hearth {

struct BlobSink::Digest {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Digest() { EVP_MD_CTX_free(ctx); }
};

BlobSink::BlobSink(std::string final_path, std::string sha256, std::uint64_t max_bytes)
    : m_final(std::move(final_path)), m_sha256(std::move(sha256)), m_max(max_bytes),
      m_digest(std::make_unique<Digest>()) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(m_final).parent_path();
    // The store's fan-out directory (blobs/ab), private as the store makes it.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error("cannot create " + dir.string() + ": " + std::strerror(errno) + "; is the state directory writable?");
    // Beside the final name (same filesystem: the rename is atomic), and
    // unique per upload: two clients sending the same blob do not collide.
    std::random_device rd;
    m_tmp = (dir / (".upload-" + std::to_string(rd()) + "-" + std::to_string(::getpid()))).string();
    m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (m_fd < 0) throw Error("cannot create " + m_tmp + ": " + std::strerror(errno) + "; is the state directory writable?");
    if (!m_digest->ctx || EVP_DigestInit_ex(m_digest->ctx, EVP_sha256(), nullptr) != 1)
        throw Error("SHA-256 failed in OpenSSL's libcrypto; is the library intact?");
}

BlobSink::~BlobSink() {
    if (m_fd >= 0) ::close(m_fd);
    if (!m_done) ::unlink(m_tmp.c_str());
}

void BlobSink::write(const char* data, std::size_t n) {
    if (m_size + n > m_max)
        throw usage_error("the upload is over the limit of " + std::to_string(m_max) +
                          " bytes; split the input or ask the operator to raise it");
    EVP_DigestUpdate(m_digest->ctx, data, n);
    m_size += n;
    while (n > 0) {
        ssize_t w = ::write(m_fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw Error("cannot write " + m_tmp + ": " + std::strerror(errno));
        data += w;
        n -= static_cast<std::size_t>(w);
    }
}

void BlobSink::commit() {
    Sha256 h{};
    unsigned len = 0;
    if (EVP_DigestFinal_ex(m_digest->ctx, h.data(), &len) != 1 || len != h.size())
        throw Error("SHA-256 failed in OpenSSL's libcrypto; is the library intact?");
    const std::string got = to_hex(h);
    if (got != m_sha256)
        throw usage_error("the upload's SHA-256 is " + got + ", not " + m_sha256 +
                          " as named in the URL; it is corrupt or truncated: send it again");
    if (::fsync(m_fd) != 0) throw Error("cannot sync " + m_tmp + ": " + std::strerror(errno));
    ::close(m_fd);
    m_fd = -1;
    if (::rename(m_tmp.c_str(), m_final.c_str()) != 0)
        throw Error("cannot rename " + m_tmp + " to " + m_final + ": " + std::strerror(errno));
    m_done = true;
    // The rename itself survives a crash only once the directory is synced.
    const std::string dir = std::filesystem::path(m_final).parent_path().string();
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace hearth
