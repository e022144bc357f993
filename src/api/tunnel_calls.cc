// tunnel.create and tunnel.destroy. Everything else a client reads of a tunnel (status with its
// key and remote VTEPs, the PIFs' tunnel_*_PIF_of) comes from the generic calls of the schema;
// network.external_VTEPs (hvnet) is a generic set field checked by the model.
#include "api/api.h"
#include "api/api_util.h"
#include "model/ops.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

void Api::register_tunnels() {
  // (transport_PIF, network[, protocol]): protocol defaults to gre, as in xapi.
  add("tunnel.create", 2, 3, [this](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto pif = resolve(t, "PIF", a[0]);
      if (!pif) return pif.error();
      auto net = resolve(t, "network", a[1]);
      if (!net) return net.error();
      std::string protocol;
      if (!a[2].is_null()) {
        auto p = arg_string(a, 2, "protocol");
        if (!p) return p.error();
        protocol = p.value();
      }
      auto tn = model::tunnel_create(t, pif.value(), net.value(), protocol);
      if (!tn) return tn.error();
      return json(ref_of(tn.value()));
    });
  });
  add("tunnel.destroy", 1, on_object("tunnel", model::tunnel_destroy));
}

}  // namespace hvnet::api
