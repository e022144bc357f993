// Security calls: the host's TLS (install_server_certificate: a new identity served from the next
// handshake, no restart; get_server_certificate; set_https_only: plain HTTP over TCP closed or
// opened again, the Unix socket stays; what they do to the listeners is hvnetd's, TlsHooks) and
// the audit log (pool.audit_log_get, hvnet's: the lines since a time).
#include "api/api.h"
#include "api/api_util.h"
#include "model/ops.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

void Api::register_security() {
  add("host.install_server_certificate", 3, 4, [this](const json& a) -> Result<json> {
    auto ok = mgr_.read([&](const Txn& t) { return resolve(t, "host", a[0]); });
    if (!ok) return ok.error();
    auto cert = arg_string(a, 1, "certificate");
    if (!cert) return cert.error();
    auto key = arg_string(a, 2, "private_key");
    if (!key) return key.error();
    std::string chain;
    if (!a[3].is_null()) {
      auto c = arg_string(a, 3, "certificate_chain");
      if (!c) return c.error();
      chain = c.value();
    }
    if (!tls_.install) return make_error("INTERNAL_ERROR", {"this hvnetd serves no TLS"});
    if (auto st = tls_.install(cert.value(), key.value(), chain); !st) return st.error();
    return void_value();
  });
  add("host.get_server_certificate", 1, [this](const json& a) -> Result<json> {
    auto ok = mgr_.read([&](const Txn& t) { return resolve(t, "host", a[0]); });
    if (!ok) return ok.error();
    return json(tls_.certificate ? tls_.certificate() : "");
  });
  add("pool.audit_log_get", 0, 1, [this](const json& a) -> Result<json> {
    std::string since;
    if (!a[0].is_null()) {
      auto s = arg_string(a, 0, "since");
      if (!s) return s.error();
      since = s.value();
    }
    if (!audit_) return json("");
    return json(audit_->since(since));
  });
  add("host.set_https_only", 2, [this](const json& a) -> Result<json> {
    auto v = model::coerce(*model::find_class("host")->field("https_only"), a[1]);
    if (!v) return v.error();
    const bool on = v.value().get<bool>();
    auto st = mgr_.write([&](Txn& t) -> Result<json> {
      auto h = resolve(t, "host", a[0]);
      if (!h) return h.error();
      t.set_field(h.value(), "https_only", on);
      return void_value();
    });
    if (!st) return st;
    if (tls_.https_only)
      if (auto r = tls_.https_only(on); !r) return r.error();
    return void_value();
  });
}

}  // namespace hvnet::api
