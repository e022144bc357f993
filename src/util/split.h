// The items of a comma-separated list as written ("a,b" -> {"a", "b"}, "a," -> {"a", ""});
// an empty string has none. Shared by the model's list fields (DNS, failover_order) and their
// readers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hvnet {

inline std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  for (size_t from = 0;;) {
    const size_t c = s.find(',', from);
    out.emplace_back(s.substr(from, c == std::string_view::npos ? c : c - from));
    if (c == std::string_view::npos) return out;
    from = c + 1;
  }
}

}  // namespace hvnet
