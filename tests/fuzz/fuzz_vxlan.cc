// Tunnel packets from the wire: the header check, the VNI lookup, partial-checksum and
// super-frame marking and the tag (vxlan::decap), then what transmitting the result through
// another VTEP does to it (tag popped, checksum completed, TCP segmented to the tunnel's MTU).
// The same decapsulation behind GRE (gre::decap). Input: a VXLAN datagram (8-byte header, then the
// inner frame), also read as a GRE packet from a raw socket (IPv4 header, GRE header, frame); a
// header byte picks the sending VTEP.
#include <arpa/inet.h>

#include <cstring>
#include <vector>

#include "io/egress_frame.h"
#include "io/tunnel_port.h"
#include "packet/packet_pool.h"
#include "packet/soft_offload.h"

namespace {

using namespace hvnet;

// What transmitting a delivered frame through another VTEP does to it (tag popped, checksum
// completed, TCP segmented to the network's MTU).
void retransmit(Packet* p, const TunnelNet& t) {
  static std::vector<uint8_t> out(9300);
  if (p->len < 18 || (p->data[14] << 8 | p->data[15]) != t.tag) __builtin_trap();
  EgressFrame ef;
  if (!ef.build(TxItem{p, VlanOp::kPop, 0})) return;
  const soft::FrameView view{ef.iov + 1, ef.iov_count - 1, ef.frame_len};
  const soft::Plan plan = soft::plan(ef.vnet, view);
  if (plan.kind != soft::Plan::Kind::kUnsupported && plan.frames <= 256)
    for (uint32_t k = 0; k < plan.frames; ++k)
      soft::write_frame(plan, ef.vnet, view, k, out.data(), uint32_t(out.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static PacketPool pool(2);
  static const std::vector<TunnelNet> tunnels{
      TunnelNet{1, 10, {}, 1450},  // (by key)
      TunnelNet{77, 30, {{htonl(0x0a000001)}, {htonl(0x0a000002)}}, 68},
      TunnelNet{0x123456, 20, {}, 9000}};
  if (size < 8 || size - 8 > kFrameCapacity) return 0;
  // The sender: 10.0.0.0-3 by a reserved header byte (key 77 takes 10.0.0.1 and .2 only).
  const in_addr from{htonl(0x0a000000u | (data[1] & 3u))};
  Packet* p = nullptr;
  if (pool.alloc(&p, 1) != 1) __builtin_trap();
  // As a VXLAN datagram: an 8-byte header, then the frame.
  p->len = uint32_t(size - 8);
  std::memcpy(p->data, data + 8, p->len);
  if (const TunnelNet* t = vxlan::decap(*p, data, tunnels, from)) retransmit(p, *t);
  // As a GRE packet from a raw socket: IPv4 and GRE headers, then the frame.
  if (size >= gre::kOuterBytes) {
    p->len = uint32_t(size - gre::kOuterBytes);
    std::memcpy(p->data, data + gre::kOuterBytes, p->len);
    if (const TunnelNet* t = gre::decap(*p, data, tunnels, from)) retransmit(p, *t);
  }
  pool.free(p);
  return 0;
}
