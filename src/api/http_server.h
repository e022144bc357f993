// HttpServer: serves the Api over HTTP/1.1 (Boost.Beast) on a TCP address and on a Unix socket:
// XML-RPC on POST / and /RPC2, JSON-RPC on POST /jsonrpc, CORS preflight on OPTIONS. One thread
// per listener and per connection (API traffic is light; the data plane never waits on it).
// Malformed bodies get HTTP 500; unknown paths 404.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/api.h"

namespace hvnet::api {

class HttpServer {
 public:
  explicit HttpServer(Api& api);
  ~HttpServer();

  // host:port; port 0 picks a free port (see tcp_port()).
  Status listen_tcp(const std::string& host, uint16_t port);
  Status listen_unix(const std::string& path);
  uint16_t tcp_port() const { return tcp_port_; }
  void stop();

  // One request/response, for tests: (method, target, body) -> (status, body).
  std::pair<int, std::string> handle(const std::string& verb, const std::string& target,
                                     const std::string& body, Origin origin);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Api& api_;
  uint16_t tcp_port_ = 0;
};

}  // namespace hvnet::api
