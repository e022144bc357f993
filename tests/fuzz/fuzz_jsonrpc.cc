// JSON-RPC decoding (API edge): any bytes decode or are refused; what decodes re-encodes.
#include "api/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto call = hvnet::api::decode_jsonrpc(std::string(reinterpret_cast<const char*>(data), size));
  if (call) (void)hvnet::api::encode_jsonrpc(*call, hvnet::Result<nlohmann::json>(call->params));
  return 0;
}
