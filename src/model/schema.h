// The object model's schema: for each XenAPI class hvnet serves (host, network, PIF, VIF, VLAN,
// Bond, tunnel, VM, subject, role), its fields with their wire name, xe name, type, access and the
// role that may write them (xapi's datamodel; tests/integration/test_rbac.py holds them to it).
// Generic API messages (get_<f>, set_<f>, add_to_<f>, get_all_records…) and the xe CLI's record
// layout are driven by these tables, so a field is declared once. Pure data: no I/O, no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/roles.h"

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
  // Who may write it (set_, add_to_/remove_from_, add_/remove_): this role, else the class's.
  std::optional<Role> writer;
  // Map keys a less privileged role may write ("folder"; a trailing '*' matches a prefix).
  std::vector<std::pair<std::string, Role>> key_writers;
};

struct ClassSpec {
  std::string name;  // wire class name: "network", "PIF"
  std::string xe;    // xe prefix: "network", "pif"
  std::vector<FieldSpec> fields;
  std::vector<std::string> list_columns;  // xe names shown by <class>-list by default
  // Objects that live in the API server's memory only (tasks), never in the store.
  bool memory = false;
  // The role its messages (create, destroy, actions) and fields need unless they say otherwise:
  // xapi's messages_default_allowed_roles for the class.
  Role writers = Role::kPoolAdmin;

  const FieldSpec* field(std::string_view wire) const;
  const FieldSpec* field_by_xe(std::string_view xe) const;
  bool has_name_label() const { return field("name_label") != nullptr; }
  Role writer_of(const FieldSpec& f) const { return f.writer.value_or(writers); }
};

// An API name as xe also accepts it: underscores as dashes (name_label -> name-label).
std::string dashed(std::string_view wire);

const std::vector<ClassSpec>& all_classes();
const ClassSpec* find_class(std::string_view wire_name);
const ClassSpec* find_class_by_xe(std::string_view xe_prefix);

}  // namespace hvnet::model
