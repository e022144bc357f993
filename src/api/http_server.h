// HttpServer: serves the Api over HTTP/1.1 (Boost.Beast) on TCP addresses and Unix sockets:
// XML-RPC on POST /, /RPC2 and /xmlrpc, JSON-RPC on POST /jsonrpc and /json, CORS preflight on
// OPTIONS; GET / and /ui/... the web console (ui/, served from memory, with a Content-Security-
// Policy that allows no inline script and nothing from elsewhere), GET /metrics the Prometheus
// text of Api::metrics_text.
//
// Design: asynchronous. A fixed pool of `io_threads` runs every connection's reads, writes and
// timers (no thread per connection, none per request); API calls run on a fixed pool of
// `handler_threads`, so a slow call never stalls the reading of other requests. The thread count
// is therefore fixed whatever the clients do. A connection waits for its reply as an event (the
// handler posts it back to the connection's strand), so a long-polling call such as event.from
// hands its reply back later, from the event hub's thread (a change, or its deadline), and holds
// no handler thread meanwhile.
//
// Limits (ServerLimits, each an hvnetd flag): connections in all and per client address (over
// the cap a client gets an immediate 503 and close), the time a connection may sit idle, the time
// a request's header and body may take to arrive and the reply to be taken (so slow senders and
// readers lose their connection, not a thread), header and body sizes, and the request bytes all
// connections together may hold. When the process runs out of file descriptors the server
// refuses the next connection cleanly with a reserved descriptor and pauses accepting briefly
// (never spins). The caps are lowered at start to fit RLIMIT_NOFILE (see fit_to_fd_limit).
//
// Errors: a body that is not a valid request gets 400 with the reason (a JSON-RPC refusal on
// /jsonrpc), a body over the limit 413, a disallowed Origin 403, unknown paths 404; whatever
// throws while a request is handled becomes INTERNAL_ERROR or a 500, logged once, and the server
// goes on. Thread-safe; stop() is idempotent.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/api.h"
#include "api/wire.h"

namespace boost::asio::ssl {
class context;
}

namespace hvnet::api {

struct ServerLimits {
  size_t max_connections = 4096;         // TCP connections, all clients
  size_t max_per_address = 512;          // TCP connections from one client address
  size_t max_local_connections = 256;    // Unix-socket connections (apart, so root always gets in)
  size_t max_header_bytes = 16 << 10;    // request line and headers
  size_t max_body_bytes = 1 << 20;       // one request body
  size_t max_buffered_bytes = 64 << 20;  // request bodies being read or handled, all connections
  std::chrono::milliseconds idle_timeout{60000};    // no request begun on an open connection
  std::chrono::milliseconds header_timeout{10000};  // from a request's first byte to its body
  std::chrono::milliseconds body_timeout{30000};    // the whole body
  std::chrono::milliseconds write_timeout{30000};   // the whole reply
  unsigned io_threads = 2;
  unsigned handler_threads = 4;
  // Origins (scheme://host[:port]) whose pages may call the API besides the API's own origin.
  std::vector<std::string> allowed_origins;
  // GET /metrics without a session: from loopback (or the Unix socket) always, from elsewhere
  // with "Authorization: Bearer <metrics_token>" when a token is set.
  std::string metrics_token;
  DecodeLimits decode;

  // Lowers the connection caps so that API sockets can never take the descriptors the daemon
  // needs for its own ports and files: a quarter of `nofile` (at least 64) is kept back.
  void fit_to_fd_limit(size_t nofile);
};

// A request as the router sees it, and its reply.
struct HttpRequest {
  std::string verb, target, body;
  std::string origin_header, host_header, authorization;  // "" when absent
  Caller caller;
};
struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::string allow_origin;  // echoed in Access-Control-Allow-Origin when set
  std::vector<std::pair<std::string, std::string>> headers;  // more header fields
};

class HttpServer {
 public:
  explicit HttpServer(Api& api, ServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // host:port; port 0 picks a free port (see tcp_port()). Call before start().
  Status listen_tcp(const std::string& host, uint16_t port);
  // HTTPS on host:port with the context of set_tls_context (no context yet: connections closed).
  Status listen_tls(const std::string& host, uint16_t port);
  // The TLS identity new connections get from now on (open ones keep theirs).
  void set_tls_context(std::shared_ptr<boost::asio::ssl::context> ctx);
  // https-only: false closes the plain-HTTP TCP listeners, true re-opens them on the same
  // addresses (the Unix socket is never closed).
  Status set_plain_http(bool open);
  uint16_t tls_port() const;
  Status listen_unix(const std::string& path);
  void start();  // starts the thread pools
  uint16_t tcp_port() const;
  void stop();

  // The router: one request in, one reply out, at once or later (long polls). Never throws.
  void handle_async(const HttpRequest& req, std::function<void(HttpReply)> done);
  // The same, waiting for the reply (tests, fuzzers).
  HttpReply handle(const HttpRequest& req);

  struct Counters {
    size_t open_tcp, open_local, refused, timed_out;
  };
  Counters counters() const;

  struct Impl;  // opaque: the connections and listeners of http_server.cc share it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hvnet::api
