// BondPort: a NIC bond in userspace: one Port made of 2-4 member ports, in active-backup,
// balance-slb or LACP mode (the kernel here has no bonding driver, and we want better anyway).
//  - Carrier comes from netlink link events (LinkMonitor flags), with updelay/downdelay.
//  - active-backup: one active member carries and accepts traffic; backups drop what they get.
//  - balance-slb: 256 buckets of source MAC + VLAN spread over the members, rebalanced by measured
//    load; broadcast/multicast accepted only on the active member (loop protection; the pipeline
//    also drops frames whose source MAC lives on a local port).
//  - lacp: an 802.1AX actor (proto::Lacp) decides which members collect and distribute; flows are
//    hashed by source MAC or by L3/L4 ports; lacp-fallback-ab gives active-backup when the partner
//    never speaks LACP. LACPDUs and marker PDUs are handled here and never forwarded.
// When the active member or the bucket layout changes, a learning-packet request is raised; the
// forwarding thread answers it with the MACs to announce (RARP, as OVS does). Receive and timers
// run on the forwarding thread that owns the bond, transmit on any: all of them (and status())
// under the port's tx lock, once per batch or tick; LACP cannot be starved by the control plane.
#pragma once

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/port.h"
#include "proto/lacp.h"

namespace hvnet {

enum class BondMode : uint8_t { kActiveBackup, kBalanceSlb, kLacp };
enum class BondHash : uint8_t { kSrcMac, kTcpUdpPorts };
const char* bond_mode_name(BondMode m);

// A network's own failover order on the bond (vSphere's per-port-group teaming override): its
// frames, by VLAN (0: untagged), go out of and are taken in on the first member of `members`
// (indexes) that can carry traffic; members left out never carry it.
struct FailoverOrder {
  uint16_t vid = 0;
  std::vector<uint8_t> members;
  bool operator==(const FailoverOrder&) const = default;
};

struct BondConfig {
  BondMode mode = BondMode::kBalanceSlb;
  BondHash hash = BondHash::kTcpUdpPorts;  // LACP only; SLB always hashes the source MAC
  bool lacp_fast = false;
  bool fallback_ab = true;
  uint32_t updelay_ms = 0;
  uint32_t downdelay_ms = 0;
  uint32_t rebalance_ms = 10000;      // balance-slb; 0 = never
  std::array<uint8_t, 6> mac{};       // the bond's MAC, also its LACP system id
  uint32_t primary = 0;               // member index preferred as active
  std::vector<FailoverOrder> orders;  // per-network overrides (changed live: set_orders)
};

struct BondMemberSpec {
  std::shared_ptr<Port> port;
  std::shared_ptr<std::atomic<bool>> carrier;
  std::array<uint8_t, 6> mac{};
};

class BondPort final : public Port {
 public:
  BondPort(std::string name, BondConfig cfg, std::vector<BondMemberSpec> members);
  ~BondPort() override;

  uint32_t rx_burst(PacketPool& pool, PacketBatch& batch) noexcept override;
  // Called with tx_lock() held (as every transmit is).
  uint32_t tx_burst(const TxItem* items, uint32_t n) noexcept override;
  // An epoll fd over the members' fds; -1 (poll every iteration) if a member has no fd.
  int fd() const noexcept override { return always_poll_ ? -1 : epfd_; }
  bool needs_tick() const noexcept override { return true; }
  void tick(uint64_t now_ms) noexcept override;
  // The members' kernel drops, collected; the bond's figure is their sum.
  void collect_missed() noexcept override;

  const BondConfig& config() const { return cfg_; }
  // lacp-time on a running bond: the Timeout bit and the periodic rate change, nothing else.
  void set_lacp_fast(bool fast);
  // Per-network failover orders on a running bond.
  void set_orders(const std::vector<FailoverOrder>& orders);
  // Learning packets: true once after the active member or the bucket layout changed.
  bool take_learning_request() noexcept;
  // One learning packet: a RARP for `mac`, or with `ipv4` a gratuitous ARP (request, sender and
  // target both `ipv4`), on the VLAN `tag` (a LportEntry tag: 0 = untagged).
  struct Announcement {
    uint64_t mac = 0;
    uint16_t tag = 0;
    uint32_t ipv4 = 0;
  };
  // Sends each out of the member that now carries it.
  void send_learning(const std::vector<Announcement>& what);

  int active_member() const { return active_; }
  bool member_carries(size_t m) const { return m < enabled_.size() && enabled_[m]; }
  size_t member_count() const { return members_.size(); }
  uint64_t learning_sent() const { return learning_sent_; }
  // State for the API and tests (any thread).
  nlohmann::json status() const;
  // The member a frame leaving with `out_tag` would take now ("" when none can carry it), as
  // tx_burst picks it: for packet traces (any thread).
  std::string member_for(const Packet& p, uint16_t out_tag) const;

 private:
  struct Member {
    BondMemberSpec spec;
    bool up = false;       // carrier after updelay/downdelay
    bool pending = false;  // a carrier change waiting for its delay
    uint64_t pending_since = 0;
    uint64_t rx_filtered = 0;
  };
  int pick_member(const Packet& p, uint16_t out_tag) const noexcept;
  // The member carrying VLAN `vid` under a failover order: its index, -1 if none of the order's
  // members can, -2 without an order for it.
  int order_member(uint16_t vid) const noexcept {
    const uint8_t o = vid < order_of_vid_.size() ? order_of_vid_[vid] : 0;
    return o ? order_active_[o - 1] : -2;
  }
  void order_recompute();
  void index_orders();  // cfg_.orders -> order_of_vid_, order_active_
  void recompute(uint64_t now_ms);
  void rebalance();
  void handle_slow_protocol(size_t m, const Packet& p);
  void send_frame(size_t m, const uint8_t* frame, uint32_t len);
  static uint32_t member_send(Port& member, const TxItem* items, uint32_t n) noexcept;

  BondConfig cfg_;
  std::vector<Member> members_;
  proto::Lacp lacp_;
  std::vector<uint8_t> enabled_;  // per member: may carry traffic now
  std::vector<uint8_t> tx_list_;  // enabled members, for hashing
  std::vector<uint8_t> scratch_;
  int active_ = -1;
  std::vector<uint8_t> order_of_vid_;  // 4096 entries: 1 + index into cfg_.orders, 0 = none
  std::vector<int> order_active_;      // per order: the member carrying it now (-1: none)
  std::array<uint8_t, 256> bucket_member_{};
  std::array<uint64_t, 256> bucket_bytes_{};
  uint64_t now_ms_ = 0;
  uint64_t next_rebalance_ = 0;
  bool learning_request_ = false;
  uint64_t learning_sent_ = 0;
  size_t rx_next_ = 0;
  int epfd_ = -1;
  bool always_poll_ = false;
};

}  // namespace hvnet
