#include "cli/xe/rpc_client.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "util/x509_fingerprint.h"

namespace hvnet::xe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;

namespace {

template <typename Socket>
Result<std::string> exchange(Socket& sock, const std::string& host, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, "/jsonrpc", 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "xe (hvnet)");
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  http::write(sock, req, ec);
  if (ec) return make_error("CONNECTION_FAILED", {host, ec.message()});
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res, ec);
  if (ec) return make_error("CONNECTION_FAILED", {host, ec.message()});
  if (res.result() != http::status::ok)
    return make_error("INTERNAL_ERROR", {"HTTP " + std::to_string(res.result_int()), res.body()});
  return res.body();
}

}  // namespace

Status RpcClient::trust(const std::string& fp) {
  std::string path = ep_.known_hosts;
  if (path.empty()) {
    const char* env = std::getenv("HVNET_XE_KNOWN_HOSTS");
    const char* home = std::getenv("HOME");
    path = env ? env : std::string(home ? home : "/root") + "/.xe_known_hosts";
  }
  const std::string who = ep_.host + ":" + std::to_string(ep_.port);
  std::ifstream in(path);
  std::string host, seen;
  while (in >> host >> seen) {
    if (host != who) continue;
    if (seen == fp) return ok_status();
    return make_error("CERTIFICATE_MISMATCH",
                      {who, "known " + seen, "served " + fp,
                       "(remove the line from " + path + " if the host has a new one)"});
  }
  std::ofstream out(path, std::ios::app);
  out << who << " " << fp << "\n";
  std::cerr << "Trusting the certificate of " << who << " (SHA-256 " << fp << ") from now on ("
            << path << ")\n";
  return ok_status();
}

Result<std::string> RpcClient::post(const std::string& body) {
  asio::io_context io;
  beast::error_code ec;
  if (ep_.host.empty()) {
    asio::local::stream_protocol::socket sock(io);
    sock.connect(asio::local::stream_protocol::endpoint(ep_.unix_path), ec);
    if (ec) return make_error("CONNECTION_FAILED", {ep_.unix_path, ec.message()});
    return exchange(sock, "localhost", body);
  }
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(ep_.host, std::to_string(ep_.port), ec);
  if (ec) return make_error("CONNECTION_FAILED", {ep_.host, ec.message()});
  const std::string who = ep_.host + ":" + std::to_string(ep_.port);
  if (!ep_.tls) {
    asio::ip::tcp::socket sock(io);
    asio::connect(sock, results, ec);
    if (ec) return make_error("CONNECTION_FAILED", {who, ec.message()});
    return exchange(sock, ep_.host, body);
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (!ep_.ca_file.empty()) {
    ctx.load_verify_file(ep_.ca_file, ec);
    if (ec) return make_error("CONNECTION_FAILED", {ep_.ca_file, ec.message()});
    ctx.set_verify_mode(asio::ssl::verify_peer);
  }
  asio::ssl::stream<asio::ip::tcp::socket> tls(io, ctx);
  SSL_set_tlsext_host_name(tls.native_handle(), ep_.host.c_str());
  if (!ep_.ca_file.empty()) SSL_set1_host(tls.native_handle(), ep_.host.c_str());
  asio::connect(tls.next_layer(), results, ec);
  if (ec) return make_error("CONNECTION_FAILED", {who, ec.message()});
  tls.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return make_error("SSL_VERIFY_ERROR", {who, ec.message()});
  X509* cert = SSL_get1_peer_certificate(tls.native_handle());
  fingerprint_ = x509_fingerprint(cert);
  X509_free(cert);
  if (ep_.ca_file.empty())
    if (auto st = trust(fingerprint_); !st) return st.error();
  return exchange(tls, ep_.host, body);
}

Result<json> RpcClient::call(const std::string& method, json params) {
  json req = {
      {"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}, {"id", next_id_++}};
  auto body = post(req.dump());
  if (!body) return body.error();
  json res = json::parse(body.value(), nullptr, false);
  if (res.is_discarded()) return make_error("INTERNAL_ERROR", {"malformed reply"});
  if (res.contains("error")) {
    const json& e = res["error"];
    Error err{e.value("message", "INTERNAL_ERROR"), {}};
    for (const auto& p : e.value("data", json::array()))
      err.params.push_back(p.is_string() ? p.get<std::string>() : p.dump());
    return err;
  }
  return res.value("result", json());
}

Status RpcClient::login(const std::string& user, const std::string& password) {
  auto r = call("session.login_with_password", json::array({user, password, "1.1", "xe"}));
  if (!r) return r.error();
  session_ = r.value().get<std::string>();
  return ok_status();
}

void RpcClient::logout() {
  if (!session_.empty()) (void)call("session.logout", json::array({session_}));
  session_.clear();
}

Result<json> RpcClient::session_call(const std::string& method, json params) {
  json p = json::array({session_});
  for (auto& v : params) p.push_back(std::move(v));
  return call(method, std::move(p));
}

}  // namespace hvnet::xe
