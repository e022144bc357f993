// Record helpers: default records per class (every stored field present with its zero value),
// derived fields (reverse references such as network.PIFs) and type checks for incoming values.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "model/database.h"
#include "model/result.h"
#include "model/schema.h"

namespace hvnet::model {

json default_record(const ClassSpec& cls);
// A network's security policy for its VIFs, as vSphere's port groups have it, and its defaults
// (what a network created before these fields also has): each field is "reject" or "accept".
inline constexpr std::pair<const char*, const char*> kSecurityPolicyDefaults[] = {
    {"promiscuous_mode", "reject"}, {"MAC_changes", "accept"}, {"forged_transmits", "accept"}};
// Whether the network's policy `field` rejects.
bool policy_rejects(const json& network, const char* field);
// A network record with the defaults every new network has (MTU 1500, managed, unlocked).
json new_network_record();
// XenAPI enums are matched case-insensitively: the datamodel's spelling of `value`, or nullopt.
std::optional<std::string> match_enum(const std::string& value,
                                      std::initializer_list<const char*> spellings);
// A PIF record with the fields every new PIF has (managed, no IP configuration, IPv4 primary).
json new_pif_record(const json& device, const json& mac, const json& mtu, int64_t vlan,
                    bool physical, const std::string& network, const std::string& host);
// The uuid of a PIF's metrics object (PIF_metrics), derived from the PIF's.
std::string pif_metrics_uuid(const std::string& pif);
// A MAC in Xen's range for guests and virtual PIFs, 00:16:3e:00:00:00-7f:ff:ff, at random.
std::string random_xen_mac();
// A string field of a record ("" when absent or not a string).
std::string string_field(const json& rec, const char* field);
// The record with derived fields filled in from the other objects in `t`.
json full_record(const Txn& t, const std::string& uuid);
// The record a <class>.create(record) starts from: the class's defaults with the fields the
// caller may give (not derived, not server-maintained) coerced; unknown fields are ignored.
Result<json> creation_record(const ClassSpec& cls, const json& record);
// Checks that `v` has the shape `f` needs (string, int as number or numeric string, bool, set,
// map of strings) and returns it normalised; FIELD_TYPE_ERROR [field] otherwise.
Result<json> coerce(const FieldSpec& f, const json& v);

}  // namespace hvnet::model
