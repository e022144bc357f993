#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite (unit + integration) with ctest.
# Integration tests create namespaces, veths and TAPs: run as root.
set -euo pipefail
cd "$(dirname "$0")"
bash tools/install-deps.sh
bash tools/build.sh
cd build
ctest --output-on-failure --timeout 300 "$@"
