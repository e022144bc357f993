// EtcdStore: the object model in etcd, for a pool (every host reads and writes the same keys).
// Layout under a prefix (default "/hvnet/pool/"):
//   obj/<uuid>   {"cls": …, "rec": {…}}  an object; its revision is the key's mod_revision
//   tomb/<uuid>  {"cls": …, "rec": {…}}  a deleted object's last record (for changes_since)
//   floor        the oldest generation changes_since still answers from (tombstones pruned)
// The generation is etcd's revision: a commit is one etcd transaction, so it is one revision
// (other keys in the same etcd may move it further: generations grow, not always by one). The
// transaction compares the mod_revision of every object the write read or changes with what it
// saw; if another host changed one, nothing is written and the commit fails with STORE_CONFLICT
// (the Manager re-runs the operation on fresh objects). When etcd cannot be reached commits and
// reads fail with ETCD_UNAVAILABLE. Not thread-safe (the Manager serialises its store calls).
#pragma once

#include <memory>
#include <string>

#include "store/etcd_client.h"
#include "store/store.h"

namespace hvnet::store {

class EtcdStore final : public Store {
 public:
  // Tombstones older than this many generations are pruned (events before them: resync).
  static constexpr uint64_t kTombstoneGenerations = 100000;

  explicit EtcdStore(std::vector<EtcdEndpoint> endpoints, std::string prefix = "/hvnet/pool/");
  Status load(model::Database& db) override;
  Result<Commit> commit(const model::Txn::Changes& changes, const Revisions& read) override;
  Result<std::optional<std::vector<Change>>> changes_since(uint64_t since) override;
  uint64_t generation() const override { return generation_; }
  bool shared() const override { return true; }

 private:
  std::string key(const char* kind, const std::string& uuid) const;
  Status prune();
  EtcdClient etcd_;
  std::string prefix_;
  uint64_t generation_ = 0;
  uint64_t commits_ = 0;
};

}  // namespace hvnet::store
