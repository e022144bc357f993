// PacketBatch: up to kBatchSize packet pointers moved through the pipeline together.
// Holds no ownership: whoever fills a batch must return every packet to its pool.
#pragma once

#include <array>
#include <cstdint>

#include "packet/packet.h"

namespace hvnet {

inline constexpr uint32_t kBatchSize = 32;

struct PacketBatch {
  std::array<Packet*, kBatchSize> pkts{};
  uint32_t count = 0;
  uint32_t limit = kBatchSize;  // receivers stop here (a rate-limited port reads fewer)

  bool full() const noexcept { return count >= limit; }
  uint32_t room() const noexcept { return count >= limit ? 0 : limit - count; }
  void push(Packet* p) noexcept { pkts[count++] = p; }
  void clear() noexcept { count = 0; }
  Packet* operator[](uint32_t i) const noexcept { return pkts[i]; }
};

}  // namespace hvnet
