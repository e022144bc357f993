// xe output: records in xe's layout ("uuid ( RO)    : …", labels right-aligned to the longest
// plus four), values as xe shows them (refs as UUIDs, sets "a; b", maps "k: v; k2: v2") and
// --minimal lists (comma-separated, with ',' and '\' escaped).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "model/schema.h"

namespace hvnet::xe {

std::string display_value(const model::FieldSpec& f, const nlohmann::json& wire_value);
std::string access_label(const model::FieldSpec& f);
// One record block for the given fields (in order), ending with a blank line.
std::string format_record(const model::ClassSpec& cls, const nlohmann::json& wire_record,
                          const std::vector<const model::FieldSpec*>& fields);
std::string format_minimal(const std::vector<std::string>& values);

}  // namespace hvnet::xe
