#include "api/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/x509_fingerprint.h"

namespace hvnet::api {

namespace ssl = boost::asio::ssl;

namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Free<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;

std::string pem_of(const std::function<int(BIO*)>& write) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || write(b.get()) != 1) return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, size_t(n));
}

Cert parse_cert(const std::string& pem) {
  Bio b(BIO_new_mem_buf(pem.data(), int(pem.size())));
  return Cert(b ? PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr) : nullptr);
}

Status write_private(const std::string& path, const std::string& data, mode_t mode) {
  const std::string tmp = path + ".new";
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ::umask(077);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out.flush()) return make_error("INTERNAL_ERROR", {"cannot write " + tmp});
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return make_error("INTERNAL_ERROR", {"cannot replace " + path, ec.message()});
  return ok_status();
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Status ensure_self_signed(const TlsFiles& files, const std::vector<std::string>& names,
                          const std::vector<std::string>& addresses) {
  if (std::filesystem::exists(files.key) && std::filesystem::exists(files.cert)) return ok_status();
  Pkey key(EVP_RSA_gen(2048));
  Cert cert(X509_new());
  if (!key || !cert) return make_error("INTERNAL_ERROR", {"cannot make a TLS key"});
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return make_error("INTERNAL_ERROR", {"RAND_bytes"});
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);  // xapi: ten years
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const std::string cn = names.empty() ? "hvnet" : names.front();
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  std::string san;
  for (const auto& n : names) san += (san.empty() ? "" : ",") + ("DNS:" + n);
  for (const auto& a : addresses) san += (san.empty() ? "" : ",") + ("IP:" + a);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : std::vector<std::pair<int, std::string>>{
           {NID_subject_alt_name, san},
           {NID_basic_constraints, "critical,CA:FALSE"},
           {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
           {NID_ext_key_usage, "serverAuth"}}) {
    if (value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) return make_error("INTERNAL_ERROR", {"bad certificate extension " + value});
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return make_error("INTERNAL_ERROR", {"cannot sign the certificate"});
  const std::string key_pem = pem_of([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  const std::string cert_pem = pem_of([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  return write_identity(files, cert_pem, key_pem);
}

Status write_identity(const TlsFiles& files, const std::string& cert_pem,
                      const std::string& key_pem) {
  if (auto st = write_private(files.key, key_pem, 0600); !st) return st;
  return write_private(files.cert, cert_pem, 0644);
}

Result<std::shared_ptr<ssl::context>> server_context(const std::string& cert_pem,
                                                     const std::string& key_pem) {
  // xapi's error codes for what host.install_server_certificate refuses.
  Cert cert = parse_cert(cert_pem);
  if (!cert) return make_error("SERVER_CERTIFICATE_INVALID", {"not a PEM certificate"});
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0)
    return make_error("SERVER_CERTIFICATE_EXPIRED", {});
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0)
    return make_error("SERVER_CERTIFICATE_NOT_VALID_YET", {});
  Bio kb(BIO_new_mem_buf(key_pem.data(), int(key_pem.size())));
  Pkey key(kb ? PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return make_error("SERVER_CERTIFICATE_KEY_INVALID", {"not a PEM private key"});
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return make_error("SERVER_CERTIFICATE_KEY_MISMATCH", {});
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(
      c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2: forward-secret AEAD only (TLS 1.3's suites are all of that kind).
  SSL_CTX_set_cipher_list(c, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!SHA1");
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) return make_error("SERVER_CERTIFICATE_CHAIN_INVALID", {ec.message()});
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return make_error("SERVER_CERTIFICATE_KEY_INVALID", {ec.message()});
  return ctx;
}

std::string certificate_fingerprint(const std::string& cert_pem) {
  return x509_fingerprint(parse_cert(cert_pem).get());
}

}  // namespace hvnet::api
