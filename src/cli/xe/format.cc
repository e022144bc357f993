#include "cli/xe/format.h"

namespace hvnet::xe {

using json = nlohmann::json;
using model::FieldType;

namespace {
std::string uuid_of_ref(const json& ref) {
  std::string s = ref.is_string() ? ref.get<std::string>() : "";
  if (s.empty() || s == "OpaqueRef:NULL") return "<not in database>";
  const std::string prefix = "OpaqueRef:";
  return s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : s;
}
}  // namespace

std::string display_value(const model::FieldSpec& f, const json& v) {
  std::string out;
  switch (f.type) {
    case FieldType::kString:
      return v.is_string() ? v.get<std::string>() : v.dump();
    case FieldType::kInt:
      return v.is_string() ? v.get<std::string>() : v.dump();
    case FieldType::kBool:
      return v.is_boolean() ? (v.get<bool>() ? "true" : "false") : v.dump();
    case FieldType::kRef:
      return uuid_of_ref(v);
    case FieldType::kRefSet:
    case FieldType::kStringSet:
      for (const auto& e : v) {
        if (!out.empty()) out += "; ";
        out += f.type == FieldType::kRefSet ? uuid_of_ref(e) : e.get<std::string>();
      }
      return out;
    case FieldType::kStringMap:
      for (const auto& [k, e] : v.items()) {
        if (!out.empty()) out += "; ";
        out += k + ": " + (e.is_string() ? e.get<std::string>() : e.dump());
      }
      return out;
  }
  return out;
}

std::string access_label(const model::FieldSpec& f) {
  const bool rw = f.access == model::Access::kRW;
  switch (f.type) {
    case FieldType::kRefSet:
    case FieldType::kStringSet:
      return rw ? "(SRW)" : "(SRO)";
    case FieldType::kStringMap:
      return rw ? "(MRW)" : "(MRO)";
    default:
      return rw ? "( RW)" : "( RO)";
  }
}

std::string format_record(const model::ClassSpec&, const json& rec,
                          const std::vector<const model::FieldSpec*>& fields) {
  std::vector<std::string> labels;
  size_t width = 0;
  for (const auto* f : fields) {
    labels.push_back(f->xe + " " + access_label(*f));
    width = std::max(width, labels.back().size());
  }
  width += 4;
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& l = labels[i];
    std::string pad(width - l.size(), ' ');
    out += (i == 0 ? l + pad : pad + l) + ": ";
    auto it = rec.find(fields[i]->wire);
    out += it == rec.end() ? "" : display_value(*fields[i], *it);
    out += "\n";
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
