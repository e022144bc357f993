#!/usr/bin/env bash
# Builds the thread-sanitized tree ./build-tsan with clang-14: the unit tests under
# ThreadSanitizer (ctest runs them as tsan.unit_tests when test.sh passes the tree).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVNET_TSAN=ON \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
cmake --build build-tsan -j "$(nproc)" --target unit_tests
