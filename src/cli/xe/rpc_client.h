// RpcClient: xe's connection to hvnetd: JSON-RPC over HTTP on the local Unix socket (default) or
// over TCP (-s host [-p port]): HTTPS unless --nossl. The server's certificate is checked against
// a CA file (--cafile: chain and host name) or else trusted on first use: its SHA-256 fingerprint
// is kept in ~/.xe_known_hosts (HVNET_XE_KNOWN_HOSTS) and a different one later is refused with
// CERTIFICATE_MISMATCH. call() returns the value or the XenAPI error; transport failures come
// back as a CONNECTION_FAILED error naming the endpoint.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/result.h"

namespace hvnet::xe {

struct Endpoint {
  std::string unix_path = "/run/hvnet/xapi.sock";
  std::string host;      // non-empty: TCP
  uint16_t port = 8443;  // 8090 with --nossl (hvnetd's defaults)
  bool port_given = false;
  bool tls = true;
  std::string ca_file;      // "": trust on first use
  std::string known_hosts;  // "": ~/.xe_known_hosts
};

class RpcClient {
 public:
  explicit RpcClient(Endpoint ep) : ep_(std::move(ep)) {}
  Result<nlohmann::json> call(const std::string& method, nlohmann::json params);
  // Logs in and remembers the session for later calls (session ref is prepended to params).
  Status login(const std::string& user, const std::string& password);
  void logout();
  Result<nlohmann::json> session_call(const std::string& method, nlohmann::json params);
  // The SHA-256 fingerprint of the certificate the server showed last ("" before, or not TLS).
  const std::string& peer_fingerprint() const { return fingerprint_; }
  const std::string& session() const { return session_; }

 private:
  Result<std::string> post(const std::string& body);
  // Trust on first use: the fingerprint the server showed against the known hosts.
  Status trust(const std::string& fingerprint);
  Endpoint ep_;
  std::string session_;
  std::string fingerprint_;
  int next_id_ = 1;
};

}  // namespace hvnet::xe
