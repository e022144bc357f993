#include "api/http_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <mutex>

#include "api/wire.h"

namespace hvnet::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

struct HttpServer::Impl {
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::acceptor>> tcp_acceptors;
  std::vector<std::unique_ptr<unix_socket::acceptor>> unix_acceptors;
  std::vector<std::thread> listeners;
  std::vector<std::string> unix_paths;
  std::atomic<bool> stopping{false};
};

HttpServer::HttpServer(Api& api) : impl_(std::make_unique<Impl>()), api_(api) {}
HttpServer::~HttpServer() {
  stop();
}

std::pair<int, std::string> HttpServer::handle(const std::string& verb, const std::string& target,
                                               const std::string& body, Origin origin) {
  if (verb == "OPTIONS") return {200, ""};
  if (verb != "POST") return {405, "POST only\n"};
  std::string path = target.substr(0, target.find('?'));
  if (path == "/" || path == "/RPC2") {
    auto call = decode_xmlrpc(body);
    if (!call) return {500, "malformed XML-RPC request\n"};
    return {200, encode_xmlrpc(api_.call(call->method, call->params, origin))};
  }
  if (path == "/jsonrpc") {
    auto call = decode_jsonrpc(body);
    if (!call) return {500, "malformed JSON-RPC request\n"};
    return {200, encode_jsonrpc(*call, api_.call(call->method, call->params, origin))};
  }
  return {404, "not found\n"};
}

namespace {

template <typename Socket>
void serve_connection(HttpServer& server, Socket sock, Origin origin) {
  beast::flat_buffer buf;
  for (;;) {
    beast::error_code ec;
    http::request_parser<http::string_body> parser;
    parser.body_limit(8 << 20);
    http::read(sock, buf, parser, ec);
    if (ec) break;
    auto& req = parser.get();
    auto [status, body] = server.handle(std::string(req.method_string()), std::string(req.target()),
                                        req.body(), origin);
    http::response<http::string_body> res{http::status(status), req.version()};
    const bool xml = req.target() != "/jsonrpc";
    res.set(http::field::server, "hvnet");
    res.set(http::field::content_type, status != 200 ? "text/plain"
                                       : xml         ? "text/xml"
                                                     : "application/json");
    res.set(http::field::access_control_allow_origin, "*");
    if (req.method() == http::verb::options) {
      res.set(http::field::access_control_allow_methods, "POST, OPTIONS");
      res.set(http::field::access_control_allow_headers, "Content-Type");
    }
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    http::write(sock, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  sock.shutdown(Socket::shutdown_both, ignored);
}

template <typename Acceptor, typename Socket>
void accept_loop(HttpServer& server, Acceptor& acc, asio::io_context& io, Origin origin,
                 std::atomic<bool>& stopping) {
  while (!stopping.load()) {
    Socket sock(io);
    beast::error_code ec;
    acc.accept(sock, ec);
    if (ec) {
      if (stopping.load()) return;
      continue;
    }
    std::thread([&server, origin](Socket s) { serve_connection(server, std::move(s), origin); },
                std::move(sock))
        .detach();
  }
}

}  // namespace

Status HttpServer::listen_tcp(const std::string& host, uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return make_error("INVALID_VALUE", {"address", host});
  auto acc = std::make_unique<tcp::acceptor>(impl_->io);
  tcp::endpoint ep(addr, port);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("INTERNAL_ERROR",
                      {"listen on " + host + ":" + std::to_string(port), ec.message()});
  tcp_port_ = acc->local_endpoint().port();
  tcp::acceptor& ref = *acc;
  impl_->tcp_acceptors.push_back(std::move(acc));
  impl_->listeners.emplace_back([this, &ref] {
    accept_loop<tcp::acceptor, tcp::socket>(*this, ref, impl_->io, Origin::kNetwork,
                                            impl_->stopping);
  });
  return ok_status();
}

Status HttpServer::listen_unix(const std::string& path) {
  std::error_code fec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), fec);
  ::unlink(path.c_str());
  beast::error_code ec;
  auto acc = std::make_unique<unix_socket::acceptor>(impl_->io);
  unix_socket::endpoint ep(path);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("INTERNAL_ERROR", {"listen on " + path, ec.message()});
  ::chmod(path.c_str(), 0600);  // local root only: logins over it are trusted
  unix_socket::acceptor& ref = *acc;
  impl_->unix_acceptors.push_back(std::move(acc));
  impl_->unix_paths.push_back(path);
  impl_->listeners.emplace_back([this, &ref] {
    accept_loop<unix_socket::acceptor, unix_socket::socket>(*this, ref, impl_->io, Origin::kLocal,
                                                            impl_->stopping);
  });
  return ok_status();
}

void HttpServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  // shutdown() wakes a thread blocked in accept(); then the acceptors can be closed.
  for (auto& a : impl_->tcp_acceptors) ::shutdown(a->native_handle(), SHUT_RDWR);
  for (auto& a : impl_->unix_acceptors) ::shutdown(a->native_handle(), SHUT_RDWR);
  for (auto& t : impl_->listeners) t.join();
  for (const auto& p : impl_->unix_paths) ::unlink(p.c_str());
}

}  // namespace hvnet::api
