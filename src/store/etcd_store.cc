#include "store/etcd_store.h"

#include <algorithm>
#include <set>

namespace hvnet::store {

using json = nlohmann::json;
using E = EtcdClient;

EtcdStore::EtcdStore(std::vector<EtcdEndpoint> endpoints, std::string prefix)
    : etcd_(std::move(endpoints)), prefix_(std::move(prefix)) {}

std::string EtcdStore::key(const char* kind, const std::string& uuid) const {
  return prefix_ + kind + "/" + uuid;
}

namespace {

Result<json> decode_value(const json& kv) {
  auto v = json::parse(E::unb64(kv.value("value", "")), nullptr, false);
  if (!v.is_object() || !v.contains("cls") || !v["cls"].is_string() || !v.contains("rec"))
    return make_error("INTERNAL_ERROR", {"etcd: corrupt object " + E::unb64(kv.value("key", ""))});
  return v;
}

std::string uuid_of_key(const json& kv) {
  std::string k = E::unb64(kv.value("key", ""));
  return k.substr(k.rfind('/') + 1);
}

}  // namespace

Status EtcdStore::load(model::Database& db) {
  const std::string start = prefix_ + "obj/";
  auto r = etcd_.call("kv/range", {{"key", E::b64(start)}, {"range_end", E::prefix_end(start)}});
  if (!r) return r.error();
  for (const auto& kv : r.value().value("kvs", json::array())) {
    auto v = decode_value(kv);
    if (!v) return v.error();
    db.put(uuid_of_key(kv),
           model::Object{v.value()["cls"], v.value()["rec"], E::u64(kv, "mod_revision")});
  }
  generation_ = E::u64(r.value()["header"], "revision");
  db.set_generation(generation_);
  return ok_status();
}

Result<Commit> EtcdStore::commit(const model::Txn::Changes& changes, const Revisions& read) {
  // What the objects the write deletes, or replaces without having read them, are now (one
  // read; none in the common case, where a write read what it changes). Records replaced by
  // puts come back from the transaction itself (prev_kv).
  json reads = json::array();
  std::vector<std::string> uuids, pre_read;
  for (const auto& [uuid, o] : changes) {
    uuids.push_back(uuid);
    if (!o || !read.count(uuid)) {
      pre_read.push_back(uuid);
      reads.push_back({{"request_range", {{"key", E::b64(key("obj", uuid))}}}});
    }
  }
  std::map<std::string, std::pair<uint64_t, json>> current;  // uuid -> (mod_revision, value)
  if (!pre_read.empty()) {
    auto now = etcd_.call("kv/txn", {{"success", reads}});
    if (!now) return now.error();
    const json& responses = now.value().value("responses", json::array());
    for (size_t i = 0; i < pre_read.size() && i < responses.size(); ++i) {
      const json& kvs = responses[i]["response_range"].value("kvs", json::array());
      if (kvs.empty()) continue;
      auto v = decode_value(kvs[0]);
      if (!v) return v.error();
      current[pre_read[i]] = {E::u64(kvs[0], "mod_revision"), v.value()};
    }
  }
  // The write applies only if nothing it read or replaces changed since.
  json compare = json::array();
  auto expect = [&](const std::string& uuid, uint64_t rev) {
    if (rev == 0)
      compare.push_back({{"key", E::b64(key("obj", uuid))},
                         {"target", "CREATE"},
                         {"result", "EQUAL"},
                         {"create_revision", "0"}});
    else
      compare.push_back({{"key", E::b64(key("obj", uuid))},
                         {"target", "MOD"},
                         {"result", "EQUAL"},
                         {"mod_revision", std::to_string(rev)}});
  };
  std::set<std::string> compared;
  for (const auto& [uuid, rev] : read) {
    if (auto it = current.find(uuid); it != current.end() && it->second.first != rev)
      return make_error(kStoreConflict, {uuid});  // already known to have moved
    expect(uuid, rev);
    compared.insert(uuid);
  }
  for (const auto& uuid : pre_read)
    if (!compared.count(uuid)) {
      auto it = current.find(uuid);
      expect(uuid, it == current.end() ? 0 : it->second.first);
    }
  json ops = json::array();
  Commit out;
  std::vector<std::pair<size_t, size_t>> put_at;  // (index in out.changes, index in ops)
  for (const auto& [uuid, o] : changes) {
    auto it = current.find(uuid);
    const json before = it == current.end() ? json(nullptr) : it->second.second["rec"];
    if (o) {
      json v = {{"cls", o->cls}, {"rec", o->rec}};
      put_at.emplace_back(out.changes.size(), ops.size());
      ops.push_back({{"request_put",
                      {{"key", E::b64(key("obj", uuid))},
                       {"value", E::b64(v.dump())},
                       {"prev_kv", true}}}});
      ops.push_back({{"request_delete_range", {{"key", E::b64(key("tomb", uuid))}}}});
      out.changes.push_back(Change{o->cls, uuid, Op::kAdd, o->rec, nullptr});
    } else if (it != current.end()) {
      const std::string cls = it->second.second["cls"];
      json tomb = {{"cls", cls}, {"rec", before}};
      ops.push_back({{"request_delete_range", {{"key", E::b64(key("obj", uuid))}}}});
      ops.push_back(
          {{"request_put", {{"key", E::b64(key("tomb", uuid))}, {"value", E::b64(tomb.dump())}}}});
      out.changes.push_back(Change{cls, uuid, Op::kDel, nullptr, before});
    }
  }
  if (ops.empty()) {
    out.generation = generation_;
    return out;
  }
  auto r = etcd_.call("kv/txn", {{"compare", compare}, {"success", ops}});
  if (!r) return r.error();
  if (!r.value().value("succeeded", false))
    return make_error(kStoreConflict, {read.empty() ? uuids.front() : read.begin()->first});
  // What each put replaced: a modification of that record, or an addition.
  const json& responses = r.value().value("responses", json::array());
  for (auto [change, op] : put_at) {
    if (op >= responses.size()) continue;
    const json prev = responses[op].value("response_put", json::object()).value("prev_kv", json());
    if (!prev.is_object()) continue;
    auto v = decode_value(prev);
    if (!v) continue;
    out.changes[change].op = Op::kMod;
    out.changes[change].before = v.value()["rec"];
  }
  generation_ = E::u64(r.value()["header"], "revision");
  out.generation = generation_;
  if (++commits_ % 1000 == 0) (void)prune();  // best effort: the next prune retries
  return out;
}

Status EtcdStore::prune() {
  if (generation_ <= kTombstoneGenerations) return ok_status();
  const uint64_t floor = generation_ - kTombstoneGenerations;
  const std::string start = prefix_ + "tomb/";
  auto old = etcd_.call("kv/range", {{"key", E::b64(start)},
                                     {"range_end", E::prefix_end(start)},
                                     {"keys_only", true},
                                     {"max_mod_revision", std::to_string(floor)}});
  if (!old) return old.error();
  json ops = json::array();
  ops.push_back({{"request_put",
                  {{"key", E::b64(prefix_ + "floor")}, {"value", E::b64(std::to_string(floor))}}}});
  for (const auto& kv : old.value().value("kvs", json::array()))
    ops.push_back({{"request_delete_range", {{"key", kv["key"]}}}});
  auto r = etcd_.call("kv/txn", {{"success", ops}});
  if (!r) return r.error();
  return ok_status();
}

Result<std::optional<std::vector<Change>>> EtcdStore::changes_since(uint64_t since) {
  auto fl = etcd_.call("kv/range", {{"key", E::b64(prefix_ + "floor")}});
  if (!fl) return fl.error();
  const auto& fkvs = fl.value().value("kvs", json::array());
  const uint64_t now = E::u64(fl.value()["header"], "revision");
  if (since > now) return std::optional<std::vector<Change>>();  // another history
  if (!fkvs.empty() && since < std::stoull("0" + E::unb64(fkvs[0].value("value", ""))))
    return std::optional<std::vector<Change>>();
  std::vector<std::pair<uint64_t, Change>> found;
  for (const char* kind : {"obj", "tomb"}) {
    const std::string start = prefix_ + kind + "/";
    auto r = etcd_.call("kv/range", {{"key", E::b64(start)},
                                     {"range_end", E::prefix_end(start)},
                                     {"revision", std::to_string(now)},
                                     {"min_mod_revision", std::to_string(since + 1)}});
    if (!r) return r.error();
    for (const auto& kv : r.value().value("kvs", json::array())) {
      auto v = decode_value(kv);
      if (!v) return v.error();
      const uint64_t mod = E::u64(kv, "mod_revision");
      if (std::string(kind) == "obj")
        found.emplace_back(mod, Change{v.value()["cls"], uuid_of_key(kv),
                                       E::u64(kv, "create_revision") > since ? Op::kAdd : Op::kMod,
                                       v.value()["rec"]});
      else
        found.emplace_back(
            mod, Change{v.value()["cls"], uuid_of_key(kv), Op::kDel, nullptr, v.value()["rec"]});
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Change> out;
  for (auto& [rev, c] : found) {
    c.revision = rev;
    out.push_back(std::move(c));
  }
  return std::optional<std::vector<Change>>(std::move(out));
}

}  // namespace hvnet::store
