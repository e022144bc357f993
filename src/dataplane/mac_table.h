// MacTable: the forwarding database of all bridges: (bridge, MAC) -> logical port, with ageing and
// a hard capacity, shared by every forwarding thread.
//  - Reads take no lock: lookup() and the refresh of a known MAC (learn() of a MAC already on that
//    logical port, what nearly every frame does) are a few atomic loads -- plain loads on x86 --
//    and at most one relaxed store of the time seen.
//  - Changes (a new MAC, a move, a removal) take one mutex: they are rare next to frames, and a
//    flood of new source MACs costs one lock per new MAC, bounded by the capacity.
//  - Index: open addressing with linear probing in a flat array of 64-bit slots (hash tag, entry
//    number) at most half full; entries in a fixed array whose key is written last when an entry
//    is filled and cleared first when it is emptied, so a reader that raced a change sees the
//    right port, or nothing (the frame is then flooded, which is always correct).
//  - One list per logical port in the order entries were listed; ageing walks it from the oldest
//    and moves refreshed entries to the back (second chance), so a refresh costs no list work;
//    a full table evicts the oldest entry of the port holding the most (one port flooding random
//    MACs cannot evict everyone else).
// Never allocates after construction and reserve_lports. 48 bytes per entry of capacity.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "packet/packet.h"

namespace hvnet {

class MacTable {
 public:
  enum class LearnResult : uint8_t { kNew, kRefreshed, kMoved, kNewEvicted, kIgnored };

  MacTable(uint32_t capacity, uint32_t ageing_seconds);

  // Logical ports must be below this bound to be learned; call when the configuration grows.
  void reserve_lports(uint32_t count);
  void set_ageing(uint32_t seconds) noexcept { ageing_.store(seconds, std::memory_order_relaxed); }
  uint32_t ageing() const noexcept { return ageing_.load(std::memory_order_relaxed); }

  // Learns or refreshes `mac` on `lport`. `now` is in seconds from any monotonic origin. Any
  // thread; lock-free when the MAC is known on that logical port.
  LearnResult learn(BridgeId bridge, uint64_t mac, LportId lport, uint32_t now) noexcept;
  // The logical port for `mac`, or kNoLport when unknown or aged out. Any thread, lock-free.
  LportId lookup(BridgeId bridge, uint64_t mac, uint32_t now) const noexcept;

  // Removes entries idle for longer than the ageing time. Returns how many were removed.
  uint32_t expire(uint32_t now) noexcept;
  uint32_t flush_lport(LportId lport) noexcept;
  uint32_t flush_bridge(BridgeId bridge) noexcept;
  void flush_all() noexcept;

  uint32_t size() const noexcept { return used_.load(std::memory_order_relaxed); }
  uint32_t capacity() const noexcept { return capacity_; }
  uint32_t count_on(LportId lport) const noexcept;

  struct EntryView {
    BridgeId bridge;
    uint64_t mac;
    LportId lport;
    uint32_t age;  // seconds since last seen
  };
  void for_each(uint32_t now, const std::function<void(const EntryView&)>& fn) const;

  static constexpr size_t kBytesPerEntry = 48;  // an entry and its two index slots

 private:
  static constexpr uint32_t kNil = 0xffffffffu;
  struct Entry {
    std::atomic<uint64_t> key{0};  // 0: free
    std::atomic<uint32_t> lport{0};
    std::atomic<uint32_t> last_seen{0};
    // Under the mutex only:
    uint32_t listed = 0;          // last_seen when put at the back of its list
    uint32_t prev = 0, next = 0;  // its logical port's list
  };
  struct List {
    uint32_t head = kNil, tail = kNil, count = 0;
  };
  static_assert(sizeof(Entry) + 2 * sizeof(std::atomic<uint64_t>) == kBytesPerEntry);

  static uint64_t make_key(BridgeId b, uint64_t mac) noexcept {
    return (uint64_t(b) + 1) << 48 | (mac & 0xffffffffffffULL);
  }
  static uint32_t tag_of(uint64_t key) noexcept {
    return uint32_t((key * 0x9E3779B97F4A7C15ULL) >> 32);
  }
  uint32_t home(uint32_t tag) const noexcept { return uint32_t(uint64_t(tag) >> tag_shift_); }
  static uint64_t slot_word(uint32_t tag, uint32_t e) noexcept {
    return uint64_t(tag) << 32 | (uint64_t(e) + 1);
  }
  // The entry holding `key`, or kNil (any thread).
  uint32_t find(uint64_t key) const noexcept;
  // Under the mutex:
  LearnResult learn_locked(uint64_t key, LportId lport, uint32_t now) noexcept;
  uint32_t slot_of(uint32_t e) const noexcept;
  void remove_entry(uint32_t e) noexcept;
  void list_append(LportId lp, uint32_t e) noexcept;
  void list_unlink(LportId lp, uint32_t e) noexcept;
  bool second_chance(LportId lp) noexcept;  // moves a refreshed head to the back
  void evict_one() noexcept;
  uint32_t expire_list(LportId lp, uint32_t now) noexcept;
  uint32_t clear_list(LportId lp) noexcept;

  const uint32_t capacity_;
  std::atomic<uint32_t> ageing_;
  std::atomic<uint32_t> used_{0};
  uint32_t mask_ = 0;
  int tag_shift_ = 0;
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  std::unique_ptr<Entry[]> entries_;
  mutable std::mutex mu_;  // every change of the index, the lists and the free entries
  std::vector<uint32_t> free_entries_;
  std::vector<List> lists_;
};

}  // namespace hvnet
