#!/usr/bin/env bash
# Installs dependencies, builds, and runs hvnetd (network manager on its embedded SQLite store)
# with a live demo topology made with xe: a private network and two VMs (namespaces hvdemo-vm1
# and hvdemo-vm2) with a VIF each. Ctrl-C stops hvnetd and removes the demo.
set -euo pipefail
cd "$(dirname "$0")"
bash tools/install-deps.sh
bash tools/build.sh
exec bash tools/demo.sh
