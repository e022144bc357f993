// parse_bounded_json: JSON text from outside the process (API bodies, the control socket,
// topology files) parsed within limits: nesting up to `max_depth` containers and at most
// `max_values` values, UTF-8 checked by the parser. Time is linear in the text and the tree built
// never deeper than the limit, so nothing later (copies, dumps) can recurse out of stack. Never
// throws: a refusal says what was wrong.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "model/result.h"

namespace hvnet {

struct JsonLimits {
  int max_depth = 64;
  size_t max_values = 100000;
};

// Error code MALFORMED_REQUEST, params[0] the reason.
Result<nlohmann::json> parse_bounded_json(std::string_view text, const JsonLimits& limits = {});

}  // namespace hvnet
