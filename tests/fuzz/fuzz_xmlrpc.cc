// XML-RPC decoding (API edge): any bytes decode or are refused, within the limits; what decodes
// re-encodes.
#include "api/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto call = hvnet::api::decode_xmlrpc(std::string(reinterpret_cast<const char*>(data), size));
  if (call) (void)hvnet::api::encode_xmlrpc(hvnet::Result<nlohmann::json>(call->params));
  return 0;
}
