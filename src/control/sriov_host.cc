#include "control/sriov_host.h"

#include <net/if.h>
#include <spdlog/spdlog.h>

#include <optional>

#include "model/ops.h"
#include "model/records.h"
#include "packet/mac.h"

namespace hvnet {

namespace {

using model::string_field;

std::vector<hostnet::VfSetting> settings_of(const VfConfig& c) {
  using K = hostnet::VfSetting::Kind;
  std::vector<hostnet::VfSetting> out(4);
  out[0].kind = K::kMac;
  out[0].mac = c.mac;
  out[1].kind = K::kVlan;
  out[1].vlan = c.vlan;
  out[2].kind = K::kRate;
  out[2].max_tx_mbps = c.max_tx_mbps;
  out[3].kind = K::kSpoofCheck;
  out[3].spoof_check = c.spoof_check;
  return out;
}

}  // namespace

VfConfig free_vf() {
  return VfConfig{};
}

uint32_t vf_rate_mbps(uint64_t kbps) {
  if (kbps == 0) return 0;
  const uint64_t mbps = (kbps * 8 + 999) / 1000;
  return uint32_t(std::min<uint64_t>(mbps, UINT32_MAX));
}

namespace {

// This host's NIC (physical PIF) under `sriov` while its logical PIF is plugged (null otherwise).
const model::Object* local_nic(const model::Txn& t, const std::string& sriov,
                               const std::string& host) {
  const model::Object* s = t.get(sriov, "network_sriov");
  if (!s) return nullptr;
  const model::Object* phys = t.get(string_field(s->rec, "physical_PIF"), "PIF");
  const model::Object* logical = t.get(string_field(s->rec, "logical_PIF"), "PIF");
  if (!phys || !logical || string_field(phys->rec, "host") != host ||
      !logical->rec["currently_attached"].get<bool>())
    return nullptr;
  return phys;
}

// The VF a VIF holds on this host and the settings it gives it (nullopt: none).
std::optional<std::pair<VfKey, VfConfig>> vf_of(const model::Txn& t, const std::string& vif,
                                                const std::string& host) {
  const model::Object* o = t.get(vif, "VIF");
  if (!o) return std::nullopt;
  const model::json& r = o->rec;
  const int64_t vf = r.value("sriov_VF", int64_t(-1));
  if (vf < 0 || !r.value("currently_attached", false) || !model::vif_runs_here(t, r))
    return std::nullopt;
  const auto place = model::sriov_on_host(t, string_field(r, "network"), host);
  const model::Object* nic = place ? local_nic(t, place->sriov, host) : nullptr;
  if (!nic) return std::nullopt;
  const std::string pf = string_field(nic->rec, "device");
  VfConfig c;
  if (auto mac = MacAddr::parse(string_field(r, "MAC"))) c.mac = mac->b;
  c.vlan = uint16_t(place->vlan);
  c.max_tx_mbps = vf_rate_mbps(model::vif_rate(r).kbps);
  c.spoof_check = model::vif_effective_locking_mode(t, r) != "unlocked";
  c.vif = vif;
  return std::pair{VfKey{pf, uint32_t(vf)}, c};
}

}  // namespace

SriovConfig sriov_config_from_model(const model::Txn& t) {
  SriovConfig cfg;
  const std::string host = model::local_host(t);
  for (const auto& sriov : t.all_of("network_sriov")) {
    const model::Object* nic = local_nic(t, sriov, host);
    if (!nic) continue;
    cfg.pfs[string_field(nic->rec, "device")] =
        uint32_t(nic->rec.value("sriov_totalvfs", int64_t(0)));
    for (const auto& [vf, vif] : model::sriov_held_vfs(t, sriov))
      if (auto e = vf_of(t, vif, host)) cfg.vfs.insert(*e);
  }
  return cfg;
}

SriovConfig sriov_config_after(const model::Txn& t, SriovConfig cfg,
                               const std::vector<std::string>& vifs) {
  const std::string host = model::local_host(t);
  for (const auto& vif : vifs) {
    std::erase_if(cfg.vfs, [&](const auto& e) { return e.second.vif == vif; });
    if (auto e = vf_of(t, vif, host)) cfg.vfs.insert_or_assign(e->first, e->second);
  }
  return cfg;
}

SriovScope changes_sriov(const store::Change& change, const model::Object* before,
                         const model::Txn& view) {
  if (change.cls == "network_sriov") return SriovScope::kAll;
  if (change.cls == "VIF") {
    auto holds = [](const model::json& r) { return r.value("sriov_VF", int64_t(-1)) >= 0; };
    const bool vf =
        (change.op != store::Op::kDel && holds(change.record)) || (before && holds(before->rec));
    return vf ? SriovScope::kVif : SriovScope::kNone;
  }
  // A logical PIF plugged or unplugged, a VLAN on one, a network's locking default.
  if (change.cls == "PIF" || change.cls == "VLAN" || change.cls == "network")
    return view.all_of("network_sriov").empty() ? SriovScope::kNone : SriovScope::kAll;
  return SriovScope::kNone;
}

SriovHost::SriovHost(hostnet::SriovSysfs sysfs, std::unique_ptr<hostnet::VfSender> sender,
                     IfIndexOf ifindex_of)
    : sysfs_(std::move(sysfs)), sender_(std::move(sender)), ifindex_of_(std::move(ifindex_of)) {
  if (!ifindex_of_)
    ifindex_of_ = [](const std::string& dev) { return int(if_nametoindex(dev.c_str())); };
}

Status SriovHost::set_vf(const std::string& pf, uint32_t vf, const VfConfig& want,
                         const VfConfig* was) {
  const int ifindex = ifindex_of_(pf);
  if (ifindex <= 0)
    return make_error("NETWORK_SRIOV_ENABLE_FAILED", {pf, "no network device " + pf});
  // Only the settings that change (a VIF's new rate leaves its MAC and VLAN alone); all of them
  // for a VF this process has not set yet, whatever the kernel kept from before.
  std::vector<hostnet::VfSetting> wanted, before;
  const VfConfig from = was ? *was : free_vf();
  const auto w = settings_of(want), b = settings_of(from);
  for (size_t i = 0; i < w.size(); ++i) {
    const bool same = i == 0   ? want.mac == from.mac
                      : i == 1 ? want.vlan == from.vlan
                      : i == 2 ? want.max_tx_mbps == from.max_tx_mbps
                               : want.spoof_check == from.spoof_check;
    if (same && was) continue;
    wanted.push_back(w[i]);
    before.push_back(b[i]);
  }
  return hostnet::configure_vf(*sender_, pf, ifindex, vf, wanted, before);
}

Status SriovHost::apply(const SriovConfig& cfg) {
  // 1. NICs whose VFs are to be enabled (left alone when the kernel already has that many).
  for (const auto& [pf, n] : cfg.pfs) {
    auto had = have_.pfs.find(pf);
    if (had != have_.pfs.end() && had->second == n) continue;
    if (sysfs_.num_vfs(pf) != n)
      if (auto st = sysfs_.set_num_vfs(pf, n); !st) return st;
    spdlog::info("SR-IOV: {} VFs enabled on {}", n, pf);
    have_.pfs[pf] = n;
  }
  // 2. VFs given back: reset while their NIC keeps its VFs. A reset that fails leaves a VF with
  // a stale MAC that nobody is given before it is set again: logged, not refused.
  for (auto it = have_.vfs.begin(); it != have_.vfs.end();) {
    if (cfg.vfs.count(it->first)) {
      ++it;
      continue;
    }
    const auto& [pf, vf] = it->first;
    if (cfg.pfs.count(pf))
      if (auto st = set_vf(pf, vf, free_vf(), &it->second); !st)
        spdlog::warn("SR-IOV: resetting VF {} of {}: {}", vf, pf, st.error().to_string());
    it = have_.vfs.erase(it);
  }
  // 3. VFs taken or changed.
  for (const auto& [key, want] : cfg.vfs) {
    auto had = have_.vfs.find(key);
    const VfConfig* was = had != have_.vfs.end() ? &had->second : nullptr;
    if (was && *was == want) continue;
    if (auto st = set_vf(key.first, key.second, want, was); !st) return st;
    have_.vfs[key] = want;
  }
  // 4. NICs whose SR-IOV is gone: VFs disabled.
  for (auto it = have_.pfs.begin(); it != have_.pfs.end();) {
    if (cfg.pfs.count(it->first)) {
      ++it;
      continue;
    }
    if (auto st = sysfs_.set_num_vfs(it->first, 0); !st)
      return make_error("NETWORK_SRIOV_DISABLE_FAILED", st.error().params);
    spdlog::info("SR-IOV: VFs disabled on {}", it->first);
    it = have_.pfs.erase(it);
  }
  return ok_status();
}

}  // namespace hvnet
