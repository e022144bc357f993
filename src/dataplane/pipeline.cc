#include "dataplane/pipeline.h"

#include "dataplane/ingress.h"
#include "dataplane/vlan_egress.h"
#include "packet/headers.h"
#include "packet/mac.h"

namespace hvnet {

namespace {
bool is_gratuitous_arp(const Packet& p) noexcept {
  if (p.len < p.l2_len || load_be16(p.data + p.l2_len - 2) != kEtherTypeArp) return false;
  auto arp = parse_arp(p.data + p.l2_len, p.len - p.l2_len);
  return arp && arp->spa == arp->tpa;
}
}  // namespace

void Pipeline::mirror(const Snapshot& s, const std::vector<MirrorOut>& taps, const Packet& p,
                      const TxItem& it) noexcept {
  for (const MirrorOut& m : taps) {
    TxItem copy = it;
    if (m.vlan) {  // RSPAN: the session's VLAN in place of the frame's own tag
      copy.op = p.l2_len == 18 ? VlanOp::kRetag : VlanOp::kPush;
      copy.tci = uint16_t((p.pcp << 13) | m.vlan);
    }
    tx_.push(s, m.to, copy, stats_);
    MirrorCount* c = nullptr;
    for (auto& mc : mirror_counts_)
      if (mc.session == m.counters.get()) c = &mc;
    if (!c) {  // room for every session was reserved when the snapshot was adopted
      if (mirror_counts_.size() == mirror_counts_.capacity()) continue;
      c = &mirror_counts_.emplace_back(MirrorCount{m.counters.get(), 0, 0});
    }
    ++c->packets;
    c->bytes += p.len;
  }
}

void Pipeline::emit(const Snapshot& s, PortId port, const TxItem& it) noexcept {
  tx_.push(s, port, it, stats_);
  const PortEntry& pe = s.ports[port];
  if (!pe.mirror_tx.empty()) mirror(s, pe.mirror_tx, *it.pkt, it);
}

void Pipeline::configure(const Snapshot& s) {
  tx_.resize(s.ports.size());
  size_t taps = 0;
  for (const auto& pe : s.ports) taps += pe.mirror_rx.size() + pe.mirror_tx.size();
  mirror_counts_.reserve(taps);
  fdb_.reserve_lports(uint32_t(s.lports.size()));
  fdb_.set_ageing(s.mac_ageing_s);
}

void Pipeline::process(const Snapshot& s, PortId in, PacketBatch& batch, PacketPool& pool,
                       uint32_t now_s) noexcept {
  const PortEntry* pe = s.port(in);
  if (pe == nullptr) {  // the port left the configuration while its frames were in flight
    pool.free(batch.pkts.data(), batch.count);
    batch.clear();
    return;
  }
  PortStats& in_stats = pe->port->stats();
  uint64_t rx_bytes = 0;
  for (uint32_t i = 0; i < batch.count; ++i) rx_bytes += batch[i]->len;
  PortStats::bump(in_stats.rx_packets, batch.count);
  PortStats::bump(in_stats.rx_bytes, rx_bytes);

  for (uint32_t i = 0; i < batch.count; ++i) {
    Packet& p = *batch[i];
    p.in_port = in;
    std::optional<DropReason> why = ingress_classify(s, *pe, p);
    // Mirrored as received, even when the locking filter drops it next (spoofing shows).
    if (!why && !pe->mirror_rx.empty()) mirror(s, pe->mirror_rx, p, TxItem{&p, VlanOp::kKeep, 0});
    if (!why && pe->locking) why = pe->locking->check(p);
    if (why) {
      drop(in, *why, p);
      PortStats::bump(in_stats.rx_dropped);
      continue;
    }

    // balance-slb loop protection: our own VMs' frames reflected back by the physical switch
    // (a gratuitous ARP may legitimately announce a moved MAC).
    if (pe->slb_rx_filter) {
      LportId known = fdb_.lookup(p.bridge, mac_u64_at(p.data + 6), now_s);
      if (known != kNoLport && s.lports[known].port != in && !is_gratuitous_arp(p)) {
        drop(in, DropReason::kBondLoop, p);
        continue;
      }
    }

    // Learn the source (not a MAC a VIF whose MAC changes are rejected took on).
    const uint64_t src = mac_u64_at(p.data + 6);
    switch (pe->own_mac_only && src != pe->own_mac_only
                ? MacTable::LearnResult::kIgnored
                : fdb_.learn(p.bridge, src, p.in_lport, now_s)) {
      case MacTable::LearnResult::kNew:
        DataplaneStats::bump(stats_.learned);
        break;
      case MacTable::LearnResult::kNewEvicted:
        DataplaneStats::bump(stats_.learned);
        DataplaneStats::bump(stats_.mac_evictions);
        break;
      case MacTable::LearnResult::kMoved:
        DataplaneStats::bump(stats_.mac_moves);
        break;
      default:
        break;
    }

    // Known unicast goes to one logical port; everything else floods the bridge.
    const bool group = p.data[0] & 1;
    LportId out = group ? kNoLport : fdb_.lookup(p.bridge, mac_u64_at(p.data), now_s);
    if (out != kNoLport && out < s.lports.size() && s.lports[out].port != kNoPort) {
      if (out == p.in_lport) {
        drop(in, DropReason::kHairpin, p);
        continue;
      }
      const LportEntry& le = s.lports[out];
      if (pe->isolated && s.ports[le.port].isolated) {
        drop(in, DropReason::kIsolated, p);
        continue;
      }
      VlanRewrite rw = vlan_egress(p, le.tag);
      emit(s, le.port, TxItem{&p, rw.op, rw.tci});
      DataplaneStats::bump(stats_.forwarded);
      // Promiscuous ports of the network get a copy of what it forwards to others.
      for (LportId lp : *s.bridges[p.bridge].promiscuous) {
        if (lp == p.in_lport || lp == out) continue;
        const LportEntry& pl = s.lports[lp];
        if (pe->isolated && s.ports[pl.port].isolated) continue;
        VlanRewrite prw = vlan_egress(p, pl.tag);
        emit(s, pl.port, TxItem{&p, prw.op, prw.tci});
      }
      continue;
    }
    uint32_t copies = 0;
    const uint64_t dst = group ? 0 : mac_u64_at(p.data);
    for (LportId lp : *s.bridges[p.bridge].lports) {
      if (lp == p.in_lport) continue;
      const LportEntry& le = s.lports[lp];
      if (pe->isolated && s.ports[le.port].isolated) continue;
      // Unknown unicast for another MAC skips a VIF whose MAC changes are rejected.
      if (dst) {
        const PortEntry& to = s.ports[le.port];
        if (to.own_mac_only && to.own_mac_only != dst && !to.promiscuous) continue;
      }
      VlanRewrite rw = vlan_egress(p, le.tag);
      emit(s, le.port, TxItem{&p, rw.op, rw.tci});
      ++copies;
    }
    if (copies == 0)
      drop(in, DropReason::kNoDestination, p);
    else
      DataplaneStats::bump(stats_.flooded);
  }
  tx_.flush(s, stats_);
  for (const auto& mc : mirror_counts_) mc.session->count(mc.packets, mc.bytes);
  mirror_counts_.clear();
  pool.free(batch.pkts.data(), batch.count);
  batch.clear();
}

}  // namespace hvnet
