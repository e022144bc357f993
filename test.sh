#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite (unit, unit under ASan/UBSan and
# under ThreadSanitizer, fuzzers for a bounded time each, integration) with ctest.
# Integration tests create namespaces, veths and TAPs: run as root.
set -euo pipefail
cd "$(dirname "$0")"
# Root is needed (packages, namespaces, TAPs): as root it runs as it is, otherwise through sudo.
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "$0: run as root (sudo is not installed)" >&2; exit 1; }
  exec sudo -E bash "$(pwd)/$(basename "$0")" "$@"
fi
bash tools/install-deps.sh
bash tools/build.sh
# The unit suite again under ASan + UBSan and under ThreadSanitizer, and every parser's fuzzer
# for a bounded time.
bash tools/build-sanitized.sh
bash tools/build-tsan.sh
cmake -S . -B build -DHVNET_SANITIZED_DIR="$PWD/build-san" -DHVNET_TSAN_DIR="$PWD/build-tsan" \
  >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
cd build
ctest --output-on-failure --timeout 300 "$@"
