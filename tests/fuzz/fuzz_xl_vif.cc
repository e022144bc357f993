// xl vif specifications (VIF.create_from_xl_spec): any text either parses within the limits or
// is refused with an error; a list element means the same alone and inside `vif = [ '...' ]`.
#include <string>

#include "model/xl_vif.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto r = hvnet::model::parse_xl_vifs(text);
  if (!r) {
    if (r.error().code.empty() || r.error().params.empty()) __builtin_trap();
    return 0;
  }
  if (r.value().empty() || r.value().size() > hvnet::model::kXlVifMaxVifs) __builtin_trap();
  for (const auto& v : r.value())
    if ((v.rate_kbps == 0) != (v.rate_interval_us == 0) || v.vifname.size() > 15 ||
        v.bridge.size() > 15)
      __builtin_trap();
  if (text.find_first_of("'\"") == std::string::npos && text.find("vif") == std::string::npos &&
      text.size() < hvnet::model::kXlVifMaxText - 16) {
    auto listed = hvnet::model::parse_xl_vifs("vif = [ '" + text + "' ]");
    if (!listed || !(listed.value() == r.value())) __builtin_trap();
  }
  return 0;
}
