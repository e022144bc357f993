#!/usr/bin/env bash
# VM -> VM across two hosts over VXLAN, in one run: each "host" is a namespace with a VM
# namespace behind it, the hosts joined by a veth underlay (MTU 1500, 10.90.0.1 <-> 10.90.0.2),
# the private network at MTU 1450. Cases:
#   hvnet:  hvnetd in each host namespace, the VM on a TAP, a vxlan port to the other host;
#   kernel: a vxlan device (dstport 4789) and a Linux bridge in each host, the VM on a veth;
#   ovs:    Open vSwitch's userspace datapath in each host (Debian's package, AF_PACKET ports):
#           br-phy holds the underlay NIC and the transport address, br-int the VM's veth and a
#           vxlan port (OVS's native tunnelling). Its ports do not complete checksums, so the
#           VM's and the underlay's tx checksumming is off in that case.
# Prints TCP Gbit/s (iperf3, cubic, the VMs' default offloads), 64-byte kpps delivered to an
# application in the far VM (bench/trafgen, sendmmsg sender), ping RTT, and the ratios to the
# kernel and to Open vSwitch. With ROUNDS=n every case runs n times, interleaved; the summary takes medians.
# Needs root and a build. Usage: [ROUNDS=3] bench/e2e-vxlan.sh [seconds-per-iperf3-run]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${ROUNDS:-1}
HVNETD=$(realpath "${HVNETD:-build/hvnetd}")
TRAFGEN=$(realpath "${TRAFGEN:-build/bench/trafgen}")
P="vx$$"
WORK=$(mktemp -d)
H1=${P}h1 H2=${P}h2 V1=${P}v1 V2=${P}v2
declare -A GBPS KPPS RTT
PIDS=()

stop_all() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  PIDS=()
  for f in "$WORK"/ovs*/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  rm -rf "$WORK"/ovs*
  for ns in "$H1" "$H2" "$V1" "$V2"; do ip netns del "$ns" 2>/dev/null || true; done
}
cleanup() {
  stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT

hosts() {  # two host namespaces, their underlay, and two empty VM namespaces
  stop_all
  for ns in "$H1" "$H2" "$V1" "$V2"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  ip -n "$H1" link add ul type veth peer name ul netns "$H2"
  ip -n "$H1" addr add 10.90.0.1/24 dev ul
  ip -n "$H2" addr add 10.90.0.2/24 dev ul
  ip -n "$H1" link set ul up
  ip -n "$H2" link set ul up
}
vm_address() {  # vm_address <ifname in V1> <ifname in V2>
  IF1=$1 IF2=$2
  ip -n "$V1" addr add 10.91.0.1/24 dev "$1"
  ip -n "$V2" addr add 10.91.0.2/24 dev "$2"
  ip -n "$V1" link set "$1" mtu 1450 up
  ip -n "$V2" link set "$2" mtu 1450 up
}

measure() {  # measure <label>
  local label=$1
  for _ in $(seq 100); do ip netns exec "$V1" ping -c1 -W1 10.91.0.2 >/dev/null 2>&1 && break; done
  local rtt gbps kpps
  rtt=$(ip netns exec "$V1" ping -n -c 50 -i 0.02 10.91.0.2 | awk -F/ '/^rtt/ {print $5}')
  ip netns exec "$V2" iperf3 -s -1 -B 10.91.0.2 >/dev/null 2>&1 &
  local srv=$!
  for _ in $(seq 100); do ip netns exec "$V2" ss -ltn | grep -q 10.91.0.2:5201 && break; sleep 0.05; done
  gbps=$(ip netns exec "$V1" iperf3 -c 10.91.0.2 -t "$SECS" -C cubic -J |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))')
  wait $srv || true
  local dst
  dst=$(ip netns exec "$V2" cat "/sys/class/net/$IF2/address")
  ip netns exec "$V2" "$TRAFGEN" rx "$IF2" 4 >"$WORK/rx.json" &
  local rx=$!
  sleep 0.3  # (let the counter bind; a benchmark, not a test)
  ip netns exec "$V1" "$TRAFGEN" tx "$IF1" 3 "$dst" >"$WORK/tx.json"
  wait $rx
  kpps=$(python3 -c 'import json,sys; print("%.0f" % (json.load(open(sys.argv[1]))["frames"]/3/1000))' "$WORK/rx.json")
  GBPS[$label]+=" $gbps"
  KPPS[$label]+=" $kpps"
  RTT[$label]+=" $rtt"
  printf '%-28s TCP %6s Gbit/s  64B %6s kpps  RTT %s ms\n' "$label" "$gbps" "$kpps" "$rtt"
}

hvnet_case() {
  hosts
  local h local remote
  for h in 1 2; do
    local=10.90.0.$h remote=10.90.0.$((3 - h))
    cat >"$WORK/h$h.json" <<JSON
{"networks":[{"name":"priv","mtu":1450}],
 "ports":[{"name":"vif$h","type":"tap","network":"priv"},
          {"name":"vx","type":"vxlan","local":"$local",
           "tunnels":[{"vni":42,"network":"priv","remotes":["$remote"]}]}]}
JSON
    local hns=$H1
    [ "$h" = 2 ] && hns=$H2
    ip netns exec "$hns" "$HVNETD" --config "$WORK/h$h.json" --ctl "$WORK/h$h.ctl" \
      >"$WORK/h$h.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 200); do [ -S "$WORK/h$h.ctl" ] && ip -n "$hns" link show "vif$h" >/dev/null 2>&1 && break; sleep 0.05; done
  done
  ip -n "$H1" link set vif1 netns "$V1"
  ip -n "$H2" link set vif2 netns "$V2"
  vm_address vif1 vif2
  measure "hvnet (TAP VIFs, vxlan port)"
}

kernel_case() {
  hosts
  local h hns vns
  for h in 1 2; do
    hns=$H1 vns=$V1
    [ "$h" = 2 ] && hns=$H2 vns=$V2
    ip -n "$hns" link add vx type vxlan id 42 dstport 4789 local "10.90.0.$h" remote "10.90.0.$((3 - h))" dev ul
    ip -n "$hns" link add vbr type bridge
    ip -n "$hns" link add vmp type veth peer name eth0 netns "$vns"
    for l in vx vmp; do ip -n "$hns" link set "$l" master vbr up; done
    ip -n "$hns" link set vbr up
  done
  vm_address eth0 eth0
  measure "kernel (vxlan + bridge)"
}

ovs_in() {  # ovs_in <host 1|2> <ovs-vsctl args...>: that host's OVS
  local d="$WORK/ovs$1"
  shift
  ovs-vsctl --db="unix:$d/db.sock" --timeout=20 "$@"
}
ovs_case() {
  hosts
  local h hns vns d
  for h in 1 2; do
    hns=$H1 vns=$V1
    [ "$h" = 2 ] && hns=$H2 vns=$V2
    d="$WORK/ovs$h"
    mkdir -p "$d"
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" --pidfile="$d/db.pid" \
      --unixctl="$d/db.ctl" --log-file="$d/db.log" --detach 2>/dev/null
    ovs_in "$h" --no-wait init
    OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d ip netns exec "$hns" \
      ovs-vswitchd "unix:$d/db.sock" --pidfile="$d/vswitchd.pid" --unixctl="$d/vswitchd.ctl" \
      --log-file="$d/vswitchd.log" --detach 2>/dev/null
    ip -n "$hns" addr flush dev ul
    ip netns exec "$hns" ethtool -K ul tx off >/dev/null
    ovs_in "$h" add-br br-phy -- set bridge br-phy datapath_type=netdev
    ovs_in "$h" add-port br-phy ul
    ip -n "$hns" addr add "10.90.0.$h/24" dev br-phy
    ip -n "$hns" link set br-phy up
    ip -n "$hns" link add vmp type veth peer name eth0 netns "$vns"
    ip -n "$hns" link set vmp up
    ip netns exec "$vns" ethtool -K eth0 tx off >/dev/null
    ovs_in "$h" add-br br-int -- set bridge br-int datapath_type=netdev
    ovs_in "$h" add-port br-int vmp
    ovs_in "$h" add-port br-int vx -- set interface vx type=vxlan \
      "options:remote_ip=10.90.0.$((3 - h))" options:key=42
  done
  # OVS learns the other VTEP's MAC by snooping br-phy: resolve it once from each side.
  for _ in $(seq 100); do ip netns exec "$H1" ping -c1 -W1 10.90.0.2 >/dev/null 2>&1 && break; done
  ip netns exec "$H2" ping -c1 -W1 10.90.0.1 >/dev/null 2>&1 || true
  vm_address eth0 eth0
  measure "OVS userspace (vxlan)"
}

want() { [[ $1 =~ ${ONLY:-.} ]]; }
for round in $(seq "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "-- round $round of $ROUNDS"
  want hvnet && hvnet_case
  want kernel && kernel_case
  want OVS && ovs_case
done
stop_all

echo
[ "$ROUNDS" -gt 1 ] && echo "medians of $ROUNDS rounds:"
{
  for k in "${!GBPS[@]}"; do printf '%s\t%s\t%s\t%s\n' "$k" "${GBPS[$k]}" "${KPPS[$k]}" "${RTT[$k]}"; done
} | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    label, *cols = line.rstrip("\n").split("\t")
    rows[label] = [statistics.median(float(x) for x in c.split()) for c in cols]
none = [float("nan")] * 3
k = rows.get("kernel (vxlan + bridge)", none)
o = rows.get("OVS userspace (vxlan)", none)
r = lambda a, b: f"{a / b:.2f}x" if b == b and b else "n/a"
for label, (g, p, t) in sorted(rows.items()):
    print(f"{label:28} TCP {g:6.2f} Gbit/s  64B {p:6.0f} kpps  RTT {t:.3f} ms")
    print(" " * 29 + f"/kernel: TCP {r(g, k[0])} 64B {r(p, k[1])} RTT {r(t, k[2])}"
          f"   /OVS: TCP {r(g, o[0])} 64B {r(p, o[1])} RTT {r(t, o[2])}")
'
