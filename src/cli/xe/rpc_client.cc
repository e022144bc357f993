#include "cli/xe/rpc_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

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
  asio::ip::tcp::socket sock(io);
  asio::connect(sock, results, ec);
  if (ec)
    return make_error("CONNECTION_FAILED",
                      {ep_.host + ":" + std::to_string(ep_.port), ec.message()});
  return exchange(sock, ep_.host, body);
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
