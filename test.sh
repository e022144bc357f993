#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite (unit + integration) with ctest.
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
cd build
ctest --output-on-failure --timeout 300 "$@"
