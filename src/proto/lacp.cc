#include "proto/lacp.h"

#include <algorithm>
#include <tuple>

namespace hvnet::proto {

const char* lacp_rx_status_name(LacpRxStatus s) {
  switch (s) {
    case LacpRxStatus::kCurrent:
      return "current";
    case LacpRxStatus::kExpired:
      return "expired";
    case LacpRxStatus::kDefaulted:
      return "defaulted";
  }
  return "unknown";
}

void Lacp::configure(const LacpConfig& cfg) {
  cfg_ = cfg;
  for (auto& m : members_) m.ntt = true;
  update_selection();
}

size_t Lacp::add_member(uint16_t port) {
  Member m;
  m.port = port;
  members_.push_back(m);
  update_selection();
  return members_.size() - 1;
}

void Lacp::set_enabled(size_t m, bool enabled) {
  Member& mem = members_[m];
  if (mem.enabled == enabled) return;
  mem.enabled = enabled;
  mem.ntt = true;
  mem.tx_deadline = 0;  // speak at once when the link comes back
  update_selection();
}

LacpInfo Lacp::actor_info(const Member& mem) const {
  LacpInfo i;
  i.sys_priority = cfg_.sys_priority;
  i.sys_mac = cfg_.sys_mac;
  i.key = cfg_.key;
  i.port_priority = 0xff;
  i.port = mem.port;
  i.state = mem.actor_state;
  return i;
}

void Lacp::rx(size_t m, const Lacpdu& pdu, uint64_t now_ms) {
  Member& mem = members_[m];
  ++mem.pdus_rx;
  // Our own PDU coming back: the member is looped (two members on one wire, or a hub).
  mem.loopback = pdu.actor.sys_mac == cfg_.sys_mac && pdu.actor.sys_priority == cfg_.sys_priority;
  if (mem.loopback) {
    update_selection();
    return;
  }
  const bool partner_changed = !(mem.partner == pdu.actor);
  mem.partner = pdu.actor;
  mem.partner_view = pdu.partner;
  mem.rx_status = LacpRxStatus::kCurrent;
  mem.rx_deadline = now_ms + timeout_ms();
  update_selection();
  // The partner has a stale picture of us: correct it now rather than at the next period.
  if (!(pdu.partner == actor_info(mem))) mem.ntt = true;
  if (partner_changed) mem.ntt = true;
}

void Lacp::run(uint64_t now_ms, const std::function<void(size_t, const Lacpdu&)>& send) {
  for (auto& mem : members_) {
    if (mem.rx_status == LacpRxStatus::kCurrent && now_ms >= mem.rx_deadline) {
      // Expired: the partner is no longer trusted in sync; ask it for fast PDUs meanwhile.
      mem.rx_status = LacpRxStatus::kExpired;
      mem.partner.state &= uint8_t(~kStateSync);
      mem.rx_deadline = now_ms + kFastTimeoutMs;
      mem.ntt = true;
    } else if (mem.rx_status == LacpRxStatus::kExpired && now_ms >= mem.rx_deadline) {
      mem.rx_status = LacpRxStatus::kDefaulted;
      mem.partner = LacpInfo{};
      mem.partner_view = LacpInfo{};
      mem.ntt = true;
    }
  }
  update_selection();
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& mem = members_[i];
    if (!mem.enabled) continue;
    if (!mem.ntt && now_ms < mem.tx_deadline) continue;
    Lacpdu pdu;
    pdu.actor = actor_info(mem);
    pdu.partner = mem.partner;
    send(i, pdu);
    ++mem.pdus_tx;
    mem.ntt = false;
    // Follow the partner's Timeout bit; while we have no current partner and are configured
    // fast, keep speaking fast so that a repaired link renegotiates within a second.
    const bool fast = (mem.partner.state & kStateTimeout) ||
                      (cfg_.fast && mem.rx_status != LacpRxStatus::kCurrent);
    mem.tx_deadline = now_ms + (fast ? kFastPeriodMs : kSlowPeriodMs);
  }
}

uint64_t Lacp::next_deadline() const {
  uint64_t d = UINT64_MAX;
  for (const auto& mem : members_) {
    if (mem.ntt && mem.enabled) return 0;
    if (mem.enabled) d = std::min(d, mem.tx_deadline);
    if (mem.rx_status != LacpRxStatus::kDefaulted) d = std::min(d, mem.rx_deadline);
  }
  return d;
}

void Lacp::update_selection() {
  // The aggregator follows the best partner system among members that hear one.
  const Member* lead = nullptr;
  auto rank = [](const Member& m) {
    return std::make_tuple(m.partner.sys_priority, m.partner.sys_mac, m.partner.key, m.port);
  };
  for (const auto& mem : members_) {
    if (!mem.enabled || mem.loopback || mem.rx_status == LacpRxStatus::kDefaulted) continue;
    if (!(mem.partner.state & kStateAggregation)) continue;
    if (!lead || rank(mem) < rank(*lead)) lead = &mem;
  }
  for (auto& mem : members_) {
    mem.attached =
        lead && mem.enabled && !mem.loopback && mem.rx_status != LacpRxStatus::kDefaulted &&
        (mem.partner.state & kStateAggregation) && mem.partner.same_system(lead->partner);
    uint8_t st = kStateActivity | kStateAggregation;
    if (cfg_.fast || mem.rx_status == LacpRxStatus::kExpired) st |= kStateTimeout;
    if (mem.attached) st |= kStateSync | kStateCollecting | kStateDistributing;
    if (mem.rx_status == LacpRxStatus::kDefaulted) st |= kStateDefaulted;
    if (mem.rx_status == LacpRxStatus::kExpired) st |= kStateExpired;
    if (st != mem.actor_state) {
      mem.actor_state = st;
      mem.ntt = true;
    }
  }
}

bool Lacp::may_enable(size_t m) const {
  const Member& mem = members_[m];
  return mem.attached && (mem.partner.state & kStateSync) && (mem.partner.state & kStateCollecting);
}

bool Lacp::negotiated() const {
  for (const auto& mem : members_)
    if (mem.enabled && !mem.loopback && mem.rx_status != LacpRxStatus::kDefaulted) return true;
  return false;
}

Lacp::MemberStatus Lacp::status(size_t m) const {
  const Member& mem = members_[m];
  return MemberStatus{mem.rx_status,   mem.enabled, mem.attached, mem.loopback,
                      actor_info(mem), mem.partner, mem.pdus_rx,  mem.pdus_tx};
}

std::string Lacp::state_string(uint8_t s) {
  static const char* names[] = {"activity",   "timeout",      "aggregation", "synchronized",
                                "collecting", "distributing", "defaulted",   "expired"};
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (!(s & (1 << i))) continue;
    if (!out.empty()) out += ",";
    out += names[i];
  }
  return out;
}

}  // namespace hvnet::proto
