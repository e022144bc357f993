// Pipeline: forwards one received batch through the L2 stages: ingress (parse, VLAN, MTU), MAC
// learning, lookup or flood, VLAN rewrite on egress, and batched transmit. Every packet is either
// queued for transmit or dropped with a DropReason; all packets go back to the pool at the end.
// Single-threaded: one Pipeline per forwarding thread, with its own MacTable.
#pragma once

#include <vector>

#include "dataplane/dataplane_stats.h"
#include "dataplane/drop_trace.h"
#include "dataplane/mac_table.h"
#include "dataplane/snapshot.h"
#include "dataplane/tx_queues.h"
#include "packet/packet_batch.h"
#include "packet/packet_pool.h"

namespace hvnet {

class Pipeline {
 public:
  Pipeline(MacTable& fdb, DataplaneStats& stats, DropTrace& trace)
      : fdb_(fdb), stats_(stats), trace_(trace) {}

  // Called whenever the worker adopts a new snapshot (sizes per-port state; may allocate).
  void configure(const Snapshot& s);
  // Forwards `batch`, received on `in`, then frees its packets into `pool`. `now_s` drives ageing.
  void process(const Snapshot& s, PortId in, PacketBatch& batch, PacketPool& pool,
               uint32_t now_s) noexcept;

 private:
  // Queues `it` on `port`, and its copy for each session mirroring what that port is sent.
  void emit(const Snapshot& s, PortId port, const TxItem& it) noexcept;
  // Queues copies of `p` (leaving as `it` would, or as received) for each of `taps`.
  void mirror(const Snapshot& s, const std::vector<MirrorOut>& taps, const Packet& p,
              const TxItem& it) noexcept;
  void drop(PortId in, DropReason r, const Packet& p) noexcept {
    stats_.drop(r);
    trace_.record(in, r, p);
  }
  // Mirror copies counted during a batch, added to their sessions once at its end.
  struct MirrorCount {
    MirrorCounters* session;
    uint64_t packets, bytes;
  };
  std::vector<MirrorCount> mirror_counts_;
  MacTable& fdb_;
  DataplaneStats& stats_;
  DropTrace& trace_;
  TxQueues tx_;
};

}  // namespace hvnet
