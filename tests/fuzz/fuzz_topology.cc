// Topology files (static mode, `hvnetctl apply`): bounded JSON, then parse_topology. A file that
// parses must validate and re-serialise to the same topology.
#include "control/topology.h"
#include "util/bounded_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = hvnet::parse_bounded_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!j) return 0;
  auto spec = hvnet::parse_topology(j.value());
  if (!spec) return 0;
  auto again = hvnet::parse_topology(hvnet::topology_to_json(spec.value()));
  if (!again) __builtin_trap();
  return 0;
}
