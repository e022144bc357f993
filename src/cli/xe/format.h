// xe output: records in xe's layout ("uuid ( RO)    : …", labels right-aligned to the longest
// plus four), values as xe shows them (refs as UUIDs, sets "a; b", maps "k: v; k2: v2") and
// --minimal lists (comma-separated, with ',' and '\' escaped).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace hvnet::xe {

// A wire value as xe prints it: OpaqueRef:<uuid> as the uuid (the null ref as
// "<not in database>"), booleans true/false, sets "a; b", maps "k: v; k2: v2".
std::string display_json(const nlohmann::json& wire_value);
// One record block of (label, value) rows, labels as "name ( RO)", ending with a blank line.
std::string format_record(const std::vector<std::pair<std::string, std::string>>& rows);
std::string format_minimal(const std::vector<std::string>& values);

}  // namespace hvnet::xe
