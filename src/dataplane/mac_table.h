// MacTable: the forwarding database of all bridges: (bridge, MAC) -> logical port, with ageing and
// a hard capacity. Flat open-addressed index (key = bridge + MAC packed in 8 bytes), entries in a
// fixed array, and one LRU list per logical port so that a full table evicts the oldest entry of
// the port holding the most entries (one port flooding random MACs cannot evict everyone else).
// Owned by one forwarding thread: no locks; never allocates after construction/reserve_lports.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "packet/packet.h"

namespace hvnet {

class MacTable {
 public:
  enum class LearnResult : uint8_t { kNew, kRefreshed, kMoved, kNewEvicted, kIgnored };

  MacTable(uint32_t capacity, uint32_t ageing_seconds);

  // Logical ports must be below this bound to be learned; call when the configuration grows.
  void reserve_lports(uint32_t count);
  void set_ageing(uint32_t seconds) noexcept { ageing_ = seconds; }
  uint32_t ageing() const noexcept { return ageing_; }

  // Learns or refreshes `mac` on `lport`. `now` is in seconds from any monotonic origin.
  LearnResult learn(BridgeId bridge, uint64_t mac, LportId lport, uint32_t now) noexcept;
  // The logical port for `mac`, or kNoLport when unknown or aged out.
  LportId lookup(BridgeId bridge, uint64_t mac, uint32_t now) const noexcept;

  // Removes entries idle for longer than the ageing time. Returns how many were removed.
  uint32_t expire(uint32_t now) noexcept;
  uint32_t flush_lport(LportId lport) noexcept;
  uint32_t flush_bridge(BridgeId bridge) noexcept;
  void flush_all() noexcept;

  uint32_t size() const noexcept { return used_; }
  uint32_t capacity() const noexcept { return capacity_; }
  uint32_t count_on(LportId lport) const noexcept {
    return lport < lists_.size() ? lists_[lport].count : 0;
  }

  struct EntryView {
    BridgeId bridge;
    uint64_t mac;
    LportId lport;
    uint32_t age;  // seconds since last seen
  };
  void for_each(uint32_t now, const std::function<void(const EntryView&)>& fn) const;

 private:
  static constexpr uint32_t kNil = 0xffffffffu;
  struct Entry {
    uint64_t key;
    LportId lport;
    uint32_t last_seen;
    uint32_t prev, next;  // LRU list of the entry's logical port (oldest at head)
  };
  struct Slot {
    uint64_t key;    // 0 = empty
    uint32_t entry;  // index into entries_
  };
  struct LruList {
    uint32_t head = kNil, tail = kNil, count = 0;
  };

  static uint64_t make_key(BridgeId b, uint64_t mac) noexcept {
    return (uint64_t(b) + 1) << 48 | (mac & 0xffffffffffffULL);
  }
  uint32_t home(uint64_t key) const noexcept {
    return uint32_t((key * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  uint32_t find_slot(uint64_t key) const noexcept;  // slot index or kNil
  void remove_entry(uint32_t e) noexcept;
  void list_append(LportId lp, uint32_t e) noexcept;
  void list_unlink(LportId lp, uint32_t e) noexcept;
  void evict_one() noexcept;

  uint32_t capacity_;
  uint32_t ageing_;
  uint32_t used_ = 0;
  uint32_t mask_;
  int shift_;
  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_entries_;
  std::vector<LruList> lists_;
};

}  // namespace hvnet
