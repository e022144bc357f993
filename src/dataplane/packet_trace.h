// Packet trace: what the switch would do with one frame received on one port, stage by stage, as
// Open vSwitch's ofproto/trace tells it, from a live snapshot and MAC table. Read-only: nothing is
// learned, counted, sent or recorded in the drop ring.
//
// It composes the very stage functions Pipeline::process uses (ingress_classify, the locking
// rules, the MAC table's lookup, vlan_egress) in the same order, and takes the same decisions on
// hairpins, isolated ports, promiscuous copies and floods; packet_trace_test.cc runs frames through
// both and checks they agree. Control-plane code: it allocates and may take its time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dataplane/dataplane_stats.h"
#include "dataplane/mac_table.h"
#include "dataplane/snapshot.h"
#include "packet/packet.h"

namespace hvnet {

struct TraceStep {
  std::string stage;  // ingress, qos, locking, bond-filter, learn, lookup, output, verdict
  std::string detail;
};

struct TraceOutput {
  PortId port = kNoPort;
  std::string name;    // the port's name
  std::string vlan;    // what egress does to the tag: "untagged", "push 10", "pop", "keep 10"…
  std::string member;  // a bond's member the frame would leave by ("" if not a bond)
};

struct TraceResult {
  std::vector<TraceStep> steps;
  std::optional<DropReason> dropped;  // the reason, when the frame goes nowhere
  std::string verdict;                // "forward", "flood" or "drop"
  std::vector<TraceOutput> outputs;
};

// `p` must hold the frame (data, len); its ingress fields are filled in as the pipeline would.
TraceResult trace_packet(const Snapshot& s, const MacTable& fdb, PortId in, Packet& p,
                         uint32_t now_s);

}  // namespace hvnet
