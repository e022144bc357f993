#!/usr/bin/env bash
# End-to-end L2 comparison on one netns topology: two namespaces, each with a veth whose
# root-side end is a switch port, switched by hvnet with its PIF backends (AF_XDP native,
# AF_PACKET), hvnet with the VMs on TAPs (its VIF path), the Linux bridge, and Open vSwitch's
# userspace datapath (netdev; AF_PACKET and AF_XDP ports; started here from Debian's package).
# Prints TCP Gbit/s (iperf3, the namespaces' default offloads unless noted; once with the host's
# default congestion control and once with cubic, since a BBR default -- its window is two
# bandwidth-delay products at the lowest RTT seen -- holds every switch far below cubic), 64-byte frames
# delivered (bench/trafgen, kpps and loss; sent from inside the kernel with XDP live frames, so
# the sender is not what limits) twice -- to an application reading them from a socket, and to an
# XDP program that counts and drops them (the receiver then costs next to nothing, so the figure is
# the switch's) -- and ping RTT for each, then the ratios against the bridge and OVS.
# hvnet runs as it comes (no flags) and with each of its choices made by hand (AF_XDP PIFs, two
# forwarding threads, busy polling).
# With ROUNDS=n every case runs n times, interleaved, and the summary takes the median of each
# figure (this machine's figures move by tens of percent from one run to the next).
# Needs root and a build.
# ONLY=<extended regex> runs only the cases whose label matches (e.g. ONLY='veth|bridge').
# Usage: [ROUNDS=3] [ONLY=regex] [HVNETD_ARGS="..."] bench/e2e-l2.sh [seconds-per-iperf3-run]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${ROUNDS:-1}
HVNETD=${HVNETD:-build/hvnetd}
P="e2e$$"
WORK=$(mktemp -d)
NS1=${P}a NS2=${P}b
declare -A GBPS CUBIC RTT KPPS LOSS XKPPS XLOSS
TRAFGEN=${TRAFGEN:-build/bench/trafgen}
# 64-byte sender into veths: tx-xdp (in-kernel, XDP live frames: offers several Mpps, more than any
# switch here forwards) or tx (sendmmsg: ~1.4 Mpps, which with a cheap receiver limits the fast
# switches). Senders on a TAP always use tx (see load_64b).
TRAFGEN_TX=${TRAFGEN_TX:-tx-xdp}

cleanup() {
  [ -n "${HV_PID:-}" ] && kill "$HV_PID" 2>/dev/null && wait "$HV_PID" 2>/dev/null || true
  for f in "$WORK"/ovs/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  ip netns del "$NS1" 2>/dev/null || true
  ip netns del "$NS2" 2>/dev/null || true
  ip link del "${P}1" 2>/dev/null || true
  ip link del "${P}2" 2>/dev/null || true
  ip link del "${P}br" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

namespaces() {  # fresh namespaces; with "veth", a veth pair into each
  # Deleting a namespace frees its devices later, in the background: delete the root-side veth
  # ends first so the old pairs are gone before new ones take their names.
  ip link del "${P}1" 2>/dev/null || true
  ip link del "${P}2" 2>/dev/null || true
  ip netns del "$NS1" 2>/dev/null || true
  ip netns del "$NS2" 2>/dev/null || true
  ip netns add "$NS1"
  ip netns add "$NS2"
  if [ "${1:-}" = veth ]; then
    for i in 1 2; do
      ns=$([ $i = 1 ] && echo "$NS1" || echo "$NS2")
      ip link add "${P}$i" type veth peer name eth0 netns "$ns"
      ip link set "${P}$i" up
    done
  fi
}
address() {  # address <ifname-in-ns1> <ifname-in-ns2>
  IF1=$1 IF2=$2
  ip -n "$NS1" addr add 10.201.0.1/24 dev "$1"
  ip -n "$NS2" addr add 10.201.0.2/24 dev "$2"
  for ns in "$NS1" "$NS2"; do ip -n "$ns" link set lo up; done
  ip -n "$NS1" link set "$1" up
  ip -n "$NS2" link set "$2" up
}
measure() {  # measure <label>
  local label=$1
  for _ in $(seq 100); do ip netns exec "$NS1" ping -c1 -W1 10.201.0.2 >/dev/null 2>&1 && break; done
  local rtt gbps cubic
  rtt=$(ip netns exec "$NS1" ping -n -c 50 -i 0.02 10.201.0.2 | awk -F/ '/^rtt/ {print $5}')
  gbps=$(tcp_gbps)
  cubic=$(tcp_gbps -C cubic || echo 0)  # (0 where the kernel lacks cubic)
  # 64-byte frames: trafgen in NS1 at full speed for 3 s (loss: of what it offered), counted on
  # arrival in NS2 by an application, then (same offered load) by an XDP counting sink on the
  # receiving interface.
  local kpps loss xkpps xloss
  read -r kpps loss < <(load_64b rx)
  read -r xkpps xloss < <(load_64b rx-xdp)
  GBPS[$label]+=" ${gbps}"
  CUBIC[$label]+=" ${cubic}"
  RTT[$label]+=" ${rtt}"
  KPPS[$label]+=" $kpps"
  LOSS[$label]+=" $loss"
  XKPPS[$label]+=" $xkpps"
  XLOSS[$label]+=" $xloss"
  printf '%-30s TCP %6s Gbit/s (cubic %6s)  64B %5s kpps (loss %4s%%)  64B->XDP %5s kpps (loss %4s%%)  RTT %s ms\n' \
    "$label" "$gbps" "$cubic" "$kpps" "$loss" "$xkpps" "$xloss" "$rtt"
}
tcp_gbps() {  # tcp_gbps [iperf3 client options]: one iperf3 run NS1 -> NS2, Gbit/s received
  ip netns exec "$NS2" iperf3 -s -1 -B 10.201.0.2 >/dev/null 2>&1 &
  local srv=$!
  for _ in $(seq 100); do ip netns exec "$NS2" ss -ltn | grep -q 10.201.0.2:5201 && break; sleep 0.05; done
  ip netns exec "$NS1" iperf3 -c 10.201.0.2 -t "$SECS" "$@" -J |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
  wait $srv || true
}
load_64b() {  # load_64b <trafgen receive mode>: kpps delivered over the 3 s send, and loss %
  local dst rx
  dst=$(ip netns exec "$NS2" cat "/sys/class/net/$IF2/address")
  ip netns exec "$NS2" "$TRAFGEN" "$1" "$IF2" 4 >"$WORK/rx.json" &
  rx=$!
  sleep 0.3  # (let the counter bind or attach; a benchmark, not a test)
  # The live-frame sender hands XDP frames to the veth's peer, the switch's port: a veth takes
  # them only with an XDP program on it or with NAPI, which GRO turns on (for this load only).
  # A VM's TAP is loaded through its own stack (sendmmsg), the way a VM's frames reach it: XDP
  # frames sent into a TAP take a path no VM uses (each one handed back across CPUs to the
  # sender's page pool when the switch has read it).
  local gro= gen=$TRAFGEN_TX
  ip netns exec "$NS1" test -e "/sys/class/net/$IF1/tun_flags" && gen=tx
  if [ "$gen" = tx-xdp ] && [ -e "/sys/class/net/${P}1" ] &&
    ethtool -k "${P}1" | grep -q '^generic-receive-offload: off'; then
    gro=1
    ethtool -K "${P}1" gro on
  fi
  # (A kernel without live frames, before 5.18, refuses tx-xdp at once: sendmmsg takes over.)
  ip netns exec "$NS1" "$TRAFGEN" "$gen" "$IF1" 3 "$dst" >"$WORK/tx.json" ||
    ip netns exec "$NS1" "$TRAFGEN" tx "$IF1" 3 "$dst" >"$WORK/tx.json"
  [ -n "$gro" ] && ethtool -K "${P}1" gro off
  wait $rx
  python3 -c 'import json,sys
tx=json.load(open(sys.argv[1])); rx=json.load(open(sys.argv[2]))
print("%.0f %.1f" % (rx["frames"]/3/1000, 100*(1-rx["frames"]/max(tx["frames"],1))))' \
    "$WORK/tx.json" "$WORK/rx.json"
}
start_hvnetd() {
  # shellcheck disable=SC2086
  "$HVNETD" --config "$1" --ctl "$WORK/hv.ctl" ${HVNETD_EXTRA:-} ${HVNETD_ARGS:-} >"$WORK/hvnetd.log" 2>&1 &
  HV_PID=$!
  for _ in $(seq 200); do [ -S "$WORK/hv.ctl" ] && break; sleep 0.05; done
}
stop_hvnetd() { kill "$HV_PID"; wait "$HV_PID" 2>/dev/null || true; HV_PID=; }

hvnet_veth() {  # hvnet_veth <label> <hvnetd args...>
  local label=$1
  shift
  namespaces veth
  cat >"$WORK/veth.json" <<JSON
{"networks":[{"name":"n"}],"ports":[{"name":"${P}1","type":"pif","network":"n"},{"name":"${P}2","type":"pif","network":"n"}]}
JSON
  HVNETD_EXTRA="$*" start_hvnetd "$WORK/veth.json"
  address eth0 eth0
  measure "$label"
  stop_hvnetd
}
hvnet_tap() {  # hvnet_tap <label> <hvnetd args...>: VMs on TAPs (vnet headers end to end)
  local label=$1
  shift
  namespaces
  cat >"$WORK/tap.json" <<JSON
{"networks":[{"name":"n"}],"ports":[{"name":"${P}t1","type":"tap","network":"n"},{"name":"${P}t2","type":"tap","network":"n"}]}
JSON
  HVNETD_EXTRA="$*" start_hvnetd "$WORK/tap.json"
  ip link set "${P}t1" netns "$NS1"
  ip link set "${P}t2" netns "$NS2"
  address "${P}t1" "${P}t2"
  measure "$label"
  stop_hvnetd
}

# Open vSwitch userspace datapath, started once from Debian's package. Neither its AF_PACKET nor
# its AF_XDP ports handle checksum offload, so TCP only works with tx checksumming off inside the
# namespaces.
mkdir -p "$WORK/ovs"
export OVS_RUNDIR="$WORK/ovs" OVS_LOGDIR="$WORK/ovs" OVS_DBDIR="$WORK/ovs" OVS_SYSCONFDIR="$WORK/ovs"
ovsdb-tool create "$WORK/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$WORK/ovs/conf.db" --remote="punix:$WORK/ovs/db.sock" --pidfile="$WORK/ovs/db.pid" \
  --unixctl="$WORK/ovs/db.ctl" --log-file="$WORK/ovs/db.log" --detach 2>/dev/null
VSCTL="ovs-vsctl --db=unix:$WORK/ovs/db.sock --timeout=20"
$VSCTL --no-wait init
ovs-vswitchd "unix:$WORK/ovs/db.sock" --pidfile="$WORK/ovs/vswitchd.pid" \
  --unixctl="$WORK/ovs/vswitchd.ctl" --log-file="$WORK/ovs/vswitchd.log" --detach 2>/dev/null
ovs_case() {  # ovs_case <label> [interface options...]
  local label=$1
  shift
  namespaces veth
  $VSCTL add-br "${P}o" -- set bridge "${P}o" datapath_type=netdev
  $VSCTL add-port "${P}o" "${P}1" -- set interface "${P}1" "$@"
  $VSCTL add-port "${P}o" "${P}2" -- set interface "${P}2" "$@"
  ip netns exec "$NS1" ethtool -K eth0 tx off >/dev/null
  ip netns exec "$NS2" ethtool -K eth0 tx off >/dev/null
  address eth0 eth0
  measure "$label"
  $VSCTL del-br "${P}o"
}
bridge_case() {
  namespaces veth
  ip link add "${P}br" type bridge
  ip link set "${P}br" up
  ip link set "${P}1" master "${P}br"
  ip link set "${P}2" master "${P}br"
  address eth0 eth0
  measure "Linux bridge"
  ip link del "${P}br"
}

want() { [[ $1 =~ ${ONLY:-.} ]]; }
for round in $(seq "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "-- round $round of $ROUNDS"
  # hvnet as it comes (no flags: on this machine one forwarding thread, adaptive polling, and
  # `--pif-backend auto`, which takes AF_PACKET on a veth), then each choice made by hand:
  # AF_XDP (copy mode: no veth gives zero-copy), two forwarding threads, and busy polling as
  # OVS's PMD threads do.
  want "hvnet default (TAP VIFs)" && hvnet_tap "hvnet default (TAP VIFs)"
  want "hvnet default (veth)" && hvnet_veth "hvnet default (veth)"
  want "hvnet (veth, AF_XDP)" && hvnet_veth "hvnet (veth, AF_XDP)" --pif-backend af_xdp-native
  want "hvnet 2 threads (TAP VIFs)" && hvnet_tap "hvnet 2 threads (TAP VIFs)" --threads 2
  want "hvnet 2 threads (veth)" && hvnet_veth "hvnet 2 threads (veth)" --threads 2
  want "hvnet busy (TAP VIFs)" && hvnet_tap "hvnet busy (TAP VIFs)" --poll-mode busy
  want "hvnet busy (veth)" && hvnet_veth "hvnet busy (veth)" --poll-mode busy
  want "Linux bridge" && bridge_case
  want "OVS userspace (AF_PACKET)" && ovs_case "OVS userspace (AF_PACKET)" type=system
  want "OVS userspace (AF_XDP)" && ovs_case "OVS userspace (AF_XDP)" type=afxdp options:xdp-mode=native
done

echo
[ "$ROUNDS" -gt 1 ] && echo "medians of $ROUNDS rounds:"
{
  for k in "${!GBPS[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "${GBPS[$k]}" "${KPPS[$k]}" "${LOSS[$k]}" \
      "${XKPPS[$k]}" "${XLOSS[$k]}" "${RTT[$k]}" "${CUBIC[$k]}"
  done
} | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    label, *cols = line.rstrip("\n").split("\t")
    med = lambda v: statistics.median(float(x) for x in v.split()) if v.split() else 0.0
    rows[label] = [med(c) for c in cols]  # gbps, kpps, loss, xdp kpps, xdp loss, rtt, cubic
def r(a, b):
    return "%.2fx" % (a / b) if b else "n/a"
order = sorted(k for k in rows if k.startswith("hvnet")) + [k for k in ("Linux bridge",
         "OVS userspace (AF_PACKET)", "OVS userspace (AF_XDP)") if k in rows]
for k in order:
    g, kp, lo, xk, xl, t, c = rows[k]
    print(f"{k:30} TCP {g:6.2f} Gbit/s (cubic {c:6.2f})  64B {kp:5.0f} kpps ({lo:4.1f}%)  64B->XDP {xk:5.0f} kpps ({xl:4.1f}%)  RTT {t:.3f} ms")
print()
none = [0.0] * 7  # (a reference left out by ONLY: its ratios read n/a)
br, ovs_p, ovs_x = (rows.get(k, none) for k in ("Linux bridge", "OVS userspace (AF_PACKET)", "OVS userspace (AF_XDP)"))
for hv in sorted(k for k in rows if k.startswith("hvnet")):
    g, kp, _, xk, _, t, c = rows[hv]
    print(f"{hv}:")
    print(f"  TCP      /bridge {r(g, br[0])}  /OVS-AF_PACKET {r(g, ovs_p[0])}  /OVS-AF_XDP {r(g, ovs_x[0])}")
    print(f"  TCP/cubic /bridge {r(c, br[6])}  /OVS-AF_PACKET {r(c, ovs_p[6])}  /OVS-AF_XDP {r(c, ovs_x[6])}")
    print(f"  64B      /bridge {r(kp, br[1])}  /OVS-AF_PACKET {r(kp, ovs_p[1])}  /OVS-AF_XDP {r(kp, ovs_x[1])}")
    print(f"  64B->XDP /bridge {r(xk, br[3])}  /OVS-AF_PACKET {r(xk, ovs_p[3])}  /OVS-AF_XDP {r(xk, ovs_x[3])}")
    print(f"  RTT      /bridge {r(t, br[5])}  /OVS-AF_PACKET {r(t, ovs_p[5])}  /OVS-AF_XDP {r(t, ovs_x[5])}  (lower is better)")
'
