// Subjects: who besides root may use the API, and with which roles (xapi's subject class).
#include <algorithm>

#include "model/ops.h"
#include "model/records.h"
#include "model/schema.h"

namespace hvnet::model {

Result<std::string> subject_create(Txn& t, const std::string& identifier,
                                   const json& other_config) {
  if (!t.where("subject", "subject_identifier", identifier).empty())
    return make_error("SUBJECT_ALREADY_EXISTS", {});
  const ClassSpec& cls = *find_class("subject");
  json r = default_record(cls);
  r["subject_identifier"] = identifier;
  auto oc = coerce(*cls.field("other_config"), other_config);
  if (!oc) return oc.error();
  r["other_config"] = oc.value();
  r["roles"] = json::array();
  std::string uuid = new_uuid();
  t.put(uuid, Object{"subject", r});
  return uuid;
}

Status subject_add_role(Txn& t, const std::string& subject, const std::string& role) {
  json rec = t.get(subject)->rec;
  json& roles = rec["roles"];
  if (std::find(roles.begin(), roles.end(), role) != roles.end())
    return make_error("ROLE_ALREADY_EXISTS", {});
  roles.push_back(role);
  t.put(subject, Object{"subject", rec});
  return ok_status();
}

Status subject_remove_role(Txn& t, const std::string& subject, const std::string& role) {
  json rec = t.get(subject)->rec;
  json kept = json::array();
  for (const auto& r : rec["roles"])
    if (r != role) kept.push_back(r);
  if (kept.size() == rec["roles"].size()) return make_error("ROLE_NOT_FOUND", {});
  rec["roles"] = kept;
  t.put(subject, Object{"subject", rec});
  return ok_status();
}

std::vector<std::string> subjects_of(const Txn& t, const std::vector<std::string>& identifiers) {
  std::vector<std::string> out;
  for (const auto& id : identifiers)
    for (const auto& s : t.where("subject", "subject_identifier", id)) out.push_back(s);
  return out;
}

}  // namespace hvnet::model
