#include "cli/xe/format.h"

namespace hvnet::xe {

using json = nlohmann::json;

std::string display_json(const json& v) {
  std::string out;
  switch (v.type()) {
    case json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      if (s == "OpaqueRef:NULL") return "<not in database>";
      return s.rfind("OpaqueRef:", 0) == 0 ? s.substr(10) : s;
    }
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::array:
      for (const auto& e : v) out += (out.empty() ? "" : "; ") + display_json(e);
      return out;
    case json::value_t::object:
      for (const auto& [k, e] : v.items())
        out += (out.empty() ? "" : "; ") + k + ": " + display_json(e);
      return out;
    case json::value_t::null:
      return "";
    default:
      return v.dump();
  }
}

std::string format_record(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& [label, value] : rows) width = std::max(width, label.size());
  width += 4;
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& l = rows[i].first;
    std::string pad(width - l.size(), ' ');
    out += (i == 0 ? l + pad : pad + l) + ": " + rows[i].second + "\n";
  }
  return out + "\n";
}

std::string format_minimal(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    for (char c : values[i]) {
      if (c == ',' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out;
}

}  // namespace hvnet::xe
