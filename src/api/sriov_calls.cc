// SR-IOV networks (network_sriov.create, destroy, get_remaining_capacity) and the VM power calls
// that take and give back VFs (VM.start, clean_shutdown, hard_shutdown). The records and fields
// (network_sriov.*, PIF.sriov_*_PIF_of, VIF.sriov_VF) come from the generic calls of the schema;
// the rules live in model/sriov_ops.cc, the host's VFs in control/sriov_host.h.
#include "api/api.h"
#include "api/api_util.h"
#include "model/ops.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

void Api::register_sriov() {
  // (pif, network): the network's logical PIF on the PIF's host, plugged (its VFs enabled).
  add("network_sriov.create", 2, [this](const json& a) -> Result<json> {
    return mgr_.write([&](Txn& t) -> Result<json> {
      auto pif = resolve(t, "PIF", a[0]);
      if (!pif) return pif.error();
      auto net = resolve(t, "network", a[1]);
      if (!net) return net.error();
      auto s = model::network_sriov_create(t, pif.value(), net.value());
      if (!s) return s.error();
      return json(ref_of(s.value()));
    });
  });
  add("network_sriov.destroy", 1, on_object("network_sriov", model::network_sriov_destroy));
  add("network_sriov.get_remaining_capacity", 1, [this](const json& a) -> Result<json> {
    return mgr_.read([&](const Txn& t) -> Result<json> {
      auto s = resolve(t, "network_sriov", a[0]);
      if (!s) return s.error();
      return json(model::sriov_remaining_capacity(t, s.value()));
    });
  });

  // VM.start(vm, start_paused, force): hvnet's VMs have no domain to pause; the flags are taken
  // as xapi takes them and change nothing.
  add("VM.start", 1, 3, on_object("VM", model::vm_start));
  add("VM.clean_shutdown", 1, on_object("VM", model::vm_shutdown));
  add("VM.hard_shutdown", 1, on_object("VM", model::vm_shutdown));
}

}  // namespace hvnet::api
