// The host's SR-IOV edge driven by the model: VFs enabled on a fabricated sysfs tree, the exact
// rtnetlink requests (through the one builder the kernel sender uses) for a VIF's MAC, VLAN, rate
// and spoof check, a VF reset when given back, nothing left half-done when the NIC refuses, and
// VFs disabled with SR-IOV.
#include "control/sriov_host.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "model/ops.h"
#include "packet/mac.h"

namespace hvnet {
namespace {

namespace fs = std::filesystem;
using hostnet::VfSetting;
using K = VfSetting::Kind;
constexpr int kPfIndex = 42;

class SriovHostTest : public ::testing::Test {
 protected:
  SriovHostTest() {
    root = fs::temp_directory_path() / ("hvnet-sriov-host-" + std::to_string(getpid()));
    fs::remove_all(root);
    const fs::path d = root / "class/net/eth0/device";
    fs::create_directories(d);
    std::ofstream(d / "sriov_totalvfs") << "4\n";
    std::ofstream(d / "sriov_numvfs") << "0\n";
    auto rec = std::make_unique<hostnet::RecordingVfSender>();
    sent = rec.get();
    sriov = std::make_unique<SriovHost>(
        hostnet::SriovSysfs(root.string()), std::move(rec),
        [](const std::string& dev) { return dev == "eth0" ? kPfIndex : 0; });

    model::Txn t(db);
    host = model::ensure_host(t, "h1");
    db.set_local_host(host);
    pif = model::pif_scan(t, host, {{"eth0", "52:54:00:00:00:01", 1500, {"sriov"}, 4, "8086:10ed"}})
              .value()[0];
    net = model::network_create(t, {{"name_label", "sriov"}}).value();
    s = model::network_sriov_create(t, pif, net).value();
    vnet = model::network_create(t, {{"name_label", "v10"}}).value();
    EXPECT_TRUE(model::vlan_create(t, t.get(s)->rec["logical_PIF"], 10, vnet));
    vm = model::vm_create(t, {{"name_label", "vm"}}).value();
    EXPECT_TRUE(model::vm_shutdown(t, vm));
    vif = model::vif_create(
              t, {{"VM", vm}, {"network", vnet}, {"device", "0"}, {"MAC", "00:16:3e:00:00:05"}})
              .value();
    EXPECT_TRUE(model::set_field(t, vif, "qos_algorithm_type", "ratelimit"));
    EXPECT_TRUE(model::set_field(t, vif, "qos_algorithm_params", {{"kbps", "1250"}}));
    EXPECT_TRUE(model::vif_set_locking_mode(t, vif, "locked"));
    commit(t);
  }
  ~SriovHostTest() override { fs::remove_all(root); }
  void commit(model::Txn& t) {
    for (auto& [uuid, o] : t.changes()) {
      if (o)
        db.put(uuid, *o);
      else
        db.erase(uuid);
    }
  }
  template <class F>
  void write(F&& f) {
    model::Txn t(db);
    f(t);
    commit(t);
  }
  SriovConfig config() {
    model::Txn view(db, false);
    return sriov_config_from_model(view);
  }
  std::string numvfs() {
    std::string v;
    std::getline(std::ifstream(root / "class/net/eth0/device/sriov_numvfs"), v);
    return v;
  }
  static VfSetting setting(K kind) {
    VfSetting v;
    v.kind = kind;
    return v;
  }
  std::vector<uint8_t> request(uint32_t vf, VfSetting v, uint32_t seq) {
    return hostnet::vf_request(kPfIndex, vf, v, seq);
  }

  fs::path root;
  hostnet::RecordingVfSender* sent = nullptr;
  std::unique_ptr<SriovHost> sriov;
  model::Database db;
  std::string host, pif, net, s, vnet, vm, vif;
};

TEST_F(SriovHostTest, EnablesTheNicsVfsAndSetsEachVifsVfExactly) {
  ASSERT_TRUE(sriov->apply(config()));
  EXPECT_EQ(numvfs(), "4");  // XenServer's sysfs mode: all the NIC's VFs
  EXPECT_TRUE(sent->sent.empty());
  write([&](model::Txn& t) { ASSERT_TRUE(model::vm_start(t, vm)); });
  const SriovConfig cfg = config();
  ASSERT_EQ(cfg.vfs.size(), 1u);
  ASSERT_TRUE(sriov->apply(cfg));
  // A VF nobody had set gets all four settings, in order: MAC, VLAN, rate, spoof check.
  VfSetting mac = setting(K::kMac), vlan = setting(K::kVlan), rate = setting(K::kRate),
            spoof = setting(K::kSpoofCheck);
  mac.mac = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x05};
  vlan.vlan = 10;
  rate.max_tx_mbps = 10;     // 1250 kilobytes/s
  spoof.spoof_check = true;  // locked
  ASSERT_EQ(sent->sent.size(), 4u);
  EXPECT_EQ(sent->sent[0], request(0, mac, 1));
  EXPECT_EQ(sent->sent[1], request(0, vlan, 2));
  EXPECT_EQ(sent->sent[2], request(0, rate, 3));
  EXPECT_EQ(sent->sent[3], request(0, spoof, 4));
  // The same configuration again: nothing sent.
  ASSERT_TRUE(sriov->apply(config()));
  EXPECT_EQ(sent->sent.size(), 4u);
  // Unlocking the VIF changes its spoof check only.
  write([&](model::Txn& t) { ASSERT_TRUE(model::vif_set_locking_mode(t, vif, "unlocked")); });
  ASSERT_TRUE(sriov->apply(config()));
  spoof.spoof_check = false;
  ASSERT_EQ(sent->sent.size(), 5u);
  EXPECT_EQ(sent->sent[4], request(0, spoof, 1));
}

TEST_F(SriovHostTest, AVfGivenBackIsResetAndSriovGoneDisablesTheVfs) {
  write([&](model::Txn& t) { ASSERT_TRUE(model::vm_start(t, vm)); });
  ASSERT_TRUE(sriov->apply(config()));
  sent->sent.clear();
  write([&](model::Txn& t) { ASSERT_TRUE(model::vm_shutdown(t, vm)); });
  ASSERT_TRUE(sriov->apply(config()));
  // No MAC, no VLAN, no rate; spoof checking (the kernel's default) was already on.
  VfSetting mac = setting(K::kMac), vlan = setting(K::kVlan), rate = setting(K::kRate);
  ASSERT_EQ(sent->sent.size(), 3u);
  EXPECT_EQ(sent->sent[0], request(0, mac, 1));
  EXPECT_EQ(sent->sent[1], request(0, vlan, 2));
  EXPECT_EQ(sent->sent[2], request(0, rate, 3));
  EXPECT_TRUE(sriov->applied().vfs.empty());
  write([&](model::Txn& t) {
    for (const auto& v : t.all_of("VLAN")) ASSERT_TRUE(model::vlan_destroy(t, v));
    ASSERT_TRUE(model::network_sriov_destroy(t, s));
  });
  ASSERT_TRUE(sriov->apply(config()));
  EXPECT_EQ(numvfs(), "0");
  EXPECT_TRUE(sriov->applied().pfs.empty());
}

TEST_F(SriovHostTest, ARefusedSettingLeavesTheVfAsItWas) {
  ASSERT_TRUE(sriov->apply(config()));
  write([&](model::Txn& t) { ASSERT_TRUE(model::vm_start(t, vm)); });
  sent->fail_at = 3;  // the rate
  auto st = sriov->apply(config());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "NETWORK_SRIOV_ENABLE_FAILED");
  EXPECT_EQ(st.error().params,
            (std::vector<std::string>{"eth0", "VF 0: rate refused: Operation not supported"}));
  // MAC and VLAN put back (newest first), and the VF is not counted as set.
  ASSERT_EQ(sent->sent.size(), 5u);
  EXPECT_EQ(sent->sent[3], request(0, setting(K::kVlan), 0));
  EXPECT_EQ(sent->sent[4], request(0, setting(K::kMac), 0));
  EXPECT_TRUE(sriov->applied().vfs.empty());
}

TEST_F(SriovHostTest, OnlySriovChangesReachIt) {
  model::Txn view(db, false);
  store::Change plain_vif{"VIF", "x", store::Op::kMod, {{"sriov_VF", -1}}};
  store::Change vf_vif{"VIF", "x", store::Op::kMod, {{"sriov_VF", 2}}};
  store::Change vm_change{"VM", "x", store::Op::kMod, {{"power_state", "Running"}}};
  EXPECT_EQ(changes_sriov(plain_vif, nullptr, view), SriovScope::kNone);
  EXPECT_EQ(changes_sriov(vf_vif, nullptr, view), SriovScope::kVif);
  EXPECT_EQ(changes_sriov(vm_change, nullptr, view), SriovScope::kNone);
  store::Change sriov_change{"network_sriov", s, store::Op::kMod, {}};
  EXPECT_EQ(changes_sriov(sriov_change, nullptr, view), SriovScope::kAll);
  EXPECT_EQ(vf_rate_mbps(0), 0u);
  EXPECT_EQ(vf_rate_mbps(1), 1u);  // rounded up: never unlimited by accident
  EXPECT_EQ(vf_rate_mbps(125000), 1000u);
}

}  // namespace
}  // namespace hvnet
