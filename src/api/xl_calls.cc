// VIF.create_from_xl_spec (hvnet): a domain's NICs as xl writes them, one list element or a
// whole `vif = [ ... ]` line, made into VIFs of the VM in one transaction (model/xl_vif.h).
#include "api/api.h"
#include "api/api_util.h"
#include "model/ops.h"
#include "model/xl_vif.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

void Api::register_xl() {
  add("VIF.create_from_xl_spec", 2, [this](const json& a) -> Result<json> {
    if (!a[1].is_string()) return make_error("FIELD_TYPE_ERROR", {"spec"});
    auto specs = model::parse_xl_vifs(a[1].get<std::string>());
    if (!specs) return specs.error();
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto vm = resolve(t, "VM", a[0]);
      if (!vm) return vm.error();
      auto made = model::vifs_from_xl(t, vm.value(), specs.value());
      if (!made) return made.error();
      json refs = json::array();
      for (const auto& v : made.value()) refs.push_back(ref_of(v));
      return refs;
    });
  });
}

}  // namespace hvnet::api
