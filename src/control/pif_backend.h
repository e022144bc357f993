// The PIF backends an operator may ask for (hvnetd --pif-backend), with their one spelling.
#pragma once

#include <cstdint>

namespace hvnet {

// kAuto: per device, the fastest path its driver allows (see pif_choice.h). kXdp: AF_XDP native
// (zero-copy where offered), then generic, failing if neither attaches. kXdpNative/kXdpGeneric:
// that mode or nothing. All but kAfPacket put a PIF whose MTU does not fit one AF_XDP chunk (jumbo
// frames) on AF_PACKET.
enum class PifBackend : uint8_t { kAuto, kXdp, kXdpNative, kXdpGeneric, kAfPacket };
inline constexpr PifBackend kPifBackends[] = {PifBackend::kAuto, PifBackend::kXdp,
                                              PifBackend::kXdpNative, PifBackend::kXdpGeneric,
                                              PifBackend::kAfPacket};
constexpr const char* pif_backend_name(PifBackend b) {
  switch (b) {
    case PifBackend::kAuto:
      return "auto";
    case PifBackend::kXdp:
      return "af_xdp";
    case PifBackend::kXdpNative:
      return "af_xdp-native";
    case PifBackend::kXdpGeneric:
      return "af_xdp-generic";
    case PifBackend::kAfPacket:
      return "af_packet";
  }
  return "?";
}

}  // namespace hvnet
