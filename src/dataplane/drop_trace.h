// DropTrace: the last frames the data plane dropped, with the port and the reason, so an operator
// can see why a given frame was refused ("hvnetctl drops"). A fixed ring written only on the drop
// path by the forwarding thread (a 64-byte copy, no allocation); read through run_on_worker.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "dataplane/dataplane_stats.h"
#include "packet/packet.h"

namespace hvnet {

class DropTrace {
 public:
  static constexpr size_t kEntries = 256;
  static constexpr size_t kHead = 64;
  struct Entry {
    uint64_t seq = 0;
    PortId port = kNoPort;
    DropReason reason = DropReason::kCount;
    uint32_t len = 0;
    std::array<uint8_t, kHead> head{};
  };

  void record(PortId port, DropReason reason, const Packet& p) noexcept {
    Entry& e = ring_[next_ % kEntries];
    e.seq = ++next_;
    e.port = port;
    e.reason = reason;
    e.len = p.len;
    std::memcpy(e.head.data(), p.data, p.len < kHead ? p.len : kHead);
  }
  // Oldest first.
  template <typename F>
  void for_each(F&& f) const {
    for (uint64_t i = next_ > kEntries ? next_ - kEntries : 0; i < next_; ++i)
      f(ring_[i % kEntries]);
  }

 private:
  std::array<Entry, kEntries> ring_{};
  uint64_t next_ = 0;
};

}  // namespace hvnet
