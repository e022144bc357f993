#include "packet/packet_pool.h"

#include <gtest/gtest.h>

#include <set>

namespace hvnet {
namespace {

TEST(PacketPool, HandsOutEveryBufferOnceThenRunsDry) {
  PacketPool pool(40);
  Packet* a[64];
  EXPECT_EQ(pool.alloc(a, 32), 32u);
  EXPECT_EQ(pool.alloc(a + 32, 32), 8u);  // only 8 left
  EXPECT_EQ(pool.available(), 0u);
  EXPECT_EQ(pool.alloc_one(), nullptr);
  std::set<uint8_t*> bufs;
  for (int i = 0; i < 40; ++i) bufs.insert(a[i]->buf);
  EXPECT_EQ(bufs.size(), 40u);
  pool.free(a, 40);
  EXPECT_EQ(pool.available(), 40u);
}

TEST(PacketPool, PacketsComeBackReset) {
  PacketPool pool(1);
  Packet* p = pool.alloc_one();
  p->len = 100;
  p->data += 4;
  p->vnet.gso_type = VnetHdr::kGsoTcpV4;
  pool.free(p);
  p = pool.alloc_one();
  EXPECT_EQ(p->len, 0u);
  EXPECT_EQ(p->headroom(), kHeadroom);
  EXPECT_FALSE(p->vnet.is_gso());
}

TEST(Packet, InsertVlanTagMovesOffloadOffsets) {
  PacketPool pool(1);
  Packet* p = pool.alloc_one();
  for (int i = 0; i < 60; ++i) p->data[i] = uint8_t(i);
  p->len = 60;
  p->vnet.flags = VnetHdr::kFlagNeedsCsum;
  p->vnet.csum_start = 34;
  p->vnet.hdr_len = 54;
  ASSERT_TRUE(p->insert_vlan_tag(0x8100, 7));
  EXPECT_EQ(p->len, 64u);
  EXPECT_EQ(p->data[5], 5);    // destination MAC kept
  EXPECT_EQ(p->data[11], 11);  // source MAC kept
  EXPECT_EQ(p->data[12], 0x81);
  EXPECT_EQ(p->data[15], 7);
  EXPECT_EQ(p->data[16], 12);  // original EtherType follows the tag
  EXPECT_EQ(p->vnet.csum_start, 38);
  EXPECT_EQ(p->vnet.hdr_len, 58);
}

}  // namespace
}  // namespace hvnet
