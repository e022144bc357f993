// A database file name of its own for one test (process id and a fresh uuid in it), removed with
// its WAL files when the test ends. Declare it before the store that opens it.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "model/database.h"

namespace hvnet::test {

struct TempDb {
  explicit TempDb(const std::string& what)
      : path((std::filesystem::temp_directory_path() /
              ("hvnet-" + what + "-test-" + std::to_string(getpid()) + "-" + model::new_uuid() +
               ".db"))
                 .string()) {}
  ~TempDb() {
    for (auto s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  const std::string path;
};

}  // namespace hvnet::test
