// The xl vif specification (xl-network-configuration(5)): one list element
// ("mac=00:16:3e:00:00:11, bridge=xenbr0") or a whole line of a domain configuration
// (vif = [ '...', '...' ]), parsed into what hvnet makes of each VIF. Keys: mac, bridge, ip (one
// or more IPv4 addresses, space-separated), script (vif-bridge, vif-route or vif-nat, also as a
// path), vifname, rate (RATE[@INTERVAL]: 10Mb/s, 1MB/s@20ms; K, M, G are powers of 1000, b is a
// bit; the interval, 50ms by default, in s, ms or us), and model / type, which only a device
// model reads (accepted, checked, not used). Anything else is refused with INVALID_VALUE [what,
// text]; bad MACs with MAC_INVALID. Bounded: at most 4096 bytes of UTF-8 and 16 VIFs. Pure: no
// I/O, unit-tested and fuzzed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.h"

namespace hvnet::model {

inline constexpr size_t kXlVifMaxText = 4096;
inline constexpr size_t kXlVifMaxVifs = 16;

struct XlVif {
  std::string mac;                // "" = a random 00:16:3e MAC
  std::string bridge;             // "" = chosen by script (else xenbr0)
  std::vector<std::string> ips;   // IPv4 addresses
  std::string script;             // "bridge", "route", "nat" or "" (what vif-<script> does)
  std::string vifname;            // host-side device name ("" = vif<domid>.<device>)
  uint64_t rate_kbps = 0;         // kilobytes/s (XenServer's kbps), 0 = none
  uint64_t rate_interval_us = 0;  // the token bucket's refill interval (timeslice_us)
  std::string model, type;
  bool operator==(const XlVif&) const = default;
};

Result<std::vector<XlVif>> parse_xl_vifs(std::string_view text);

// The rate alone ("10Mb/s@20ms"): {kilobytes/s, interval in us}.
Result<std::pair<uint64_t, uint64_t>> parse_xl_rate(std::string_view rate);

}  // namespace hvnet::model
