#include "dataplane/mac_table.h"

#include <bit>

namespace hvnet {

MacTable::MacTable(uint32_t capacity, uint32_t ageing_seconds)
    : capacity_(capacity), ageing_(ageing_seconds) {
  uint32_t nslots = std::bit_ceil(capacity * 2 < 16 ? 16u : capacity * 2);
  mask_ = nslots - 1;
  shift_ = 64 - std::countr_zero(nslots);
  slots_.assign(nslots, Slot{0, 0});
  entries_.resize(capacity);
  free_entries_.reserve(capacity);
  for (uint32_t i = capacity; i > 0; --i) free_entries_.push_back(i - 1);
}

void MacTable::reserve_lports(uint32_t count) {
  if (lists_.size() < count) lists_.resize(count);
}

uint32_t MacTable::find_slot(uint64_t key) const noexcept {
  for (uint32_t i = home(key);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.key == key) return i;
    if (s.key == 0) return kNil;
  }
}

void MacTable::list_append(LportId lp, uint32_t e) noexcept {
  LruList& l = lists_[lp];
  entries_[e].prev = l.tail;
  entries_[e].next = kNil;
  if (l.tail != kNil)
    entries_[l.tail].next = e;
  else
    l.head = e;
  l.tail = e;
  ++l.count;
}

void MacTable::list_unlink(LportId lp, uint32_t e) noexcept {
  LruList& l = lists_[lp];
  Entry& en = entries_[e];
  if (en.prev != kNil)
    entries_[en.prev].next = en.next;
  else
    l.head = en.next;
  if (en.next != kNil)
    entries_[en.next].prev = en.prev;
  else
    l.tail = en.prev;
  --l.count;
}

void MacTable::remove_entry(uint32_t e) noexcept {
  Entry& en = entries_[e];
  list_unlink(en.lport, e);
  // Backward-shift deletion keeps linear probing free of tombstones.
  uint32_t i = find_slot(en.key);
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (slots_[j].key == 0) break;
    uint32_t h = home(slots_[j].key);
    // Move slot j into hole i if its home is not cyclically within (i, j].
    bool in_range = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
    if (!in_range) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{0, 0};
  free_entries_.push_back(e);
  --used_;
}

void MacTable::evict_one() noexcept {
  uint32_t victim_port = kNil;
  uint32_t most = 0;
  for (uint32_t lp = 0; lp < lists_.size(); ++lp) {
    if (lists_[lp].count > most) {
      most = lists_[lp].count;
      victim_port = lp;
    }
  }
  if (victim_port != kNil) remove_entry(lists_[victim_port].head);
}

MacTable::LearnResult MacTable::learn(BridgeId bridge, uint64_t mac, LportId lport,
                                      uint32_t now) noexcept {
  if (lport >= lists_.size() || capacity_ == 0) return LearnResult::kIgnored;
  const uint64_t key = make_key(bridge, mac);
  uint32_t i = home(key);
  for (;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) {
      Entry& e = entries_[s.entry];
      if (e.lport != lport) {
        list_unlink(e.lport, s.entry);
        e.lport = lport;
        e.last_seen = now;
        list_append(lport, s.entry);
        return LearnResult::kMoved;
      }
      if (e.last_seen != now) {  // touch the LRU order at most once a second per MAC
        e.last_seen = now;
        if (lists_[lport].tail != s.entry) {
          list_unlink(lport, s.entry);
          list_append(lport, s.entry);
        }
      }
      return LearnResult::kRefreshed;
    }
    if (s.key == 0) break;
  }
  LearnResult result = LearnResult::kNew;
  if (used_ == capacity_) {
    evict_one();
    result = LearnResult::kNewEvicted;
    i = home(key);  // the deletion may have moved slots: find the first hole again
    while (slots_[i].key != 0) i = (i + 1) & mask_;
  }
  uint32_t e = free_entries_.back();
  free_entries_.pop_back();
  entries_[e] = Entry{key, lport, now, kNil, kNil};
  list_append(lport, e);
  slots_[i] = Slot{key, e};
  ++used_;
  return result;
}

LportId MacTable::lookup(BridgeId bridge, uint64_t mac, uint32_t now) const noexcept {
  uint32_t s = find_slot(make_key(bridge, mac));
  if (s == kNil) return kNoLport;
  const Entry& e = entries_[slots_[s].entry];
  if (now - e.last_seen > ageing_) return kNoLport;
  return e.lport;
}

uint32_t MacTable::expire(uint32_t now) noexcept {
  uint32_t removed = 0;
  for (uint32_t lp = 0; lp < lists_.size(); ++lp) {
    while (lists_[lp].head != kNil && now - entries_[lists_[lp].head].last_seen > ageing_) {
      remove_entry(lists_[lp].head);
      ++removed;
    }
  }
  return removed;
}

uint32_t MacTable::flush_lport(LportId lport) noexcept {
  if (lport >= lists_.size()) return 0;
  uint32_t removed = 0;
  while (lists_[lport].head != kNil) {
    remove_entry(lists_[lport].head);
    ++removed;
  }
  return removed;
}

uint32_t MacTable::flush_bridge(BridgeId bridge) noexcept {
  uint32_t removed = 0;
  for (uint32_t lp = 0; lp < lists_.size(); ++lp) {
    uint32_t e = lists_[lp].head;
    while (e != kNil) {
      uint32_t next = entries_[e].next;
      if ((entries_[e].key >> 48) == uint64_t(bridge) + 1) {
        remove_entry(e);
        ++removed;
      }
      e = next;
    }
  }
  return removed;
}

void MacTable::flush_all() noexcept {
  for (uint32_t lp = 0; lp < lists_.size(); ++lp) flush_lport(lp);
}

void MacTable::for_each(uint32_t now, const std::function<void(const EntryView&)>& fn) const {
  for (const Slot& s : slots_) {
    if (s.key == 0) continue;
    const Entry& e = entries_[s.entry];
    uint32_t age = now - e.last_seen;
    if (age > ageing_) continue;
    fn(EntryView{BridgeId((s.key >> 48) - 1), s.key & 0xffffffffffffULL, e.lport, age});
  }
}

}  // namespace hvnet
