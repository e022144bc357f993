// What hvnet measures of PIFs and VIFs, in XenAPI's shapes: PIF_metrics (carrier, speed, duplex and
// PCI identity from the kernel, rates from the data plane) and <host|VM>.query_data_source for the
// pif_<device>_rx/tx and vif_<device>_rx/tx rates (bytes/s, the guest's point of view for VIFs).
#include "api/api.h"
#include "api/api_util.h"
#include "hostnet/nic_scan.h"
#include "model/ops.h"
#include "model/records.h"

namespace hvnet::api {

using namespace detail;  // NOLINT: the API's own helpers

void Api::register_metrics() {
  // The PIF whose metrics object `metrics_uuid` is, and its device ("" if none).
  auto pif_of_metrics = [this](const std::string& metrics_uuid) {
    return mgr_.read([&](const Txn& t) -> std::pair<std::string, std::string> {
      for (const auto& pif : t.all_of("PIF"))
        if (model::pif_metrics_uuid(pif) == metrics_uuid)
          return {pif, t.get(pif)->rec["device"].get<std::string>()};
      return {"", ""};
    });
  };
  auto record = [this](const std::string& metrics_uuid, const std::string& device) -> json {
    const hostnet::NicFacts f = hostnet::nic_facts(device);
    json r = {{"uuid", metrics_uuid},
              {"carrier", f.carrier},
              {"vendor_id", f.vendor_id},
              {"vendor_name", f.vendor_name},
              {"device_id", f.device_id},
              {"device_name", f.device_name},
              {"speed", f.speed},
              {"duplex", f.duplex},
              {"pci_bus_path", f.pci_bus_path},
              {"io_read_kbs", 0.0},
              {"io_write_kbs", 0.0},
              {"last_updated", iso_now()},
              {"other_config", json::object()}};
    // A bond lives in the data plane, not in the kernel: its carrier is its links.
    const json st = mgr_.port_status(device);
    if (st.contains("links_up")) r["carrier"] = st["links_up"].get<int64_t>() > 0;
    if (auto rates = mgr_.port_rates(device)) {
      r["io_read_kbs"] = rates->rx / 1024;
      r["io_write_kbs"] = rates->tx / 1024;
    }
    return r;
  };
  auto all = [this] {
    return mgr_.read([](const Txn& t) {
      std::vector<std::pair<std::string, std::string>> out;
      for (const auto& pif : t.all_of("PIF"))
        out.emplace_back(model::pif_metrics_uuid(pif),
                         t.get(pif)->rec["device"].get<std::string>());
      return out;
    });
  };
  add("PIF_metrics.get_all", 0, [all](const json&) -> Result<json> {
    json out = json::array();
    for (const auto& [m, dev] : all()) out.push_back(ref_of(m));
    return out;
  });
  add("PIF_metrics.get_all_records", 0, [all, record](const json&) -> Result<json> {
    json out = json::object();
    for (const auto& [m, dev] : all()) out[ref_of(m)] = record(m, dev);
    return out;
  });
  add("PIF_metrics.get_by_uuid", 1, [pif_of_metrics](const json& a) -> Result<json> {
    const std::string u = a[0].is_string() ? a[0].get<std::string>() : a[0].dump();
    if (pif_of_metrics(u).first.empty()) return make_error("UUID_INVALID", {"PIF_metrics", u});
    return json(ref_of(u));
  });
  add_record_getters(
      "PIF_metrics",
      {"uuid", "carrier", "vendor_id", "vendor_name", "device_id", "device_name", "speed", "duplex",
       "pci_bus_path", "io_read_kbs", "io_write_kbs", "last_updated", "other_config"},
      [pif_of_metrics, record](const json& self) -> Result<json> {
        const std::string ref = self.is_string() ? self.get<std::string>() : self.dump();
        const std::string m = uuid_of_ref(ref);
        auto [pif, device] = pif_of_metrics(m);
        if (pif.empty()) return make_error("HANDLE_INVALID", {"PIF_metrics", ref});
        return record(m, device);
      });

  // <host|VM>.query_data_source(self, name): the rate of one of our data sources, bytes/s.
  auto rate = [this](const std::string& port, bool rx) -> Result<json> {
    auto r = mgr_.port_rates(port);
    if (!r) return make_error("INTERNAL_ERROR", {"no data source for " + port});
    return json(rx ? r->rx : r->tx);
  };
  auto direction = [](const std::string& name, const std::string& prefix,
                      std::string& middle) -> int {  // 1 rx, 0 tx, -1 not ours
    if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 4) return -1;
    const std::string tail = name.substr(name.size() - 3);
    if (tail != "_rx" && tail != "_tx") return -1;
    middle = name.substr(prefix.size(), name.size() - prefix.size() - 3);
    return tail == "_rx";
  };
  add("host.query_data_source", 2, [this, rate, direction](const json& a) -> Result<json> {
    auto ok = mgr_.read([&](const Txn& t) { return resolve(t, "host", a[0]); });
    if (!ok) return ok.error();
    auto name = arg_string(a, 1, "data_source");
    if (!name) return name.error();
    std::string device;
    const int rx = direction(name.value(), "pif_", device);
    if (rx < 0) return make_error("INTERNAL_ERROR", {"unknown data source " + name.value()});
    return rate(device, rx == 1);
  });
  add("VM.query_data_source", 2, [this, rate, direction](const json& a) -> Result<json> {
    auto name = arg_string(a, 1, "data_source");
    if (!name) return name.error();
    std::string device;
    const int rx = direction(name.value(), "vif_", device);
    auto tap = mgr_.read([&](const Txn& t) -> Result<std::string> {
      auto vm = resolve(t, "VM", a[0]);
      if (!vm) return vm.error();
      for (const auto& vif : t.where("VIF", "VM", vm.value()))
        if (t.get(vif)->rec["device"] == device) return model::vif_device_name(t, vif);
      return make_error("INTERNAL_ERROR", {"unknown data source " + name.value()});
    });
    if (!tap) return tap.error();
    if (rx < 0) return make_error("INTERNAL_ERROR", {"unknown data source " + name.value()});
    // The guest's point of view: what it receives is what the switch sends to its TAP.
    return rate(tap.value(), rx == 0);
  });
}

}  // namespace hvnet::api
