#include "dataplane/mac_table.h"

#include <bit>

namespace hvnet {

// Memory order: a filled entry's lport and last_seen are stored before its key (release); an
// emptied entry's key is cleared before anything else of it changes (relaxed store, then a release
// fence). A reader loads the key (acquire), the fields, then the key again after an acquire
// fence: if both loads saw its key, the fields it read belong to that key. Slots are published
// with release stores after the entry they name is filled.

MacTable::MacTable(uint32_t capacity, uint32_t ageing_seconds)
    : capacity_(capacity), ageing_(ageing_seconds) {
  const uint32_t nslots = std::bit_ceil(capacity * 2 < 16 ? 16u : capacity * 2);
  mask_ = nslots - 1;
  tag_shift_ = 32 - std::countr_zero(nslots);
  slots_.reset(new std::atomic<uint64_t>[nslots]);
  for (uint32_t i = 0; i < nslots; ++i) slots_[i].store(0, std::memory_order_relaxed);
  entries_.reset(new Entry[capacity == 0 ? 1 : capacity]);
  free_entries_.reserve(capacity);
  for (uint32_t i = capacity; i > 0; --i) free_entries_.push_back(i - 1);
}

void MacTable::reserve_lports(uint32_t count) {
  std::lock_guard lk(mu_);
  if (lists_.size() < count) lists_.resize(count);
}

uint32_t MacTable::count_on(LportId lport) const noexcept {
  std::lock_guard lk(mu_);
  return lport < lists_.size() ? lists_[lport].count : 0;
}

uint32_t MacTable::find(uint64_t key) const noexcept {
  const uint32_t tag = tag_of(key);
  for (uint32_t i = home(tag);; i = (i + 1) & mask_) {
    const uint64_t s = slots_[i].load(std::memory_order_acquire);
    if (s == 0) return kNil;
    if (uint32_t(s >> 32) != tag) continue;
    const uint32_t e = uint32_t(s) - 1;
    if (entries_[e].key.load(std::memory_order_acquire) == key) return e;
  }
}

LportId MacTable::lookup(BridgeId bridge, uint64_t mac, uint32_t now) const noexcept {
  const uint64_t key = make_key(bridge, mac);
  const uint32_t e = find(key);
  if (e == kNil) return kNoLport;
  const Entry& en = entries_[e];
  const LportId lp = en.lport.load(std::memory_order_relaxed);
  const uint32_t seen = en.last_seen.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (en.key.load(std::memory_order_relaxed) != key) return kNoLport;  // emptied meanwhile
  if (now - seen > ageing()) return kNoLport;
  return lp;
}

MacTable::LearnResult MacTable::learn(BridgeId bridge, uint64_t mac, LportId lport,
                                      uint32_t now) noexcept {
  const uint64_t key = make_key(bridge, mac);
  if (const uint32_t e = find(key); e != kNil) {
    Entry& en = entries_[e];
    const LportId lp = en.lport.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (lp == lport && en.key.load(std::memory_order_relaxed) == key) {
      // (If the entry is emptied and refilled right now, its new MAC looks one refresh younger.)
      if (en.last_seen.load(std::memory_order_relaxed) != now)
        en.last_seen.store(now, std::memory_order_relaxed);
      return LearnResult::kRefreshed;
    }
  }
  std::lock_guard lk(mu_);
  return learn_locked(key, lport, now);
}

MacTable::LearnResult MacTable::learn_locked(uint64_t key, LportId lport, uint32_t now) noexcept {
  if (lport >= lists_.size() || capacity_ == 0) return LearnResult::kIgnored;
  if (const uint32_t e = find(key); e != kNil) {  // another thread learned it meanwhile
    Entry& en = entries_[e];
    en.last_seen.store(now, std::memory_order_relaxed);
    const LportId was = en.lport.load(std::memory_order_relaxed);
    if (was == lport) return LearnResult::kRefreshed;
    list_unlink(was, e);
    en.lport.store(lport, std::memory_order_relaxed);
    en.listed = now;
    list_append(lport, e);
    return LearnResult::kMoved;
  }
  LearnResult result = LearnResult::kNew;
  if (used_.load(std::memory_order_relaxed) == capacity_) {
    evict_one();
    result = LearnResult::kNewEvicted;
  }
  const uint32_t e = free_entries_.back();
  free_entries_.pop_back();
  Entry& en = entries_[e];
  en.lport.store(lport, std::memory_order_relaxed);
  en.last_seen.store(now, std::memory_order_relaxed);
  en.listed = now;
  en.key.store(key, std::memory_order_release);
  list_append(lport, e);
  const uint32_t tag = tag_of(key);
  uint32_t i = home(tag);
  while (slots_[i].load(std::memory_order_relaxed) != 0) i = (i + 1) & mask_;
  slots_[i].store(slot_word(tag, e), std::memory_order_release);
  used_.store(used_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return result;
}

void MacTable::list_append(LportId lp, uint32_t e) noexcept {
  List& l = lists_[lp];
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
  List& l = lists_[lp];
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

uint32_t MacTable::slot_of(uint32_t e) const noexcept {
  const uint64_t want = slot_word(tag_of(entries_[e].key.load(std::memory_order_relaxed)), e);
  for (uint32_t i = home(uint32_t(want >> 32));; i = (i + 1) & mask_)
    if (slots_[i].load(std::memory_order_relaxed) == want) return i;
}

void MacTable::remove_entry(uint32_t e) noexcept {
  Entry& en = entries_[e];
  list_unlink(en.lport.load(std::memory_order_relaxed), e);
  // Backward-shift deletion keeps linear probing free of tombstones. A reader probing past a slot
  // as it moves may miss that entry once (its frame floods).
  uint32_t i = slot_of(e);
  for (uint32_t j = i;;) {
    j = (j + 1) & mask_;
    const uint64_t s = slots_[j].load(std::memory_order_relaxed);
    if (s == 0) break;
    const uint32_t h = home(uint32_t(s >> 32));
    // Move slot j into hole i unless its home is cyclically within (i, j].
    const bool in_range = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
    if (!in_range) {
      slots_[i].store(s, std::memory_order_release);
      i = j;
    }
  }
  slots_[i].store(0, std::memory_order_release);
  en.key.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  free_entries_.push_back(e);
  used_.store(used_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

bool MacTable::second_chance(LportId lp) noexcept {
  const uint32_t e = lists_[lp].head;
  Entry& en = entries_[e];
  const uint32_t seen = en.last_seen.load(std::memory_order_relaxed);
  if (seen == en.listed) return false;
  list_unlink(lp, e);
  en.listed = seen;
  list_append(lp, e);
  return true;
}

void MacTable::evict_one() noexcept {
  uint32_t victim = kNil;
  uint32_t most = 0;
  for (uint32_t lp = 0; lp < lists_.size(); ++lp) {
    if (lists_[lp].count > most) {
      most = lists_[lp].count;
      victim = lp;
    }
  }
  if (victim == kNil) return;
  // The oldest by when it was last seen, near enough: a few refreshed heads go to the back first.
  for (int k = 0; k < 8 && second_chance(victim); ++k) {
  }
  remove_entry(lists_[victim].head);
}

uint32_t MacTable::expire_list(LportId lp, uint32_t now) noexcept {
  const uint32_t ageing = this->ageing();
  uint32_t removed = 0;
  // The list is in `listed` order and last_seen >= listed: once the head was seen no later than
  // it was listed and is young enough, everything behind it is too. A refreshed head goes to the
  // back; each entry moves at most twice a call (bounded however the clock moves).
  for (uint32_t budget = 2 * lists_[lp].count + 1; lists_[lp].head != kNil && budget > 0;
       --budget) {
    const uint32_t e = lists_[lp].head;
    if (now - entries_[e].last_seen.load(std::memory_order_relaxed) > ageing) {
      remove_entry(e);
      ++removed;
    } else if (!second_chance(lp)) {
      break;
    }
  }
  return removed;
}

uint32_t MacTable::expire(uint32_t now) noexcept {
  std::lock_guard lk(mu_);
  uint32_t removed = 0;
  for (uint32_t lp = 0; lp < lists_.size(); ++lp) removed += expire_list(lp, now);
  return removed;
}

uint32_t MacTable::clear_list(LportId lp) noexcept {
  uint32_t removed = 0;
  for (; lists_[lp].head != kNil; ++removed) remove_entry(lists_[lp].head);
  return removed;
}

uint32_t MacTable::flush_lport(LportId lport) noexcept {
  std::lock_guard lk(mu_);
  return lport < lists_.size() ? clear_list(lport) : 0;
}

uint32_t MacTable::flush_bridge(BridgeId bridge) noexcept {
  std::lock_guard lk(mu_);
  uint32_t removed = 0;
  for (uint32_t lp = 0; lp < lists_.size(); ++lp) {
    uint32_t e = lists_[lp].head;
    while (e != kNil) {
      const uint32_t next = entries_[e].next;
      if ((entries_[e].key.load(std::memory_order_relaxed) >> 48) == uint64_t(bridge) + 1) {
        remove_entry(e);
        ++removed;
      }
      e = next;
    }
  }
  return removed;
}

void MacTable::flush_all() noexcept {
  std::lock_guard lk(mu_);
  for (uint32_t lp = 0; lp < lists_.size(); ++lp) clear_list(lp);
}

void MacTable::for_each(uint32_t now, const std::function<void(const EntryView&)>& fn) const {
  std::vector<EntryView> views;
  {
    std::lock_guard lk(mu_);
    const uint32_t ageing = this->ageing();
    for (uint32_t lp = 0; lp < lists_.size(); ++lp) {
      for (uint32_t e = lists_[lp].head; e != kNil; e = entries_[e].next) {
        const uint64_t key = entries_[e].key.load(std::memory_order_relaxed);
        const uint32_t age = now - entries_[e].last_seen.load(std::memory_order_relaxed);
        if (age > ageing) continue;
        views.push_back(EntryView{BridgeId((key >> 48) - 1), key & 0xffffffffffffULL, lp, age});
      }
    }
  }
  for (const auto& v : views) fn(v);  // (outside the lock: fn may ask the table again)
}

}  // namespace hvnet
