#!/usr/bin/env bash
# The live demo (see run.sh): hvnetd as the network manager on its embedded SQLite store, and a
# topology built with xe as an admin would: a private network, two VMs (namespaces hvdemo-vm1/2)
# with a VIF each, plugged. Needs root. Ctrl-C stops hvnetd and removes the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
export HVNET_XAPI_SOCKET=/run/hvnet/demo-xapi.sock
DB=/var/lib/hvnet/demo.db
XE=./build/xe
VMS=(hvdemo-vm1 hvdemo-vm2)

KEEPER_SOCK=/run/hvnet/demo-tapkeeper.sock
# The web console and the API over HTTP on loopback; root's API password for them.
CONSOLE=127.0.0.1:${HVNET_DEMO_PORT:-8090}
PASSWORD_FILE=/run/hvnet/demo-password

cleanup() {
  [ -n "${HVNETD_PID:-}" ] && kill "$HVNETD_PID" 2>/dev/null && wait "$HVNETD_PID" 2>/dev/null
  # The demo's carrier keeper holds the VMs' TAPs (it outlives hvnetd by design): stop it too.
  pkill -f "hvnet-tapkeeper $KEEPER_SOCK" 2>/dev/null || true
  for ns in "${VMS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 0' INT TERM
cleanup
rm -f "$DB" "$DB-wal" "$DB-shm"
mkdir -p /run/hvnet
(umask 077 && head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PASSWORD_FILE")

# --pif-prefix keeps the demo's hands off this machine's real NICs.
./build/hvnetd --db "$DB" --api-socket "$HVNET_XAPI_SOCKET" --api-listen "$CONSOLE" \
  --password-file "$PASSWORD_FILE" --api-listen-tls "" \
  --ctl /run/hvnet/demo.ctl --tap-keeper-socket "$KEEPER_SOCK" --pif-prefix hvdemo &
HVNETD_PID=$!
for _ in $(seq 200); do [ -S "$HVNET_XAPI_SOCKET" ] && break; sleep 0.05; done

set -x
NET=$($XE network-create name-label=demo-net name-description="private network of the demo")
for i in 1 2; do
  VM=$($XE vm-create name-label=vm$i)
  VIF=$($XE vif-create vm-uuid="$VM" network-uuid="$NET" device=0 mac=00:16:3e:00:00:0$i)
  $XE vif-plug uuid="$VIF"
  DOMID=$($XE vm-param-get uuid="$VM" param-name=dom-id)
  ip netns add hvdemo-vm$i
  ip link set "vif$DOMID.0" netns hvdemo-vm$i
  ip -n hvdemo-vm$i addr add 10.99.0.$i/24 dev "vif$DOMID.0"
  ip -n hvdemo-vm$i link set "vif$DOMID.0" up
done
$XE network-list name-label=demo-net
$XE vif-list params=uuid,device,vm-uuid,MAC,currently-attached
ip netns exec hvdemo-vm1 ping -c 3 -i 0.2 10.99.0.2
./build/hvnetctl --ctl /run/hvnet/demo.ctl fdb
set +x
echo
echo "hvnetd is running (pid $HVNETD_PID). Try, in another terminal:"
echo "  export HVNET_XAPI_SOCKET=$HVNET_XAPI_SOCKET"
echo "  build/xe network-list; build/xe vif-list params=all"
echo "  sudo ip netns exec hvdemo-vm2 ping 10.99.0.1"
echo "The web console: http://$CONSOLE/  (user root, password $(cat "$PASSWORD_FILE"))"
echo "Prometheus metrics: curl http://$CONSOLE/metrics"
echo "Ctrl-C stops hvnetd and removes the demo."
wait "$HVNETD_PID"
