// The API's TLS identity (OpenSSL): the server key and certificate hvnetd serves on its HTTPS
// listener. On first start hvnetd makes an RSA-2048 key (mode 0600) and a self-signed
// certificate whose subject alternative names are the host's names and addresses, as xapi does;
// an admin installs their own pair later (host.install_server_certificate) and the listener
// serves it from the next handshake, no restart. Contexts allow TLS 1.2 and 1.3 only, with
// forward-secret AEAD ciphers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/result.h"

namespace boost::asio::ssl {
class context;
}

namespace hvnet::api {

struct TlsFiles {
  std::string key, cert;  // paths (PEM)
};

// Makes key and certificate at `files` unless both exist. `names`: DNS names, `addresses`: IP
// addresses, for the certificate's subject alternative names (the first name is its CN).
Status ensure_self_signed(const TlsFiles& files, const std::vector<std::string>& names,
                          const std::vector<std::string>& addresses);
// A server context for this certificate (with its chain after it) and key, checked to belong
// together and valid now; refusals are xapi's SERVER_CERTIFICATE_* error codes.
Result<std::shared_ptr<boost::asio::ssl::context>> server_context(const std::string& cert_pem,
                                                                  const std::string& key_pem);
// Writes a new pair over `files` (key first, 0600; each file replaced atomically).
Status write_identity(const TlsFiles& files, const std::string& cert_pem,
                      const std::string& key_pem);
// SHA-256 of a PEM certificate's DER, as colon-separated hex ("" if it does not parse).
std::string certificate_fingerprint(const std::string& cert_pem);
std::string read_file(const std::string& path);

}  // namespace hvnet::api
