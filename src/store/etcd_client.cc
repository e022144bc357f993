#include "store/etcd_client.h"

#include <openssl/evp.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <optional>

namespace hvnet::store {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

Result<std::vector<EtcdEndpoint>> parse_etcd_endpoints(const std::string& list) {
  std::vector<EtcdEndpoint> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.erase(0, 1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    if (item.empty()) continue;
    EtcdEndpoint e;
    if (item.rfind("https://", 0) == 0) {
      e.tls = true;
      item = item.substr(8);
    } else if (item.rfind("http://", 0) == 0) {
      item = item.substr(7);
    }
    auto colon = item.rfind(':');
    if (colon == std::string::npos || colon + 1 == item.size())
      return make_error("INVALID_VALUE", {"etcd endpoint", item, "expected HOST:PORT"});
    e.host = item.substr(0, colon);
    if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']')
      e.host = e.host.substr(1, e.host.size() - 2);
    const std::string port = item.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoul(port) == 0 || std::stoul(port) > 65535)
      return make_error("INVALID_VALUE", {"etcd endpoint", item, "bad port"});
    e.port = uint16_t(std::stoul(port));
    out.push_back(e);
  }
  if (out.empty()) return make_error("INVALID_VALUE", {"etcd endpoints", list, "none given"});
  return out;
}

struct EtcdClient::Conn {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  std::optional<asio::ssl::context> tls_ctx;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  beast::flat_buffer buf;
};

EtcdClient::EtcdClient(std::vector<EtcdEndpoint> endpoints, std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {}

EtcdClient::~EtcdClient() = default;

namespace {

// Runs the asynchronous operations `start` begins until they finish or the deadline passes
// (then the socket is closed and the operations end with an error).
template <typename Start>
bool run_until(asio::io_context& ioc, tcp::socket& sock, std::chrono::milliseconds timeout,
               Start start) {
  ioc.restart();
  bool done = false;
  start(done);
  ioc.run_for(timeout);
  if (!done) {
    boost::system::error_code ignored;
    sock.close(ignored);
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(100));  // let the handlers see the close
  }
  return done;
}

}  // namespace

Result<json> EtcdClient::call(const std::string& path, const json& body) {
  std::string why = "no endpoint";
  const std::string payload = body.dump();
  for (size_t attempt = 0; attempt < endpoints_.size() * 2; ++attempt) {
    const EtcdEndpoint& ep = endpoints_[current_];
    boost::system::error_code ec;
    if (!conn_) {
      conn_ = std::make_unique<Conn>();
      tcp::resolver res(conn_->ioc);
      auto addrs = res.resolve(ep.host, std::to_string(ep.port), ec);
      bool ok = !ec && run_until(conn_->ioc, conn_->sock, timeout_, [&](bool& done) {
        asio::async_connect(conn_->sock, addrs, [&](boost::system::error_code e, const auto&) {
          ec = e;
          done = true;
        });
      });
      if (ok && !ec && ep.tls) {
        conn_->tls_ctx.emplace(asio::ssl::context::tls_client);
        auto& ctx = *conn_->tls_ctx;
        ctx.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
        ctx.set_verify_mode(asio::ssl::verify_peer);
        if (!ep.ca_file.empty()) ctx.load_verify_file(ep.ca_file, ec);
        if (!ec && !ep.cert_file.empty()) ctx.use_certificate_chain_file(ep.cert_file, ec);
        if (!ec && !ep.key_file.empty())
          ctx.use_private_key_file(ep.key_file, asio::ssl::context::pem, ec);
        if (!ec) {
          conn_->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(conn_->sock, ctx);
          ok = run_until(conn_->ioc, conn_->sock, timeout_, [&](bool& done) {
            conn_->tls->async_handshake(asio::ssl::stream_base::client,
                                        [&](boost::system::error_code e) {
                                          ec = e;
                                          done = true;
                                        });
          });
        }
      }
      if (!ok || ec) {
        why = ep.host + ":" + std::to_string(ep.port) + ": " +
              (ok ? ec.message() : std::string("timed out"));
        conn_.reset();
        current_ = (current_ + 1) % endpoints_.size();
        continue;
      }
    }
    http::request<http::string_body> req{http::verb::post, "/v3/" + path, 11};
    req.set(http::field::host, ep.host);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = payload;
    req.prepare_payload();
    http::response<http::string_body> resp;
    auto exchange = [&](auto& stream) {
      return run_until(conn_->ioc, conn_->sock, timeout_, [&](bool& done) {
        http::async_write(stream, req, [&](boost::system::error_code e, size_t) {
          if (e) {
            ec = e;
            done = true;
            return;
          }
          http::async_read(stream, conn_->buf, resp, [&](boost::system::error_code e2, size_t) {
            ec = e2;
            done = true;
          });
        });
      });
    };
    bool ok = conn_->tls ? exchange(*conn_->tls) : exchange(conn_->sock);
    if (!ok || ec) {
      why = ep.host + ":" + std::to_string(ep.port) + ": " +
            (ok ? ec.message() : std::string("timed out"));
      conn_.reset();  // a kept-alive connection the server closed: reconnect (same endpoint once)
      if (attempt % 2 == 1) current_ = (current_ + 1) % endpoints_.size();
      continue;
    }
    if (!resp.keep_alive()) conn_.reset();
    json answer = json::parse(resp.body(), nullptr, false);
    if (resp.result() != http::status::ok || answer.is_discarded()) {
      std::string msg = answer.is_object() ? answer.value("message", answer.value("error", ""))
                                           : resp.body().substr(0, 200);
      // A member that lost its quorum answers, but cannot serve: try another one.
      if (msg.find("no leader") != std::string::npos ||
          msg.find("timed out") != std::string::npos) {
        why = ep.host + ":" + std::to_string(ep.port) + ": " + msg;
        conn_.reset();
        current_ = (current_ + 1) % endpoints_.size();
        continue;
      }
      return make_error("ETCD_ERROR", {std::to_string(resp.result_int()), msg});
    }
    return answer;
  }
  std::string list;
  for (const auto& e : endpoints_)
    list += (list.empty() ? "" : ",") + e.host + ":" + std::to_string(e.port);
  return make_error(kEtcdUnavailable, {list, why});
}

std::string EtcdClient::b64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), int(raw.size()));
  out.resize(size_t(n));
  return out;
}

std::string EtcdClient::unb64(std::string_view text) {
  if (text.size() % 4 != 0) return "";
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), int(text.size()));
  if (n < 0) return "";
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  out.resize(size_t(n) - pad);
  return out;
}

std::string EtcdClient::prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = char(static_cast<unsigned char>(end.back()) + 1);
  return b64(end.empty() ? std::string(1, '\0') : end);
}

uint64_t EtcdClient::u64(const json& obj, const char* field) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(field);
  if (it == obj.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos)
      return 0;
    return std::stoull(s);
  }
  return 0;
}

}  // namespace hvnet::store
