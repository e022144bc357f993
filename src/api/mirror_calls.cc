// port_mirror.create and port_mirror.destroy (hvnet). Sources are generic set fields the model
// checks; status (the copies sent) is filled in live by Api::live.
#include "api/api.h"
#include "api/api_util.h"
#include "model/ops.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

void Api::register_mirrors() {
  add("port_mirror.create", 1, [this](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto m = model::port_mirror_create(t, a[0]);
      if (!m) return m.error();
      return json(ref_of(m.value()));
    });
  });
  add("port_mirror.destroy", 1, on_object("port_mirror", model::port_mirror_destroy));
}

}  // namespace hvnet::api
