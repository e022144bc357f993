// PacketPool: a fixed set of Packets and their buffers, allocated once at start-up.
// Single-threaded by design: each forwarding thread owns its pool; alloc/free never lock and never
// touch the heap. Buffers are one anonymous mapping, so pages cost memory only once touched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "packet/packet.h"

namespace hvnet {

class PacketPool {
 public:
  explicit PacketPool(uint32_t count);
  ~PacketPool();
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  // Takes up to n packets; returns how many were available. Each comes back reset().
  uint32_t alloc(Packet** out, uint32_t n) noexcept {
    uint32_t got = n < free_count_ ? n : free_count_;
    for (uint32_t i = 0; i < got; ++i) {
      Packet* p = free_[--free_count_];
      p->reset();
      out[i] = p;
    }
    return got;
  }
  Packet* alloc_one() noexcept {
    Packet* p = nullptr;
    alloc(&p, 1);
    return p;
  }
  void free(Packet* p) noexcept { free_[free_count_++] = p; }
  void free(Packet* const* ps, uint32_t n) noexcept {
    for (uint32_t i = 0; i < n; ++i) free_[free_count_++] = ps[i];
  }
  uint32_t available() const noexcept { return free_count_; }
  uint32_t capacity() const noexcept { return uint32_t(packets_.size()); }

 private:
  std::vector<Packet> packets_;
  std::vector<Packet*> free_;
  uint32_t free_count_ = 0;
  uint8_t* region_ = nullptr;
  size_t region_size_ = 0;
};

}  // namespace hvnet
