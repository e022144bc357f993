#include "control/switch_controller.h"

#include <gtest/gtest.h>

#include "../frames.h"
#include "../mem_switch.h"

namespace hvnet {
namespace {

nlohmann::json two_vifs() {
  return {{"networks", {{{"name", "net0"}}}},
          {"ports", {{{"name", "a"}, {"network", "net0"}}, {{"name", "b"}, {"network", "net0"}}}}};
}

TEST(SwitchController, FailedPortOpenChangesNothing) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(two_vifs()));
  auto gen = sw.slot.generation();
  auto j = two_vifs();
  j["ports"].push_back({{"name", "c"}, {"network", "net0"}});
  j["ports"].push_back({{"name", "broken"}, {"network", "net0"}});
  sw.fail_open = "broken";
  auto st = sw.apply_json(j);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "PORT_OPEN_FAILED");
  EXPECT_EQ(sw.slot.generation(), gen);
  EXPECT_EQ(sw.ctl.topology().ports.size(), 2u);
  // The old configuration still forwards.
  sw.port("a").inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:01"));
  sw.step();
  EXPECT_EQ(sw.port("b").take_sent().size(), 1u);
}

TEST(SwitchController, InvalidSpecIsRejectedBeforeAnythingOpens) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(two_vifs()));
  TopologySpec bad = sw.ctl.topology();
  bad.ports.push_back(PortSpec{"c", PortKind::kTap, "nowhere", {}});
  auto st = sw.ctl.apply(bad);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "HANDLE_INVALID");
  EXPECT_EQ(sw.ports.count("c"), 0u);
}

TEST(SwitchController, PortsKeepTheirIdentityAcrossApplies) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(two_vifs()));
  auto before = sw.slot.get();
  auto j = two_vifs();
  j["ports"].push_back({{"name", "c"}, {"network", "net0"}});
  ASSERT_TRUE(sw.apply_json(j));
  auto after = sw.slot.get();
  EXPECT_EQ(before->ports[0].port, after->ports[0].port);
  EXPECT_EQ(before->ports[1].port, after->ports[1].port);
  EXPECT_EQ(after->bridges[0].lports->size(), 3u);
}

TEST(SwitchController, FdbAndStatsDumps) {
  test::MemSwitch sw;
  ASSERT_TRUE(sw.apply_json(two_vifs()));
  sw.port("a").inject(test::frame("ff:ff:ff:ff:ff:ff", "00:16:3e:00:00:0a"));
  sw.port("a").inject({1, 2});
  sw.step();
  auto fdb = sw.ctl.fdb_json();
  ASSERT_EQ(fdb.size(), 1u);
  EXPECT_EQ(fdb[0]["mac"], "00:16:3e:00:00:0a");
  EXPECT_EQ(fdb[0]["port"], "a");
  EXPECT_EQ(fdb[0]["network"], "net0");
  auto stats = sw.ctl.stats_json();
  EXPECT_EQ(stats["ports"]["a"]["rx_packets"], 2);
  EXPECT_EQ(stats["ports"]["a"]["rx_dropped"], 1);
  EXPECT_EQ(stats["ports"]["b"]["tx_packets"], 1);
  EXPECT_EQ(stats["drops"]["runt"], 1);
}

}  // namespace
}  // namespace hvnet
