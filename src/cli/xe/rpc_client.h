// RpcClient: xe's connection to hvnetd: JSON-RPC over HTTP on the local Unix socket (default) or
// TCP (-s host -p port). call() returns the value or the XenAPI error; transport failures come
// back as a CONNECTION_FAILED error naming the endpoint.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/result.h"

namespace hvnet::xe {

struct Endpoint {
  std::string unix_path = "/run/hvnet/xapi.sock";
  std::string host;  // non-empty: TCP
  uint16_t port = 8090;
};

class RpcClient {
 public:
  explicit RpcClient(Endpoint ep) : ep_(std::move(ep)) {}
  Result<nlohmann::json> call(const std::string& method, nlohmann::json params);
  // Logs in and remembers the session for later calls (session ref is prepended to params).
  Status login(const std::string& user, const std::string& password);
  void logout();
  Result<nlohmann::json> session_call(const std::string& method, nlohmann::json params);

 private:
  Result<std::string> post(const std::string& body);
  Endpoint ep_;
  std::string session_;
  int next_id_ = 1;
};

}  // namespace hvnet::xe
