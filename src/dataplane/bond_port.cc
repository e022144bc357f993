#include "dataplane/bond_port.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "dataplane/bond_hash.h"
#include "dataplane/lport_tag.h"
#include "packet/headers.h"
#include "packet/mac.h"
#include "proto/lacpdu.h"
#include "util/fnv1a.h"

namespace hvnet {

const char* bond_mode_name(BondMode m) {
  switch (m) {
    case BondMode::kActiveBackup:
      return "active-backup";
    case BondMode::kBalanceSlb:
      return "balance-slb";
    case BondMode::kLacp:
      return "lacp";
  }
  return "unknown";
}

namespace {
proto::LacpConfig lacp_config(const BondConfig& c) {
  proto::LacpConfig l;
  l.sys_mac = c.mac;
  l.fast = c.lacp_fast;
  l.fallback_ab = c.fallback_ab;
  return l;
}

// A member's LACP port number: a function of its device name alone (FNV-1a into 1..0xfffe, the
// next free number on a clash among the bond's members), so it is the same after every restart
// and whatever order the members are listed in.
std::vector<uint16_t> lacp_port_numbers(const std::vector<BondMemberSpec>& members) {
  std::vector<size_t> by_name(members.size());
  for (size_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
  std::sort(by_name.begin(), by_name.end(),
            [&](size_t a, size_t b) { return members[a].port->name() < members[b].port->name(); });
  std::vector<uint16_t> out(members.size(), 0);
  for (size_t i : by_name) {
    auto n = uint16_t(1 + fnv1a32(members[i].port->name()) % 0xfffe);
    while (std::find(out.begin(), out.end(), n) != out.end()) n = uint16_t(n % 0xfffe + 1);
    out[i] = n;
  }
  return out;
}
}  // namespace

BondPort::BondPort(std::string name, BondConfig cfg, std::vector<BondMemberSpec> members)
    : Port(std::move(name), PortKind::kBond), cfg_(cfg), lacp_(lacp_config(cfg)) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  const std::vector<uint16_t> lacp_ports = lacp_port_numbers(members);
  for (size_t i = 0; i < members.size(); ++i) {
    Member m;
    m.spec = std::move(members[i]);
    if (int fd = m.spec.port->fd(); fd >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = uint32_t(i);
      epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    } else {
      always_poll_ = true;
    }
    members_.push_back(std::move(m));
    lacp_.add_member(lacp_ports[i]);
  }
  enabled_.assign(members_.size(), 0);
  scratch_.reserve(members_.size());
  tx_list_.reserve(members_.size());
  for (size_t b = 0; b < bucket_member_.size(); ++b)
    bucket_member_[b] = uint8_t(members_.empty() ? 0 : b % members_.size());
  if (cfg_.primary >= members_.size()) cfg_.primary = 0;
  order_of_vid_.assign(4096, 0);
  index_orders();
}

void BondPort::index_orders() {
  std::fill(order_of_vid_.begin(), order_of_vid_.end(), 0);
  for (size_t i = 0; i < cfg_.orders.size() && i < 255; ++i)
    if (cfg_.orders[i].vid < order_of_vid_.size())
      order_of_vid_[cfg_.orders[i].vid] = uint8_t(i + 1);
  order_active_.assign(cfg_.orders.size(), -1);
  order_recompute();
}

void BondPort::set_orders(const std::vector<FailoverOrder>& orders) {
  std::lock_guard lk(tx_lock());
  if (cfg_.orders == orders) return;
  cfg_.orders = orders;
  index_orders();
  learning_request_ = true;  // a network may have moved to another member
}

void BondPort::order_recompute() {
  for (size_t i = 0; i < cfg_.orders.size(); ++i) {
    int now = -1;
    for (uint8_t m : cfg_.orders[i].members)
      if (m < members_.size() && members_[m].up &&
          (cfg_.mode != BondMode::kLacp || enabled_[m] || !lacp_.negotiated())) {
        now = m;
        break;
      }
    if (now != order_active_[i]) {
      if (now >= 0) learning_request_ = true;
      order_active_[i] = now;
    }
  }
}

BondPort::~BondPort() {
  if (epfd_ >= 0) close(epfd_);
}

void BondPort::set_lacp_fast(bool fast) {
  std::lock_guard lk(tx_lock());
  if (cfg_.lacp_fast == fast) return;
  cfg_.lacp_fast = fast;
  lacp_.configure(lacp_config(cfg_));
}

bool BondPort::take_learning_request() noexcept {
  std::lock_guard lk(tx_lock());
  bool r = learning_request_;
  learning_request_ = false;
  return r;
}

void BondPort::tick(uint64_t now_ms) noexcept {
  std::lock_guard lk(tx_lock());
  now_ms_ = now_ms;
  // Carrier with updelay/downdelay.
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& m = members_[i];
    const bool carrier = m.spec.carrier ? m.spec.carrier->load(std::memory_order_relaxed) : true;
    if (carrier == m.up) {
      m.pending = false;
      continue;
    }
    if (!m.pending) {
      m.pending = true;
      m.pending_since = now_ms;
    }
    const uint64_t delay = carrier ? cfg_.updelay_ms : cfg_.downdelay_ms;
    if (now_ms - m.pending_since >= delay) {
      m.up = carrier;
      m.pending = false;
      lacp_.set_enabled(i, carrier);
    }
  }
  if (cfg_.mode == BondMode::kLacp) {
    lacp_.run(now_ms, [this](size_t m, const proto::Lacpdu& pdu) {
      uint8_t frame[14 + proto::kLacpduLen];
      std::memcpy(frame, proto::kSlowProtocolsMac.data(), 6);
      std::memcpy(frame + 6, members_[m].spec.mac.data(), 6);
      store_be16(frame + 12, proto::kEtherTypeSlow);
      proto::encode_lacpdu(pdu, frame + 14);
      send_frame(m, frame, sizeof frame);
    });
  }
  recompute(now_ms);
  if (cfg_.mode == BondMode::kBalanceSlb && cfg_.rebalance_ms && now_ms >= next_rebalance_) {
    if (next_rebalance_ != 0) rebalance();
    next_rebalance_ = now_ms + cfg_.rebalance_ms;
  }
}

void BondPort::recompute(uint64_t) {
  const size_t n = members_.size();
  std::vector<uint8_t>& next = scratch_;  // reused: no allocation per tick
  next.assign(n, 0);
  bool ab = cfg_.mode == BondMode::kActiveBackup;
  if (cfg_.mode == BondMode::kLacp) {
    if (lacp_.negotiated()) {
      for (size_t i = 0; i < n; ++i) next[i] = members_[i].up && lacp_.may_enable(i);
    } else if (cfg_.fallback_ab) {
      ab = true;  // the partner never spoke LACP: behave as active-backup
    }
  }
  // The active member: the primary if up, else the current one if still up, else the first up.
  int active = -1;
  auto usable = [&](size_t i) {
    return members_[i].up && (cfg_.mode != BondMode::kLacp || ab || next[i]);
  };
  if (cfg_.primary < n && usable(cfg_.primary))
    active = int(cfg_.primary);
  else if (active_ >= 0 && size_t(active_) < n && usable(size_t(active_)))
    active = active_;
  else
    for (size_t i = 0; i < n && active < 0; ++i)
      if (usable(i)) active = int(i);
  if (ab) {
    std::fill(next.begin(), next.end(), 0);
    if (active >= 0) next[size_t(active)] = 1;
  } else if (cfg_.mode == BondMode::kBalanceSlb) {
    for (size_t i = 0; i < n; ++i) next[i] = members_[i].up;
  }
  if (active != active_ && active >= 0) learning_request_ = true;
  active_ = active;
  order_recompute();
  if (next != enabled_) {
    enabled_ = next;
    tx_list_.clear();
    for (size_t i = 0; i < n; ++i)
      if (enabled_[i]) tx_list_.push_back(uint8_t(i));
    // Buckets on members that can no longer carry traffic move to the next enabled one.
    if (!tx_list_.empty()) {
      bool moved = false;
      for (auto& bm : bucket_member_) {
        if (enabled_[bm]) continue;
        bm = tx_list_[bm % tx_list_.size()];
        moved = true;
      }
      if (moved && cfg_.mode == BondMode::kBalanceSlb) learning_request_ = true;
    }
  }
}

void BondPort::rebalance() {
  if (tx_list_.size() < 2) return;
  std::vector<uint64_t> load(members_.size(), 0);
  for (size_t b = 0; b < 256; ++b) load[bucket_member_[b]] += bucket_bytes_[b];
  bool moved = false;
  // Move the buckets that help from the busiest to the idlest member, as long as the move
  // narrows the gap by a real margin (never just swaps the roles of two members).
  for (int round = 0; round < 8; ++round) {
    uint8_t busiest = tx_list_[0], idlest = tx_list_[0];
    for (uint8_t m : tx_list_) {
      if (load[m] > load[busiest]) busiest = m;
      if (load[m] < load[idlest]) idlest = m;
    }
    const uint64_t gap = load[busiest] - load[idlest];
    if (busiest == idlest || gap == 0) break;
    int best = -1;
    for (size_t b = 0; b < 256; ++b) {
      if (bucket_member_[b] != busiest || bucket_bytes_[b] == 0) continue;
      if (bucket_bytes_[b] * 2 >= gap + gap / 10) continue;  // would overshoot
      if (best < 0 || bucket_bytes_[b] > bucket_bytes_[size_t(best)]) best = int(b);
    }
    if (best < 0) break;
    bucket_member_[size_t(best)] = idlest;
    load[busiest] -= bucket_bytes_[size_t(best)];
    load[idlest] += bucket_bytes_[size_t(best)];
    moved = true;
  }
  for (auto& b : bucket_bytes_) b /= 2;  // a moving average of the load
  if (moved) learning_request_ = true;
}

int BondPort::pick_member(const Packet& p, uint16_t out_tag) const noexcept {
  if (const int o = order_member(out_tag); o != -2) return o;
  if (tx_list_.empty()) return -1;
  if (cfg_.mode == BondMode::kActiveBackup || tx_list_.size() == 1)
    return active_ >= 0 ? active_ : tx_list_[0];
  if (cfg_.mode == BondMode::kBalanceSlb)
    return bucket_member_[slb_bucket(mac_u64_at(p.data + 6), out_tag)];
  if (cfg_.hash == BondHash::kSrcMac)
    return tx_list_[slb_bucket(mac_u64_at(p.data + 6), out_tag) % tx_list_.size()];
  return tx_list_[l34_bucket(p.data, p.len, p.l2_len ? p.l2_len : 14) % tx_list_.size()];
}

uint32_t BondPort::member_send(Port& member, const TxItem* items, uint32_t n) noexcept {
  // (A device that just became a member may still be sent to as a PIF by a thread on the
  // previous snapshot: its own lock keeps the two apart.)
  std::lock_guard lk(member.tx_lock());
  return member.tx_burst(items, n);
}

uint32_t BondPort::tx_burst(const TxItem* items, uint32_t n) noexcept {
  constexpr size_t kMaxMembers = 8;
  TxItem per[kMaxMembers][kBatchSize];
  uint32_t count[kMaxMembers] = {};
  uint32_t sent = 0;
  auto flush = [&](size_t m) {
    Port& port = *members_[m].spec.port;
    uint32_t ok = member_send(port, per[m], count[m]);
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < ok; ++i) bytes += per[m][i].pkt->len;
    PortStats::bump(port.stats().tx_packets, ok);
    PortStats::bump(port.stats().tx_bytes, bytes);
    sent += ok;
    count[m] = 0;
  };
  for (uint32_t i = 0; i < n; ++i) {
    const Packet& p = *items[i].pkt;
    const uint16_t tag = items[i].op == VlanOp::kPop      ? 0
                         : (items[i].op == VlanOp::kKeep) ? p.vid
                                                          : uint16_t(items[i].tci & 0x0fff);
    int m = pick_member(p, tag);
    if (m < 0 || size_t(m) >= kMaxMembers) continue;  // no member can carry it: counted as failed
    if (cfg_.mode == BondMode::kBalanceSlb)
      bucket_bytes_[slb_bucket(mac_u64_at(p.data + 6), tag)] += p.len;
    per[m][count[m]++] = items[i];
    if (count[m] == kBatchSize) flush(size_t(m));
  }
  for (size_t m = 0; m < members_.size() && m < kMaxMembers; ++m)
    if (count[m]) flush(m);
  return sent;
}

void BondPort::send_frame(size_t m, const uint8_t* frame, uint32_t len) {
  if (!members_[m].up) return;
  Packet pkt;
  pkt.data = const_cast<uint8_t*>(frame);
  pkt.len = len;
  TxItem it{&pkt, VlanOp::kKeep, 0};
  member_send(*members_[m].spec.port, &it, 1);
}

void BondPort::handle_slow_protocol(size_t m, const Packet& p) {
  const uint8_t* payload = p.data + 14;
  const uint32_t len = p.len - 14;
  if (len >= 1 && payload[0] == proto::kSubtypeLacp) {
    if (auto pdu = proto::decode_lacpdu(payload, len)) lacp_.rx(m, *pdu);
  } else if (len >= 1 && payload[0] == proto::kSubtypeMarker) {
    // Marker responder: answer a request with the same information as a response.
    auto marker = proto::decode_marker(payload, len);
    if (!marker || marker->response) return;
    marker->response = true;
    uint8_t frame[14 + proto::kLacpduLen];
    std::memcpy(frame, proto::kSlowProtocolsMac.data(), 6);
    std::memcpy(frame + 6, members_[m].spec.mac.data(), 6);
    store_be16(frame + 12, proto::kEtherTypeSlow);
    proto::encode_marker(*marker, frame + 14);
    send_frame(m, frame, sizeof frame);
  }
}

uint32_t BondPort::rx_burst(PacketPool& pool, PacketBatch& batch) noexcept {
  std::lock_guard lk(tx_lock());
  const size_t n = members_.size();
  uint32_t got = 0;
  for (size_t k = 0; k < n && !batch.full(); ++k) {
    const size_t m = (rx_next_ + k) % n;
    Member& mem = members_[m];
    const uint32_t start = batch.count;
    mem.spec.port->rx_burst(pool, batch);
    uint32_t keep = start;
    for (uint32_t i = start; i < batch.count; ++i) {
      Packet* p = batch.pkts[i];
      PortStats::bump(mem.spec.port->stats().rx_packets);
      PortStats::bump(mem.spec.port->stats().rx_bytes, p->len);
      if (p->len >= 14 && load_be16(p->data + 12) == proto::kEtherTypeSlow) {
        handle_slow_protocol(m, *p);  // LACP and markers never enter the switch
        pool.free(p);
        continue;
      }
      bool accept = mem.up && enabled_[m];
      if (cfg_.mode == BondMode::kBalanceSlb && mem.up && (p->len >= 1 && (p->data[0] & 1)))
        accept = int(m) == active_;  // group traffic only on the active member
      if (!cfg_.orders.empty() && cfg_.mode != BondMode::kLacp && p->len >= 14) {
        // A network with its own order is taken in on the member carrying it, and only there.
        const uint16_t vid = load_be16(p->data + 12) == 0x8100 && p->len >= 18
                                 ? load_be16(p->data + 14) & 0x0fff
                                 : 0;
        if (const int o = order_member(vid); o != -2) accept = mem.up && int(m) == o;
      }
      if (!accept) {
        ++mem.rx_filtered;
        PortStats::bump(mem.spec.port->stats().rx_dropped);
        pool.free(p);
        continue;
      }
      batch.pkts[keep++] = p;
    }
    got += keep - start;
    batch.count = keep;
  }
  rx_next_ = n ? (rx_next_ + 1) % n : 0;
  return got;
}

void BondPort::send_learning(const std::vector<Announcement>& what) {
  std::lock_guard lk(tx_lock());
  for (const auto& a : what) {
    uint8_t frame[64] = {};
    uint32_t off = 0;
    std::memset(frame, 0xff, 6);
    MacAddr src = MacAddr::from_u64(a.mac);
    std::memcpy(frame + 6, src.b.data(), 6);
    off = 12;
    const uint16_t vid = vlan_of_lport_tag(a.tag);
    if (a.tag) {
      store_be16(frame + off, kEtherTypeVlan);
      store_be16(frame + off + 2, vid);
      off += 4;
    }
    store_be16(frame + off, a.ipv4 ? kEtherTypeArp : kEtherTypeRarp);
    uint8_t* r = frame + off + 2;
    store_be16(r, 1);  // hardware: Ethernet
    store_be16(r + 2, kEtherTypeIpv4);
    r[4] = 6;
    r[5] = 4;
    store_be16(r + 6, a.ipv4 ? 1 : 3);  // request (gratuitous) / reverse request
    std::memcpy(r + 8, src.b.data(), 6);
    if (a.ipv4) {
      store_be32(r + 14, a.ipv4);  // sender and target protocol address alike, target MAC zero
      store_be32(r + 24, a.ipv4);
    } else {
      std::memcpy(r + 18, src.b.data(), 6);
    }
    Packet pkt;
    pkt.data = frame;
    pkt.len = 60;
    pkt.l2_len = uint16_t(off + 2);
    int m = pick_member(pkt, vid);
    if (m < 0) continue;
    send_frame(size_t(m), frame, 60);
    ++learning_sent_;
  }
}

void BondPort::collect_missed() noexcept {
  std::lock_guard lk(tx_lock());
  uint64_t missed = 0;
  for (const Member& m : members_) {
    m.spec.port->collect_missed();
    missed += m.spec.port->stats().rx_missed.load(std::memory_order_relaxed);
  }
  stats().rx_missed.store(missed, std::memory_order_relaxed);
}

std::string BondPort::member_for(const Packet& p, uint16_t out_tag) const {
  std::lock_guard lk(tx_lock());
  const int m = pick_member(p, out_tag);
  return m >= 0 && size_t(m) < members_.size() ? members_[size_t(m)].spec.port->name() : "";
}

nlohmann::json BondPort::status() const {
  std::lock_guard lk(tx_lock());
  nlohmann::json j;
  j["mode"] = bond_mode_name(cfg_.mode);
  j["active_member"] = active_ >= 0 ? members_[size_t(active_)].spec.port->name() : "";
  j["lacp_negotiated"] = cfg_.mode == BondMode::kLacp && lacp_.negotiated();
  j["learning_packets_sent"] = learning_sent_;
  // Networks with their own failover order: VLAN -> the member carrying it now ("" none).
  j["vlan_active_member"] = nlohmann::json::object();
  for (size_t i = 0; i < cfg_.orders.size(); ++i)
    j["vlan_active_member"][std::to_string(cfg_.orders[i].vid)] =
        order_active_[i] >= 0 ? members_[size_t(order_active_[i])].spec.port->name() : "";
  int links_up = 0;
  nlohmann::json mems = nlohmann::json::array();
  for (size_t i = 0; i < members_.size(); ++i) {
    const Member& m = members_[i];
    links_up += m.up;
    const PortStats& s = m.spec.port->stats();
    nlohmann::json mj = {{"device", m.spec.port->name()},
                         {"backend", m.spec.port->backend()},
                         {"carrier", m.up},
                         {"enabled", bool(enabled_[i])},
                         {"rx_packets", s.rx_packets.load()},
                         {"rx_missed", s.rx_missed.load()},
                         {"tx_packets", s.tx_packets.load()},
                         {"rx_filtered", m.rx_filtered}};
    if (cfg_.mode == BondMode::kLacp) {
      auto st = lacp_.status(i);
      mj["lacp"] = proto::rx_state_name(st.rx);
      mj["lacp_mux"] = proto::mux_state_name(st.mux);
      mj["lacp_selected"] = proto::selected_name(st.selected);
      mj["lacp_port"] = st.actor.port;
      mj["lacp_actor_state"] = proto::Lacp::state_string(st.actor.state);
      mj["lacp_partner_state"] = proto::Lacp::state_string(st.partner.state);
      mj["lacp_partner_system"] = MacAddr{st.partner.sys_mac}.to_string();
      mj["lacp_partner_key"] = st.partner.key;
      mj["lacp_pdus_rx"] = st.pdus_rx;
      mj["lacp_pdus_tx"] = st.pdus_tx;
    }
    mems.push_back(mj);
  }
  j["links_up"] = links_up;
  j["members"] = mems;
  return j;
}

}  // namespace hvnet
