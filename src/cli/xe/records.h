// xe's record layouts: for each class, the fields `xe <class>-list params=all` and
// `<class>-param-list` print, in XenServer's order with its labels (xapi's records.ml; the test
// tests/integration/test_records.py holds them to the list tools/xapi-records.py extracts). A field
// shows an API field of the object, or of the object one of its references names (vm-name-label),
// or a rate from a data source (io_read_kbs). Pure data plus lookups.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hvnet::xe {

// The label after a field's name: plain, set or map; read-only or settable through xe.
enum class Label { kRO, kRW, kSRO, kSRW, kMRO, kMRW };
const char* label_text(Label l);  // "( RO)", "(SRW)"…
bool settable(Label l);

// How a value is printed beyond xe's defaults (refs as uuids, sets "a; b", maps "k: v; …").
enum class Show {
  kValue,
  kMapValues,  // a map shown as the set of its values (current-operations)
  kMbits,      // "<n> Mbit/s"
  kDuplex,     // full | half | unknown (with the carrier of the same record)
  kKbs,        // a data source in bytes/s shown in KiB/s
  kRefNames,   // a set of references shown as the name_label of each (of class via_class)
  kCall,       // the answer of <cls>.<data_source>(this object), cls being the record's class
};

struct XeField {
  std::string name;
  Label label;
  std::string wire;       // the API field shown: of this object, or of `via`'s object
  std::string via;        // "" or a reference field of this object (VM, network, host, metrics)
  std::string via_class;  // the class `via` refers to
  Show show = Show::kValue;
  std::string data_source;  // kKbs: the name, with {device} replaced by this object's device;
                            // kCall: the message
  bool hidden = false;      // left out of params=all and param-list; param-get/-set still work
};

struct XeRecord {
  std::string cls;  // API class
  std::string xe;   // xe prefix
  std::vector<XeField> fields;
  std::vector<std::string> list_columns;  // <class>-list without params=
  const XeField* field(std::string_view name) const;
};

const std::vector<XeRecord>& xe_records();
const XeRecord* xe_record(std::string_view xe_prefix);

}  // namespace hvnet::xe
