#include "store/etcd_client.h"

#include <openssl/evp.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <optional>
#include <thread>

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

std::unique_ptr<EtcdClient::Conn> EtcdClient::connect(std::string* why) {
  const EtcdEndpoint& ep = endpoints_[current_];
  auto c = std::make_unique<Conn>();
  boost::system::error_code ec;
  tcp::resolver res(c->ioc);
  auto addrs = res.resolve(ep.host, std::to_string(ep.port), ec);
  bool ok = !ec && run_until(c->ioc, c->sock, timeout_, [&](bool& done) {
    asio::async_connect(c->sock, addrs, [&](boost::system::error_code e, const auto&) {
      ec = e;
      done = true;
    });
  });
  if (ok && !ec && ep.tls) {
    c->tls_ctx.emplace(asio::ssl::context::tls_client);
    auto& ctx = *c->tls_ctx;
    ctx.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (!ep.ca_file.empty()) ctx.load_verify_file(ep.ca_file, ec);
    if (!ec && !ep.cert_file.empty()) ctx.use_certificate_chain_file(ep.cert_file, ec);
    if (!ec && !ep.key_file.empty())
      ctx.use_private_key_file(ep.key_file, asio::ssl::context::pem, ec);
    if (!ec) {
      c->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(c->sock, ctx);
      ok = run_until(c->ioc, c->sock, timeout_, [&](bool& done) {
        c->tls->async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e) {
          ec = e;
          done = true;
        });
      });
    }
  }
  if (!ok || ec) {
    *why = ep.host + ":" + std::to_string(ep.port) + ": " +
           (ok ? ec.message() : std::string("timed out"));
    return nullptr;
  }
  return c;
}

Result<json> EtcdClient::call(const std::string& path, const json& body) {
  std::string why = "no endpoint";
  const std::string payload = body.dump();
  // Each endpoint once, in turn from the one that answered last; a kept-alive connection that
  // fails at once (the server closed it) is reconnected once. A timeout moves on: a member that
  // lost its quorum would only time out again. When members answer but are electing a leader
  // (a member just went), another round after a pause, within the timeout.
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  bool electing = false;
  for (size_t n = 0;; ++n, current_ = (current_ + 1) % endpoints_.size()) {
    if (n == endpoints_.size()) {
      if (!electing || std::chrono::steady_clock::now() + std::chrono::milliseconds(300) > deadline)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      n = 0;
      electing = false;
    }
    for (int again = 0; again < 2; ++again) {
      const EtcdEndpoint& ep = endpoints_[current_];
      boost::system::error_code ec;
      const bool reused = conn_ != nullptr;
      if (!conn_) {
        conn_ = connect(&why);
        if (!conn_) break;
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
        conn_.reset();
        if (ok && reused) continue;  // a stale kept-alive connection: once more, afresh
        break;
      }
      if (!resp.keep_alive()) conn_.reset();
      json answer = json::parse(resp.body(), nullptr, false);
      if (resp.result() != http::status::ok || answer.is_discarded()) {
        std::string msg = answer.is_object() ? answer.value("message", answer.value("error", ""))
                                             : resp.body().substr(0, 200);
        // A member that lost its quorum answers, but cannot serve: try another one.
        if (msg.find("no leader") != std::string::npos ||
            msg.find("leader changed") != std::string::npos ||
            msg.find("timed out") != std::string::npos) {
          electing |= msg.find("timed out") == std::string::npos;
          why = ep.host + ":" + std::to_string(ep.port) + ": " + msg;
          conn_.reset();
          break;
        }
        return make_error("ETCD_ERROR", {std::to_string(resp.result_int()), msg});
      }
      return answer;
    }
  }
  std::string list;
  for (const auto& e : endpoints_)
    list += (list.empty() ? "" : ",") + e.host + ":" + std::to_string(e.port);
  return make_error(kEtcdUnavailable, {list, why});
}

Result<int64_t> EtcdClient::lease_grant(int64_t ttl_s) {
  auto r = call("lease/grant", {{"TTL", std::to_string(ttl_s)}});
  if (!r) return r.error();
  if (r->contains("error") && !r->value("error", "").empty())
    return make_error("ETCD_ERROR", {"lease", r->value("error", "")});
  return int64_t(u64(r.value(), "ID"));
}

Result<int64_t> EtcdClient::lease_keepalive(int64_t id) {
  auto r = call("lease/keepalive", {{"ID", std::to_string(id)}});
  if (!r) return r.error();
  return int64_t(u64(r->value("result", json::object()), "TTL"));
}

Status EtcdClient::lease_revoke(int64_t id) {
  auto r = call("lease/revoke", {{"ID", std::to_string(id)}});
  if (!r) return r.error();
  return ok_status();
}

Status EtcdClient::watch(const std::string& prefix, uint64_t start,
                         const std::function<bool(uint64_t)>& on_revision,
                         const std::function<bool()>& keep_going, std::chrono::milliseconds tick) {
  std::string why = "no endpoint";
  std::unique_ptr<Conn> c;
  for (size_t i = 0; i < endpoints_.size() && !c; ++i) {
    c = connect(&why);
    if (!c) current_ = (current_ + 1) % endpoints_.size();
  }
  if (!c) return make_error(kEtcdUnavailable, {"watch", why});
  const EtcdEndpoint& ep = endpoints_[current_];
  json create = {{"key", b64(prefix)}, {"range_end", prefix_end(prefix)}};
  if (start) create["start_revision"] = std::to_string(start);
  http::request<http::string_body> req{http::verb::post, "/v3/watch", 11};
  req.set(http::field::host, ep.host);
  req.set(http::field::content_type, "application/json");
  req.body() = json{{"create_request", create}}.dump();
  req.prepare_payload();
  boost::system::error_code ec;
  bool done = false;
  // Each step: begun on a restarted io_context (it stops whenever it runs out of work), run
  // until done; false when asked to stop meanwhile.
  auto begin = [&] {
    done = false;
    c->ioc.restart();
  };
  auto wait = [&] {
    while (!done) {
      c->ioc.run_for(tick);
      if (!done && !keep_going()) return false;
    }
    return true;
  };
  auto finish = [&](boost::system::error_code e, size_t) {
    ec = e;
    done = true;
  };
  auto run = [&](auto& stream) -> Status {
    begin();
    http::async_write(stream, req, finish);
    if (!wait()) return ok_status();
    if (ec) return make_error(kEtcdUnavailable, {"watch", ec.message()});
    // The answer is a stream of JSON messages, one per line, in the chunks of one response.
    http::response_parser<http::empty_body> head;
    head.body_limit(boost::none);
    begin();
    http::async_read_header(stream, c->buf, head, finish);
    if (!wait()) return ok_status();
    if (ec) return make_error(kEtcdUnavailable, {"watch", ec.message()});
    if (head.get().result() != http::status::ok)
      return make_error("ETCD_ERROR", {std::to_string(head.get().result_int()), "watch refused"});
    http::response_parser<http::buffer_body> body(std::move(head));
    std::string lines;
    bool stop = false;
    std::optional<Status> failed;
    char chunk[16384];
    while (!stop) {
      body.get().body().data = chunk;
      body.get().body().size = sizeof chunk;
      size_t got = 0;
      begin();
      http::async_read_some(stream, c->buf, body, [&](boost::system::error_code e, size_t) {
        ec = e == http::error::need_buffer ? boost::system::error_code() : e;
        got = sizeof chunk - body.get().body().size;
        done = true;
      });
      if (!wait()) return ok_status();
      if (ec) return make_error(kEtcdUnavailable, {"watch", ec.message()});
      lines.append(chunk, got);
      if (lines.size() > (64u << 20))
        return make_error("ETCD_ERROR", {"watch", "a message larger than 64 MiB"});
      size_t nl;
      while (!stop && (nl = lines.find('\n')) != std::string::npos) {
        json m = json::parse(lines.substr(0, nl), nullptr, false);
        lines.erase(0, nl + 1);
        if (!m.is_object()) continue;
        const json result = m.value("result", json::object());
        if (m.contains("error")) {
          failed = make_error("ETCD_ERROR", {"watch", m["error"].value("message", "")});
          stop = true;
          break;
        }
        if (u64(result, "compact_revision"))
          return make_error("ETCD_ERROR",
                            {"compacted", std::to_string(u64(result, "compact_revision"))});
        if (result.value("canceled", false))
          return make_error("ETCD_ERROR", {"watch", result.value("cancel_reason", "canceled")});
        if (!result.contains("events")) continue;
        if (!on_revision(u64(result.value("header", json::object()), "revision"))) stop = true;
      }
      if (body.is_done()) return make_error(kEtcdUnavailable, {"watch", "the stream ended"});
    }
    return failed ? *failed : ok_status();
  };
  Status st = c->tls ? run(*c->tls) : run(c->sock);
  boost::system::error_code ignored;
  c->sock.close(ignored);
  return st;
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
