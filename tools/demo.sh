#!/usr/bin/env bash
# The live demo hvnetd runs in (see run.sh). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
CTL=/run/hvnet/hvnetd.ctl
VMS=(hvdemo-vm1 hvdemo-vm2)

cleanup() {
  [ -n "${HVNETD_PID:-}" ] && kill "$HVNETD_PID" 2>/dev/null && wait "$HVNETD_PID" 2>/dev/null
  for ns in "${VMS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 0' INT TERM
cleanup

./build/hvnetd --config config/demo.json --ctl "$CTL" &
HVNETD_PID=$!
for _ in $(seq 100); do [ -S "$CTL" ] && break; sleep 0.05; done
ip addr add 10.99.0.254/24 dev xenbr0
for i in 1 2; do
  ns=hvdemo-vm$i
  ip netns add "$ns"
  ip link set "vif$i.0" netns "$ns"
  ip -n "$ns" addr add "10.99.0.$i/24" dev "vif$i.0"
  ip -n "$ns" link set "vif$i.0" up
  ip -n "$ns" link set lo up
done
echo "== VM1 pings VM2 and the host through hvnetd"
ip netns exec hvdemo-vm1 ping -c 3 -i 0.2 10.99.0.2
ping -c 3 -i 0.2 10.99.0.1
echo "== MAC table (build/hvnetctl fdb)"
./build/hvnetctl --ctl "$CTL" fdb
echo
echo "hvnetd is running (pid $HVNETD_PID). Try: ip netns exec hvdemo-vm2 ping 10.99.0.1"
echo "                                     build/hvnetctl stats     -- Ctrl-C to stop"
wait "$HVNETD_PID"
