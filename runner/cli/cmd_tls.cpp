// hearth tls ca / cert: a private CA and certificates signed by it, for
// TLS between sites and the scheduler (hearth-api(7) SECURITY MODEL), with
// libcrypto rather than a shell of openssl(1) commands. Keys are P-256,
// written mode 0600; nothing is overwritten, and nothing is written when
// an argument is refused.
#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "runner/cli/commands.hpp"

namespace hearth {
namespace {

namespace fs = std::filesystem;

constexpr long k_ca_days = 3650;
constexpr long k_cert_days = 825;  // what browsers and most clients still accept

struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

[[noreturn]] void crypto_fail(const std::string& what) {
    throw Error("cannot " + what + " (libcrypto failed)");
}

Pkey new_key() {
    Pkey k(EVP_EC_gen("P-256"));
    if (!k) crypto_fail("make a P-256 key");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) crypto_fail("add the extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

Cert new_cert(EVP_PKEY* key, const std::string& cn, long days) {
    Cert c(X509_new());
    if (!c) crypto_fail("make a certificate");
    X509_set_version(c.get(), 2);
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) crypto_fail("draw a serial number");
    serial[0] &= 0x7f;  // positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c.get()), -300);  // a little clock skew
    X509_gmtime_adj(X509_getm_notAfter(c.get()), days * 86400L);
    X509_set_pubkey(c.get(), key);
    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    return c;
}

// Refuses (usage_error) a file that exists: a CA or key is never replaced.
void must_be_new(const std::string& path) {
    if (fs::exists(fs::symlink_status(path)))
        throw usage_error(path +
                          " exists; hearth tls never replaces a key or certificate: move "
                          "it away first, or give another directory or --name");
}

// Writes through `write` to a new file of `mode` (O_EXCL: never over one).
template <class F>
void write_pem(const std::string& path, mode_t mode, F write) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw usage_error("cannot create " + path + ": " + std::strerror(errno));
    FILE* f = ::fdopen(fd, "w");
    if (!f) {
        ::close(fd);
        ::unlink(path.c_str());
        throw Error("cannot write " + path + ": " + std::strerror(errno));
    }
    const bool ok = write(f) == 1;
    const bool closed = std::fclose(f) == 0;
    if (!ok || !closed) {
        ::unlink(path.c_str());
        throw Error("cannot write " + path);
    }
}

void write_key(const std::string& path, EVP_PKEY* key) {
    write_pem(path, 0600, [&](FILE* f) {
        return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    });
}

void write_cert(const std::string& path, X509* cert) {
    write_pem(path, 0644, [&](FILE* f) { return PEM_write_X509(f, cert); });
}

std::string dir_of(const TlsArgs& a) {
    if (a.dir.empty()) throw usage_error("give the CA's directory: hearth tls ca DIR");
    return a.dir;
}

// An IP address (v4 or v6) or a DNS name; "" when it is neither.
std::string san_of(const std::string& host) {
    unsigned char buf[16];
    if (::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
        ::inet_pton(AF_INET6, host.c_str(), buf) == 1)
        return "IP:" + host;
    if (host.empty() || host.size() > 253 ||
        host.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*") !=
            std::string::npos ||
        host.front() == '.' || host.front() == '-')
        return "";
    return "DNS:" + host;
}

}  // namespace

int cmd_tls_ca(const TlsArgs& a) {
    const std::string dir = dir_of(a);
    const std::string key_path = dir + "/ca.key", cert_path = dir + "/ca.pem";
    must_be_new(key_path);
    must_be_new(cert_path);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw usage_error("cannot create " + dir + ": " + ec.message());
    Pkey key = new_key();
    Cert ca = new_cert(key.get(), a.name.empty() ? "hearth CA" : a.name, k_ca_days);
    X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
    add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
    if (X509_sign(ca.get(), key.get(), EVP_sha256()) == 0) crypto_fail("sign the CA");
    write_key(key_path, key.get());
    write_cert(cert_path, ca.get());
    std::cout << cert_path << "\n";
    std::cerr << "hearth: CA in " << dir << ": give " << cert_path
              << " to the sites (--cacert) and clients (HEARTH_CACERT); keep " << key_path
              << " private\n";
    return 0;
}

int cmd_tls_cert(const TlsArgs& a) {
    const std::string dir = dir_of(a);
    if (a.hosts.empty())
        throw usage_error("give --host NAME or --host IP: the names the server is reached by");
    std::string sans;
    for (const auto& h : a.hosts) {
        const std::string san = san_of(h);
        if (san.empty())
            throw usage_error("--host '" + h.substr(0, 64) +
                              "' is neither an IP address nor a host name");
        sans += (sans.empty() ? "" : ",") + san;
    }
    const std::string name = a.name.empty() ? a.hosts.front() : a.name;
    if (!is_safe_name(name))
        throw usage_error("--name '" + name.substr(0, 64) +
                          "' cannot name a file; give --name NAME ([A-Za-z0-9._-])");
    const std::string key_path = dir + "/" + name + ".key", cert_path = dir + "/" + name + ".pem";
    must_be_new(key_path);
    must_be_new(cert_path);
    // The CA's key and certificate, as hearth tls ca wrote them.
    FILE* kf = std::fopen((dir + "/ca.key").c_str(), "r");
    FILE* cf = std::fopen((dir + "/ca.pem").c_str(), "r");
    Pkey ca_key(kf ? PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr) : nullptr);
    Cert ca(cf ? PEM_read_X509(cf, nullptr, nullptr, nullptr) : nullptr);
    if (kf) std::fclose(kf);
    if (cf) std::fclose(cf);
    if (!ca_key || !ca)
        throw usage_error("no CA in " + dir + " (ca.key and ca.pem); make one with hearth tls ca " +
                          dir);
    Pkey key = new_key();
    Cert cert = new_cert(key.get(), a.hosts.front(), k_cert_days);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
    add_ext(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), ca.get(), NID_subject_alt_name, sans);
    add_ext(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) crypto_fail("sign the certificate");
    write_key(key_path, key.get());
    write_cert(cert_path, cert.get());
    std::cout << cert_path << "\n";
    std::cerr << "hearth: certificate for " << sans << ": hearth serve --tls-cert " << cert_path
              << " --tls-key " << key_path << "\n";
    return 0;
}

}  // namespace hearth
