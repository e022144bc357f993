#!/usr/bin/env bash
# Installs dependencies, builds, and runs hvnetd with a live demo topology: network xenbr0 with the
# host's own interface (internal port xenbr0, 10.99.0.254/24) and two VMs, namespaces hvdemo-vm1
# and hvdemo-vm2 owning VIFs vif1.0 and vif2.0. Ctrl-C stops hvnetd and removes the demo.
set -euo pipefail
cd "$(dirname "$0")"
bash tools/install-deps.sh
bash tools/build.sh
exec bash tools/demo.sh
