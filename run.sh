#!/usr/bin/env bash
# Installs dependencies, builds, and runs hvnetd (network manager on its embedded SQLite store)
# with a live demo topology made with xe: a private network and two VMs (namespaces hvdemo-vm1
# and hvdemo-vm2) with a VIF each. Ctrl-C stops hvnetd and removes the demo.
set -euo pipefail
cd "$(dirname "$0")"
# Root is needed (packages, namespaces, TAPs): as root it runs as it is, otherwise through sudo.
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "$0: run as root (sudo is not installed)" >&2; exit 1; }
  exec sudo -E bash "$(pwd)/$(basename "$0")" "$@"
fi
bash tools/install-deps.sh
bash tools/build.sh
exec bash tools/demo.sh
