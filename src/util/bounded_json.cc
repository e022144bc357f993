#include "util/bounded_json.h"

namespace hvnet {

using json = nlohmann::json;

Result<json> parse_bounded_json(std::string_view text, const JsonLimits& limits) {
  // The parser itself is iterative; the callback keeps the tree it builds within the limits (a
  // value past them is discarded, never stored) and remembers why.
  std::string refused;
  size_t values = 0;
  auto check = [&](int depth, json::parse_event_t ev, json&) {
    if (!refused.empty()) return false;
    if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) &&
        depth >= limits.max_depth) {
      refused = "nesting deeper than " + std::to_string(limits.max_depth) + " levels";
      return false;
    }
    if (ev == json::parse_event_t::value && ++values > limits.max_values) {
      refused = "more than " + std::to_string(limits.max_values) + " values";
      return false;
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/false);
  if (!refused.empty()) return make_error("MALFORMED_REQUEST", {refused});
  if (j.is_discarded()) return make_error("MALFORMED_REQUEST", {"not JSON (or not UTF-8)"});
  return j;
}

}  // namespace hvnet
