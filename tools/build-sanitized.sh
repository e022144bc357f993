#!/usr/bin/env bash
# Builds the sanitized tree ./build-san with clang-14: the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, and the libFuzzer targets of tests/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVNET_SANITIZE=ON \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
targets=(unit_tests)
for f in tests/fuzz/fuzz_*.cc; do targets+=("$(basename "$f" .cc)"); done
cmake --build build-san -j "$(nproc)" --target "${targets[@]}"
