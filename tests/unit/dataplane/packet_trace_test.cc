// Packet traces agree with the pipeline: each frame is traced first (which changes nothing), then
// sent through the switch for real, and the trace's verdict, drop reason and output ports must be
// what the pipeline did with it.
#include "dataplane/packet_trace.h"

#include <gtest/gtest.h>

#include <set>

#include "../mem_switch.h"

namespace hvnet {
namespace {

constexpr const char* kV1 = "00:16:3e:00:00:01";
constexpr const char* kV2 = "00:16:3e:00:00:02";
constexpr const char* kV3 = "00:16:3e:00:00:03";
constexpr const char* kBcast = "ff:ff:ff:ff:ff:ff";

nlohmann::json topology() {
  return {{"networks", {{{"name", "net0"}}, {{"name", "net10"}}, {{"name", "routed"}}}},
          {"ports",
           {{{"name", "vif1"}, {"type", "tap"}, {"network", "net0"}},
            {{"name", "vif2"}, {"type", "tap"}, {"network", "net0"}},
            {{"name", "vif3"},
             {"type", "tap"},
             {"network", "net0"},
             {"mac", kV3},
             {"locking", {{"mode", "locked"}, {"ipv4", {"10.0.0.3"}}}}},
            {{"name", "vif10"}, {"type", "tap"}, {"network", "net10"}},
            {{"name", "r1"}, {"type", "tap"}, {"network", "routed"}, {"isolated", true}},
            {{"name", "r2"}, {"type", "tap"}, {"network", "routed"}, {"isolated", true}},
            {{"name", "rh"}, {"type", "internal"}, {"network", "routed"}},
            {{"name", "eth0"},
             {"type", "af_packet"},
             {"network", "net0"},
             {"vlans", {{{"tag", 10}, {"network", "net10"}}}}}}}};
}

class PacketTraceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sw.apply_json(topology())); }

  // Traces `req`, sends the same frame, and checks they agree.
  TraceResult check(const TraceRequest& req) {
    auto r = sw.ctl.trace(req);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    if (!r) return {};
    const auto before = sw.dp.totals();
    for (auto& [n, p] : sw.ports) p->take_sent();
    sw.port(req.in_port).inject(trace_frame(req).value());
    sw.step();
    const auto after = sw.dp.totals();
    std::set<std::string> got, traced;
    for (auto& [n, p] : sw.ports)
      if (!p->take_sent().empty()) got.insert(n);
    for (const auto& o : r->outputs) traced.insert(o.name);
    EXPECT_EQ(traced, got) << req.in_port << " " << req.src << " > " << req.dst;
    std::optional<DropReason> dropped;
    for (size_t i = 0; i < after.drops.size(); ++i)
      if (after.drops[i] != before.drops[i]) dropped = DropReason(i);
    EXPECT_EQ(r->dropped, dropped) << req.in_port << " " << req.src << " > " << req.dst;
    if (dropped)
      EXPECT_EQ(r->verdict, "drop");
    else
      EXPECT_TRUE(r->verdict == "forward" || r->verdict == "flood") << r->verdict;
    return r.value();
  }
  static TraceRequest req(const char* in, const char* src, const char* dst, uint16_t vlan = 0,
                          const char* src_ip = "10.0.0.1") {
    TraceRequest t;
    t.in_port = in;
    t.src = src;
    t.dst = dst;
    t.vlan = vlan;
    t.src_ip = src_ip;
    t.dst_ip = "10.0.0.2";
    return t;
  }

  test::MemSwitch sw;
};

TEST_F(PacketTraceTest, FloodsForwardsAndDropsAsThePipelineDoes) {
  auto flood = check(req("vif1", kV1, kBcast));
  EXPECT_EQ(flood.verdict, "flood");
  EXPECT_EQ(flood.outputs.size(), 3u);  // vif2, vif3, eth0
  check(req("vif2", kV2, kBcast));      // vif2 is learned now
  auto fwd = check(req("vif1", kV1, kV2));
  EXPECT_EQ(fwd.verdict, "forward");
  ASSERT_EQ(fwd.outputs.size(), 1u);
  EXPECT_EQ(fwd.outputs[0].name, "vif2");
  EXPECT_EQ(fwd.outputs[0].vlan, "untagged");
  // Into VLAN 10 from the trunk, out of the access port untagged; and back, tagged.
  auto in10 = check(req("eth0", "52:54:00:00:00:09", kBcast, 10));
  ASSERT_EQ(in10.outputs.size(), 1u);
  EXPECT_EQ(in10.outputs[0].vlan, "pop tag");
  auto out10 = check(req("vif10", "00:16:3e:00:00:10", "52:54:00:00:00:09"));
  ASSERT_EQ(out10.outputs.size(), 1u);
  EXPECT_EQ(out10.outputs[0].name, "eth0");
  EXPECT_EQ(out10.outputs[0].vlan, "push VLAN 10");
}

TEST_F(PacketTraceTest, EachDropNamesItsStageAndReason) {
  EXPECT_EQ(check(req("eth0", "52:54:00:00:00:09", kBcast, 30)).dropped, DropReason::kVlanUnknown);
  EXPECT_EQ(check(req("vif1", kV1, kBcast, 10)).dropped, DropReason::kVlanNotAllowed);
  EXPECT_EQ(check(req("vif1", "01:00:5e:00:00:01", kBcast)).dropped, DropReason::kBadSourceMac);
  check(req("vif1", kV1, kBcast));
  EXPECT_EQ(check(req("vif1", kV1, kV1)).dropped, DropReason::kHairpin);
  // The locked VIF: a forged MAC, a forged address, then its own frame.
  auto mac = check(req("vif3", "00:16:3e:00:00:99", kBcast, 0, "10.0.0.3"));
  EXPECT_EQ(mac.dropped, DropReason::kLockMac);
  EXPECT_EQ(mac.steps.back().stage, "verdict");
  EXPECT_EQ(mac.steps[mac.steps.size() - 2].stage, "locking");
  EXPECT_EQ(check(req("vif3", kV3, kBcast, 0, "10.0.0.9")).dropped, DropReason::kLockIpv4);
  EXPECT_EQ(check(req("vif3", kV3, kBcast, 0, "10.0.0.3")).verdict, "flood");
  // Isolated ports of a routed network reach the host's port only.
  check(req("r2", "00:16:3e:00:00:22", kBcast));
  auto iso = check(req("r1", "00:16:3e:00:00:21", "00:16:3e:00:00:22"));
  EXPECT_EQ(iso.dropped, DropReason::kIsolated);
  auto up = check(req("r1", "00:16:3e:00:00:21", kBcast));
  ASSERT_EQ(up.outputs.size(), 1u);
  EXPECT_EQ(up.outputs[0].name, "rh");
}

TEST_F(PacketTraceTest, TracingChangesNothing) {
  const auto before = sw.dp.totals();
  const size_t macs = sw.dp.fdb().size();
  auto r = sw.ctl.trace(req("vif1", kV1, kBcast));
  ASSERT_TRUE(r);
  EXPECT_EQ(sw.dp.fdb().size(), macs);  // nothing learned
  EXPECT_EQ(sw.dp.totals().drops, before.drops);
  EXPECT_EQ(sw.dp.totals().flooded, before.flooded);
  EXPECT_TRUE(sw.ctl.drops().empty());
  for (auto& [n, p] : sw.ports) EXPECT_TRUE(p->take_sent().empty()) << n;
}

TEST_F(PacketTraceTest, BadRequestsNameTheField) {
  auto bad = [&](TraceRequest t) {
    auto r = sw.ctl.trace(t);
    return r ? std::string("ok") : r.error().params.at(0);
  };
  EXPECT_EQ(bad(req("nope", kV1, kBcast)), "in_port");
  EXPECT_EQ(bad(req("vif1", "zz", kBcast)), "src");
  EXPECT_EQ(bad(req("vif1", kV1, "1:2")), "dst");
  EXPECT_EQ(bad(req("vif1", kV1, kBcast, 4095)), "vlan");
  EXPECT_EQ(bad(req("vif1", kV1, kBcast, 0, "10.0.0")), "src_ip");
}

}  // namespace
}  // namespace hvnet
