// The object model's schema: for each XenAPI class hvnet serves (host, network, PIF, VIF, VLAN,
// Bond, VM), its fields with their wire name, xe name, type and access. Generic API messages
// (get_<f>, set_<f>, add_to_<f>, get_all_records…) and the xe CLI's record layout are driven by
// these tables, so a field is declared once. Pure data: no I/O, no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hvnet::model {

enum class FieldType { kString, kInt, kBool, kRef, kRefSet, kStringSet, kStringMap };
enum class Access {
  kRO,   // maintained by the server
  kSRO,  // given at creation, read-only afterwards
  kRW,   // settable with set_<field> (and add_/remove_ for sets and maps)
};

struct FieldSpec {
  std::string wire;  // XenAPI name, e.g. "name_label"
  std::string xe;    // xe CLI name, e.g. "name-label", "network-uuid"
  FieldType type;
  Access access;
  std::string ref_class;  // for kRef/kRefSet: the class referred to
  bool derived = false;   // computed from other objects (reverse references), never stored
};

struct ClassSpec {
  std::string name;  // wire class name: "network", "PIF"
  std::string xe;    // xe prefix: "network", "pif"
  std::vector<FieldSpec> fields;
  std::vector<std::string> list_columns;  // xe names shown by <class>-list by default
  // Objects that live in the API server's memory only (tasks), never in the store.
  bool memory = false;

  const FieldSpec* field(std::string_view wire) const;
  const FieldSpec* field_by_xe(std::string_view xe) const;
  bool has_name_label() const { return field("name_label") != nullptr; }
};

// An API name as xe also accepts it: underscores as dashes (name_label -> name-label).
std::string dashed(std::string_view wire);

const std::vector<ClassSpec>& all_classes();
const ClassSpec* find_class(std::string_view wire_name);
const ClassSpec* find_class_by_xe(std::string_view xe_prefix);

}  // namespace hvnet::model
