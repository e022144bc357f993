#include "api/http_server.h"

#include <fcntl.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "api/ui_assets.h"
#include "model/utf8.h"

namespace hvnet::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;
using tls_stream = asio::ssl::stream<tcp::socket>;
using namespace std::chrono_literals;

void ServerLimits::fit_to_fd_limit(size_t nofile) {
  const size_t keep = std::max<size_t>(64, nofile / 4);
  const size_t budget = nofile > keep + 16 ? nofile - keep : 16;
  max_local_connections = std::clamp<size_t>(budget / 8, 4, max_local_connections);
  max_connections = std::min(max_connections, budget - std::min(budget - 8, max_local_connections));
  max_per_address = std::min(max_per_address, max_connections);
}

namespace {

constexpr const char* kRefusal =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
    "Retry-After: 1\r\nConnection: close\r\n\r\ntoo many connections\n";

// At most one line a second for events that a client can cause by the thousand.
class Throttled {
 public:
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    int64_t last = last_.load();
    if (now == last || !last_.compare_exchange_strong(last, now)) {
      ++suppressed_;
      return;
    }
    spdlog::warn(f, std::forward<Args>(args)...);
    if (size_t n = suppressed_.exchange(0))
      spdlog::warn("({} similar events in the last second)", n);
  }

 private:
  std::atomic<int64_t> last_{0};
  std::atomic<size_t> suppressed_{0};
};

void send_refusal(int fd) {
  (void)::send(fd, kRefusal, std::strlen(kRefusal), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

struct HttpServer::Impl {
  Impl(Api& a, ServerLimits l) : api(a), lim(std::move(l)) {}
  Api& api;
  ServerLimits lim;

  // Admission and accounting (touched on accept and close only).
  std::mutex mu;
  size_t open_tcp = 0, open_local = 0;
  std::unordered_map<std::string, size_t> per_address;
  std::atomic<size_t> buffered{0}, refused{0}, timed_out{0}, closed{0};
  size_t closed_at_trim = 0;
  std::atomic<bool> stopping{false};
  Throttled refusal_log, fd_log;
  int reserve_fd = -1;  // given up to refuse one connection cleanly when descriptors run out

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<asio::thread_pool> handlers;
  std::vector<std::thread> io_threads;
  std::vector<std::function<void()>> closers;  // close each acceptor
  std::vector<std::string> unix_paths;
  uint16_t tcp_port = 0, tls_port = 0;
  std::optional<asio::steady_timer> trim_timer;

  // TLS: the context new connections take (replaced whole by a certificate install).
  std::mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls_ctx;
  // Plain-HTTP TCP listeners, which https-only closes and re-opens on the same addresses.
  struct Plain {
    std::string host;
    uint16_t port;
    std::function<void()> close;
  };
  std::vector<Plain> plain;
  std::vector<std::pair<std::string, uint16_t>> plain_closed;  // closed by https-only

  // A crowd of connections leaves the allocator's free lists large once it has gone; give the
  // memory back to the system every few seconds after many connections closed.
  void trim_later() {
    trim_timer->expires_after(5s);
    trim_timer->async_wait([this](beast::error_code ec) {
      if (ec || stopping) return;
      if (size_t c = closed.load(); c - closed_at_trim >= 256) {
        closed_at_trim = c;
        ::malloc_trim(0);
      }
      trim_later();
    });
  }

  // Routes a request; `done` gets the reply once, maybe later from another thread (long polls).
  void route(const HttpRequest& req, std::function<void(HttpReply)> done);
  bool origin_allowed(const HttpRequest& req) const;
  // GET: the console's files and /metrics.
  HttpReply get(const HttpRequest& req, const std::string& path);

  // Replies that arrive after stop() (a long poll answered by the event hub's thread) are
  // dropped here instead of being posted to a server that is going away.
  struct Gate {
    std::mutex mu;
    bool open = true;
  };
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  bool reserve_budget(size_t n) {
    size_t cur = buffered.load();
    do {
      if (cur + n > lim.max_buffered_bytes) return false;
    } while (!buffered.compare_exchange_weak(cur, cur + n));
    return true;
  }

  // Refuses one pending connection with the reserved descriptor; false when there is none.
  bool refuse_with_reserve(int listen_fd) {
    if (reserve_fd < 0) return false;
    ::close(reserve_fd);
    reserve_fd = -1;
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      send_refusal(fd);
      ::close(fd);
      ++refused;
    }
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0;
  }
};

namespace {

// One client connection: idle wait, header, body, handling, reply, and again (keep-alive). All
// of its handlers run on its strand; one timer bounds whichever phase is under way.
// Stream: a TCP or Unix socket, or a TLS stream over TCP (which first shakes hands).
template <typename Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
  using Socket =
      std::remove_reference_t<decltype(beast::get_lowest_layer(std::declval<Stream&>()))>;
  static constexpr bool kTls = std::is_same_v<Stream, tls_stream>;

 public:
  template <typename... StreamArgs>
  Connection(HttpServer::Impl& s, HttpServer& server, Caller caller,
             std::shared_ptr<asio::ssl::context> ctx, StreamArgs&&... stream)
      : s_(s),
        server_(server),
        ctx_(std::move(ctx)),
        sock_(std::forward<StreamArgs>(stream)...),
        timer_(sock_.get_executor()),
        caller_(std::move(caller)) {}

  ~Connection() {
    release_budget();
    ++s_.closed;
    std::lock_guard lk(s_.mu);
    if (caller_.origin == Origin::kLocal) {
      --s_.open_local;
    } else {
      --s_.open_tcp;
      auto it = s_.per_address.find(caller_.address);
      if (it != s_.per_address.end() && --it->second == 0) s_.per_address.erase(it);
    }
  }

  void start() {
    if constexpr (kTls) {
      arm(s_.lim.header_timeout);
      sock_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (ec) return self->close();
                              self->wait_for_request();
                            });
    } else {
      wait_for_request();
    }
  }

 private:
  using Self = std::shared_ptr<Connection>;

  void arm(std::chrono::milliseconds d) {
    const uint64_t gen = ++timer_gen_;
    timer_.expires_after(d);
    timer_.async_wait([self = this->shared_from_this(), gen](beast::error_code ec) {
      if (ec || gen != self->timer_gen_) return;  // re-armed or cancelled meanwhile
      ++self->s_.timed_out;
      self->close();
    });
  }
  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  void close() {
    beast::error_code ec;
    lowest().shutdown(Socket::shutdown_both, ec);
    lowest().close(ec);
    disarm();
  }

  void release_budget() {
    if (reserved_) s_.buffered -= reserved_;
    reserved_ = 0;
  }

  void wait_for_request() {
    if (s_.stopping) return close();
    if (buf_.size() > 0) return read_header(s_.lim.header_timeout);  // already here
    // TLS may hold a decrypted request the socket no longer shows: read at once, idle timeout.
    if constexpr (kTls) return read_header(s_.lim.idle_timeout);
    arm(s_.lim.idle_timeout);
    lowest().async_wait(Socket::wait_read, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->close();
      self->read_header(self->s_.lim.header_timeout);
    });
  }

  Socket& lowest() { return beast::get_lowest_layer(sock_); }

  void read_header(std::chrono::milliseconds limit) {
    arm(limit);
    parser_.emplace();
    parser_->header_limit(uint32_t(s_.lim.max_header_bytes));
    parser_->body_limit(s_.lim.max_body_bytes);
    http::async_read_header(
        sock_, buf_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::header_limit) return refuse(431, "request header too large\n");
    if (ec == http::error::body_limit)  // a Content-Length over the limit: refused unread
      return refuse(413, "request body over " + std::to_string(s_.lim.max_body_bytes) +
                             " bytes (--api-max-body)\n");
    if (ec) return close();
    auto len = parser_->content_length();
    const size_t need = len ? size_t(*len) : parser_->is_done() ? 0 : s_.lim.max_body_bytes;
    if (!s_.reserve_budget(need)) return refuse(503, "server busy: too many request bytes\n");
    reserved_ = need;
    if (parser_->is_done()) return dispatch();
    arm(s_.lim.body_timeout);
    auto read_body = [self = this->shared_from_this()] {
      http::async_read(self->sock_, self->buf_, *self->parser_,
                       [self](beast::error_code ec, size_t) {
                         if (ec == http::error::body_limit)
                           return self->refuse(413, "request body too large\n");
                         if (ec) return self->close();
                         self->dispatch();
                       });
    };
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(sock_, asio::buffer(kContinue),
                        [self = this->shared_from_this(), read_body](beast::error_code ec, size_t) {
                          if (ec) return self->close();
                          read_body();
                        });
      return;
    }
    read_body();
  }

  void dispatch() {
    disarm();
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    HttpRequest r;
    r.verb = std::string(req.method_string());
    r.target = std::string(req.target());
    r.body = std::move(req.body());
    r.origin_header = std::string(req[http::field::origin]);
    r.host_header = std::string(req[http::field::host]);
    r.authorization = std::string(req[http::field::authorization]);
    r.caller = caller_;
    parser_.reset();
    asio::post(*s_.handlers, [self = this->shared_from_this(), r = std::move(r)] {
      // The reply comes back as an event on the connection's strand, now or (a long poll) later;
      // no thread waits for it.
      self->server_.handle_async(r, [self, gate = self->s_.gate](HttpReply reply) {
        std::lock_guard lk(gate->mu);
        if (!gate->open) return;
        asio::post(self->sock_.get_executor(),
                   [self, reply = std::move(reply)]() mutable { self->write(std::move(reply)); });
      });
    });
  }

  void refuse(int status, std::string text) {
    keep_alive_ = false;
    version_ = parser_ ? parser_->get().version() : 11;
    parser_.reset();
    HttpReply r;
    r.status = status;
    r.body = std::move(text);
    write(std::move(r));
  }

  void write(HttpReply reply) {
    release_budget();
    res_ = {};
    res_.result(http::status(reply.status));
    res_.version(version_ ? version_ : 11);
    res_.set(http::field::server, "hvnet");
    res_.set(http::field::content_type, reply.content_type);
    if (!reply.allow_origin.empty()) {
      res_.set(http::field::access_control_allow_origin, reply.allow_origin);
      res_.set(http::field::vary, "Origin");
      res_.set(http::field::access_control_allow_methods, "POST, OPTIONS");
      res_.set(http::field::access_control_allow_headers, "Content-Type");
    }
    for (const auto& [k, v] : reply.headers) res_.set(k, v);
    res_.keep_alive(keep_alive_ && !s_.stopping);
    res_.body() = std::move(reply.body);
    res_.prepare_payload();
    arm(s_.lim.write_timeout);
    http::async_write(sock_, res_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      if (!self->res_.keep_alive()) return self->linger_close();
      self->wait_for_request();
    });
  }

  // Closes after a reply the client may still be sending into (a refused body): stop sending,
  // then read and drop what arrives for a moment, so that the close does not reset the
  // connection and destroy the reply before the client has read it.
  void linger_close() {
    beast::error_code ec;
    lowest().shutdown(Socket::shutdown_send, ec);
    if (ec) return close();
    arm(std::chrono::milliseconds(2000));
    drain_buf_ = std::make_unique<std::array<char, 4096>>();
    drain();
  }
  void drain() {
    sock_.async_read_some(asio::buffer(*drain_buf_),
                          [self = this->shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->close();
                            self->drain();
                          });
  }

  HttpServer::Impl& s_;
  HttpServer& server_;
  std::shared_ptr<asio::ssl::context> ctx_;  // TLS: the context this connection started with
  Stream sock_;
  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  Caller caller_;
  size_t reserved_ = 0;
  std::unique_ptr<std::array<char, 4096>> drain_buf_;  // while lingering only
  bool keep_alive_ = false;
  unsigned version_ = 11;
};

template <typename Acceptor>
class Listener : public std::enable_shared_from_this<Listener<Acceptor>> {
 public:
  using Socket = typename Acceptor::protocol_type::socket;
  Listener(HttpServer::Impl& s, HttpServer& server, Acceptor acc, Origin origin, bool tls = false)
      : s_(s), server_(server), acc_(std::move(acc)), pause_(s.io), origin_(origin), tls_(tls) {}

  void accept() {
    if (s_.stopping) return;
    acc_.async_accept(asio::make_strand(s_.io),
                      [self = this->shared_from_this()](beast::error_code ec, Socket sock) {
                        self->on_accept(ec, std::move(sock));
                      });
  }
  void close() {
    beast::error_code ec;
    acc_.close(ec);
    pause_.cancel();
  }

 private:
  void on_accept(beast::error_code ec, Socket sock) {
    if (s_.stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
      const bool no_fds = ec == beast::errc::too_many_files_open ||
                          ec == beast::errc::too_many_files_open_in_system;
      s_.fd_log.warn("API accept failed: {}{}", ec.message(),
                     no_fds ? " (descriptors exhausted: refusing connections)" : "");
      if (no_fds && s_.refuse_with_reserve(acc_.native_handle())) return accept();
      pause_.expires_after(100ms);  // never spin on a persistent error
      pause_.async_wait([self = this->shared_from_this()](beast::error_code e) {
        if (!e) self->accept();
      });
      return;
    }
    Caller caller(origin_);
    if constexpr (std::is_same_v<Socket, tcp::socket>) {
      beast::error_code e;
      auto ep = sock.remote_endpoint(e);
      caller.address = e ? "?" : ep.address().to_string();
      // Replies and TLS flights go out at once, not held for the peer's delayed ACK.
      sock.set_option(tcp::no_delay(true), e);
    }
    std::shared_ptr<asio::ssl::context> ctx;
    if (tls_) {
      std::lock_guard lk(s_.tls_mu);
      ctx = s_.tls_ctx;
    }
    if (tls_ && !ctx) {
      beast::error_code e;
      sock.close(e);
    } else if (admit(caller)) {
      if constexpr (std::is_same_v<Socket, tcp::socket>) {
        if (tls_) {
          auto& c = *ctx;
          std::make_shared<Connection<tls_stream>>(s_, server_, std::move(caller), std::move(ctx),
                                                   std::move(sock), c)
              ->start();
          return accept();
        }
      }
      std::make_shared<Connection<Socket>>(s_, server_, std::move(caller), nullptr, std::move(sock))
          ->start();
    } else {
      ++s_.refused;
      s_.refusal_log.warn("API connection from {} refused: connection cap reached",
                          caller.address.empty() ? "the Unix socket" : caller.address);
      send_refusal(sock.native_handle());
      beast::error_code e;
      sock.close(e);
    }
    accept();
  }

  bool admit(const Caller& c) {
    std::lock_guard lk(s_.mu);
    if (c.origin == Origin::kLocal) {
      if (s_.open_local >= s_.lim.max_local_connections) return false;
      ++s_.open_local;
      return true;
    }
    size_t& mine = s_.per_address[c.address];
    if (s_.open_tcp >= s_.lim.max_connections || mine >= s_.lim.max_per_address) {
      if (mine == 0) s_.per_address.erase(c.address);
      return false;
    }
    ++mine;
    ++s_.open_tcp;
    return true;
  }

  HttpServer::Impl& s_;
  HttpServer& server_;
  Acceptor acc_;
  asio::steady_timer pause_;
  Origin origin_;
  bool tls_;
};

}  // namespace

HttpServer::HttpServer(Api& api, ServerLimits limits)
    : impl_(std::make_unique<Impl>(api, std::move(limits))) {
  impl_->reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

HttpServer::~HttpServer() {
  stop();
  if (impl_->reserve_fd >= 0) ::close(impl_->reserve_fd);
}

uint16_t HttpServer::tcp_port() const {
  return impl_->tcp_port;
}

HttpServer::Counters HttpServer::counters() const {
  std::lock_guard lk(impl_->mu);
  return {impl_->open_tcp, impl_->open_local, impl_->refused.load(), impl_->timed_out.load()};
}

bool HttpServer::Impl::origin_allowed(const HttpRequest& req) const {
  if (req.origin_header.empty()) return true;  // not a browser's cross-site request
  const std::string& o = req.origin_header;
  if (!req.host_header.empty() &&
      (o == "http://" + req.host_header || o == "https://" + req.host_header))
    return true;
  return std::find(lim.allowed_origins.begin(), lim.allowed_origins.end(), o) !=
         lim.allowed_origins.end();
}

void HttpServer::handle_async(const HttpRequest& req, std::function<void(HttpReply)> done) {
  auto fail = [&](const std::string& what) {
    spdlog::error("API request {} {} failed: {}", utf8_escaped(req.verb), utf8_escaped(req.target),
                  utf8_escaped(what));
    done(HttpReply{500, "text/plain", "internal error\n", ""});
  };
  try {
    impl_->route(req, done);
  } catch (const std::exception& e) {
    fail(e.what());
  } catch (...) {
    fail("unknown exception");
  }
}

HttpReply HttpServer::handle(const HttpRequest& req) {
  std::promise<HttpReply> p;
  auto f = p.get_future();
  auto once = std::make_shared<std::atomic<bool>>(false);
  handle_async(req, [&p, once](HttpReply r) {
    if (!once->exchange(true)) p.set_value(std::move(r));
  });
  return f.get();
}

void HttpServer::Impl::route(const HttpRequest& req, std::function<void(HttpReply)> done) {
  HttpReply r;
  if (!origin_allowed(req)) {
    r.status = 403;
    r.body = "origin not allowed: " + utf8_escaped(req.origin_header) + " (--api-allow-origin)\n";
    return done(std::move(r));
  }
  if (!req.origin_header.empty()) r.allow_origin = req.origin_header;
  if (req.verb == "OPTIONS") return done(std::move(r));
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (req.verb == "GET") return done(get(req, path));
  if (req.verb != "POST") {
    r.status = 405;
    r.body = "GET or POST only\n";
    return done(std::move(r));
  }
  // XML-RPC on /, /RPC2 and /xmlrpc; JSON-RPC on /jsonrpc and /json (xapi's paths).
  if (path == "/" || path == "/RPC2" || path == "/xmlrpc") {
    auto call = decode_xmlrpc(req.body, lim.decode);
    if (!call) {
      r.status = 400;
      r.body = call.error().to_string() + "\n";
      return done(std::move(r));
    }
    r.content_type = "text/xml";
    api.call_async(call->method, call->params, req.caller, [r, done](Result<json> v) mutable {
      r.body = encode_xmlrpc(v);
      done(std::move(r));
    });
    return;
  }
  if (path == "/jsonrpc" || path == "/json") {
    r.content_type = "application/json";
    auto call = decode_jsonrpc(req.body, lim.decode);
    if (!call) {
      r.status = 400;
      r.body = encode_jsonrpc_refusal(call.error());
      return done(std::move(r));
    }
    RpcCall c = std::move(call.value());
    std::string method = c.method;
    json params = std::move(c.params);
    api.call_async(method, params, req.caller, [r, done, c = std::move(c)](Result<json> v) mutable {
      r.body = encode_jsonrpc(c, v);
      done(std::move(r));
    });
    return;
  }
  r.status = 404;
  r.body = "not found\n";
  done(std::move(r));
}

namespace {
bool loopback(const Caller& c) {
  return c.origin == Origin::kLocal || c.address == "::1" || c.address.rfind("127.", 0) == 0 ||
         c.address.rfind("::ffff:127.", 0) == 0;
}
// Compares without an early exit, so the time taken tells nothing of where they differ.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i) diff |= uint8_t(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}
}  // namespace

HttpReply HttpServer::Impl::get(const HttpRequest& req, const std::string& path) {
  HttpReply r;
  if (path == "/metrics") {
    if (!loopback(req.caller) && (lim.metrics_token.empty() ||
                                  !same_secret(req.authorization, "Bearer " + lim.metrics_token))) {
      r.status = 401;
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      r.body = "metrics: from loopback, or with the token of --metrics-token\n";
      return r;
    }
    r.content_type = "text/plain; version=0.0.4";
    r.body = api.metrics_text();
    size_t open_tcp, open_local;
    {
      std::lock_guard lk(mu);
      open_tcp = this->open_tcp;
      open_local = this->open_local;
    }
    r.body +=
        "# HELP hvnet_api_connections Open API connections.\n"
        "# TYPE hvnet_api_connections gauge\n";
    r.body += "hvnet_api_connections{listener=\"tcp\"} " + std::to_string(open_tcp) + "\n";
    r.body += "hvnet_api_connections{listener=\"unix\"} " + std::to_string(open_local) + "\n";
    return r;
  }
  const ui::Asset* a = ui::find_asset(path == "/" ? "/ui/index.html" : path);
  if (!a) {
    r.status = 404;
    r.body = "not found\n";
    return r;
  }
  r.content_type = a->type;
  r.body.assign(a->body);
  r.headers = {{"Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"Cache-Control", "no-cache"}};
  return r;
}

namespace {
Result<tcp::acceptor> bound_acceptor(asio::io_context& io, const std::string& host, uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return make_error("INVALID_VALUE", {"address", host});
  tcp::acceptor acc(io);
  tcp::endpoint ep(addr, port);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("INTERNAL_ERROR",
                      {"listen on " + host + ":" + std::to_string(port), ec.message()});
  return acc;
}
}  // namespace

Status HttpServer::listen_tcp(const std::string& host, uint16_t port) {
  auto acc = bound_acceptor(impl_->io, host, port);
  if (!acc) return acc.error();
  impl_->tcp_port = acc.value().local_endpoint().port();
  auto l = std::make_shared<Listener<tcp::acceptor>>(*impl_, *this, std::move(acc.value()),
                                                     Origin::kNetwork);
  impl_->closers.push_back([l] { l->close(); });
  {
    std::lock_guard lk(impl_->mu);
    impl_->plain.push_back({host, impl_->tcp_port, [l] { l->close(); }});
  }
  if (!impl_->io_threads.empty())
    asio::post(impl_->io, [l] { l->accept(); });
  else
    l->accept();
  return ok_status();
}

Status HttpServer::listen_tls(const std::string& host, uint16_t port) {
  auto acc = bound_acceptor(impl_->io, host, port);
  if (!acc) return acc.error();
  impl_->tls_port = acc.value().local_endpoint().port();
  auto l = std::make_shared<Listener<tcp::acceptor>>(*impl_, *this, std::move(acc.value()),
                                                     Origin::kNetwork, /*tls=*/true);
  impl_->closers.push_back([l] { l->close(); });
  l->accept();
  return ok_status();
}

void HttpServer::set_tls_context(std::shared_ptr<boost::asio::ssl::context> ctx) {
  std::lock_guard lk(impl_->tls_mu);
  impl_->tls_ctx = std::move(ctx);
}

Status HttpServer::set_plain_http(bool open) {
  std::vector<Impl::Plain> was;
  {
    std::lock_guard lk(impl_->mu);
    if (open == !impl_->plain.empty() || (open && impl_->plain_closed.empty())) return ok_status();
    if (!open) {
      was.swap(impl_->plain);
      for (const auto& p : was) impl_->plain_closed.emplace_back(p.host, p.port);
    }
  }
  if (!open) {
    if (impl_->io_threads.empty()) {
      for (auto& p : was) p.close();
      return ok_status();
    }
    std::promise<void> closed;
    asio::post(impl_->io, [&] {
      for (auto& p : was) p.close();
      closed.set_value();
    });
    closed.get_future().wait();  // closed once this returns: a new connection is refused
    return ok_status();
  }
  std::vector<std::pair<std::string, uint16_t>> addrs;
  {
    std::lock_guard lk(impl_->mu);
    addrs.swap(impl_->plain_closed);
  }
  for (const auto& [host, port] : addrs)
    if (auto st = listen_tcp(host, port); !st) return st;
  return ok_status();
}

uint16_t HttpServer::tls_port() const {
  return impl_->tls_port;
}

Status HttpServer::listen_unix(const std::string& path) {
  std::error_code fec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), fec);
  ::unlink(path.c_str());
  beast::error_code ec;
  unix_socket::acceptor acc(impl_->io);
  unix_socket::endpoint ep(path);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("INTERNAL_ERROR", {"listen on " + path, ec.message()});
  ::chmod(path.c_str(), 0600);  // local root only: logins over it are trusted
  impl_->unix_paths.push_back(path);
  auto l = std::make_shared<Listener<unix_socket::acceptor>>(*impl_, *this, std::move(acc),
                                                             Origin::kLocal);
  impl_->closers.push_back([l] { l->close(); });
  l->accept();
  return ok_status();
}

void HttpServer::start() {
  if (!impl_->io_threads.empty()) return;
  impl_->work.emplace(impl_->io.get_executor());
  impl_->trim_timer.emplace(impl_->io);
  impl_->trim_later();
  impl_->handlers = std::make_unique<asio::thread_pool>(std::max(1u, impl_->lim.handler_threads));
  // Async.* tasks run on the handler pool too.
  impl_->api.set_executor([pool = impl_->handlers.get()](std::function<void()> job) {
    asio::post(*pool, std::move(job));
  });
  for (unsigned i = 0; i < std::max(1u, impl_->lim.io_threads); ++i) {
    impl_->io_threads.emplace_back([this] {
      for (;;) {
        try {
          impl_->io.run();
          return;
        } catch (const std::exception& e) {  // a handler's fault ends that handler, not the pool
          spdlog::error("API I/O thread: {}", e.what());
        }
      }
    });
  }
}

void HttpServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  {
    std::lock_guard lk(impl_->gate->mu);
    impl_->gate->open = false;
  }
  asio::post(impl_->io, [this] {
    for (auto& c : impl_->closers) c();
    if (impl_->trim_timer) impl_->trim_timer->cancel();
  });
  impl_->work.reset();
  if (impl_->handlers) impl_->handlers->join();
  impl_->api.set_executor([](std::function<void()> job) { job(); });
  impl_->io.stop();
  for (auto& t : impl_->io_threads) t.join();
  for (const auto& p : impl_->unix_paths) ::unlink(p.c_str());
}

}  // namespace hvnet::api
