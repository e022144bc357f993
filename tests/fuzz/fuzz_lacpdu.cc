// LACPDU and Marker PDU decoding: any payload decodes or is refused; what decodes re-encodes to a
// PDU that decodes to the same fields.
#include <cstring>

#include "proto/lacpdu.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (auto pdu = hvnet::proto::decode_lacpdu(data, uint32_t(size))) {
    uint8_t out[hvnet::proto::kLacpduLen];
    hvnet::proto::encode_lacpdu(*pdu, out);
    if (!hvnet::proto::decode_lacpdu(out, sizeof out)) __builtin_trap();
  }
  (void)hvnet::proto::decode_marker(data, uint32_t(size));
  return 0;
}
