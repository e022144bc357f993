#!/usr/bin/env bash
# Ping round-trip time through each switch on one topology, in one run: two namespaces with a veth
# each whose root-side end is a switch port (hvnet PIFs) -- or, for "TAP" cases, VMs on hvnet
# TAPs -- against the Linux bridge. Each case: 400 pings 10 ms apart after a warm-up; prints avg
# and median RTT and the ratio to the bridge. Cases are hvnetd argument sets; the default set
# compares hvnet as it comes with the poll modes and spin lengths that bear on latency.
# Needs root and a build. Usage: bench/rtt.sh ["label|tap-or-veth|hvnetd args" ...]
set -euo pipefail
cd "$(dirname "$0")/.."
HVNETD=${HVNETD:-build/hvnetd}
P="rtt$$"
WORK=$(mktemp -d)
NS1=${P}a NS2=${P}b
cleanup() {
  [ -n "${HV_PID:-}" ] && kill "$HV_PID" 2>/dev/null && wait "$HV_PID" 2>/dev/null || true
  ip netns del "$NS1" 2>/dev/null || true
  ip netns del "$NS2" 2>/dev/null || true
  ip link del "${P}1" 2>/dev/null || true
  ip link del "${P}2" 2>/dev/null || true
  ip link del "${P}br" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
if [ $# -eq 0 ]; then
  set -- "hvnet default (veth)|veth|" "hvnet default (TAP)|tap|" "hvnet busy|veth|--poll-mode busy" \
    "hvnet interrupt|veth|--poll-mode interrupt" "hvnet spin 1 ms|veth|--spin-us 1000" \
    "hvnet 2 threads|veth|--threads 2"
fi

fresh() {  # fresh <veth|tap>
  ip link del "${P}1" 2>/dev/null || true
  ip link del "${P}2" 2>/dev/null || true
  ip netns del "$NS1" 2>/dev/null || true
  ip netns del "$NS2" 2>/dev/null || true
  ip netns add "$NS1"
  ip netns add "$NS2"
  if [ "$1" = veth ]; then
    ip link add "${P}1" type veth peer name eth0 netns "$NS1"
    ip link add "${P}2" type veth peer name eth0 netns "$NS2"
    ip link set "${P}1" up
    ip link set "${P}2" up
  fi
}
address() {
  ip -n "$NS1" addr add 10.202.0.1/24 dev "$1"
  ip -n "$NS2" addr add 10.202.0.2/24 dev "$2"
  ip -n "$NS1" link set "$1" up
  ip -n "$NS2" link set "$2" up
}
measure() {  # measure <label>: avg and median RTT in ms
  for _ in $(seq 100); do ip netns exec "$NS1" ping -c1 -W1 10.202.0.2 >/dev/null 2>&1 && break; done
  ip netns exec "$NS1" ping -c 20 -i 0.01 10.202.0.2 >/dev/null
  ip netns exec "$NS1" ping -n -c 400 -i 0.01 10.202.0.2 |
    python3 -c 'import re,statistics,sys
t=[float(m.group(1)) for m in re.finditer(r"time=([0-9.]+)", sys.stdin.read())]
print("%.4f %.4f" % (statistics.mean(t), statistics.median(t)))'
}
declare -A AVG MED
order=()
run_case() {  # run_case <label> <veth|tap> <args>
  local label=$1 kind=$2 args=$3
  fresh "$kind"
  if [ "$kind" = veth ]; then
    echo "{\"networks\":[{\"name\":\"n\"}],\"ports\":[{\"name\":\"${P}1\",\"type\":\"pif\",\"network\":\"n\"},{\"name\":\"${P}2\",\"type\":\"pif\",\"network\":\"n\"}]}" >"$WORK/t.json"
  else
    echo "{\"networks\":[{\"name\":\"n\"}],\"ports\":[{\"name\":\"${P}t1\",\"type\":\"tap\",\"network\":\"n\"},{\"name\":\"${P}t2\",\"type\":\"tap\",\"network\":\"n\"}]}" >"$WORK/t.json"
  fi
  # shellcheck disable=SC2086
  "$HVNETD" --config "$WORK/t.json" --ctl "$WORK/hv.ctl" $args >"$WORK/hvnetd.log" 2>&1 &
  HV_PID=$!
  for _ in $(seq 200); do [ -S "$WORK/hv.ctl" ] && break; sleep 0.05; done
  if [ "$kind" = veth ]; then
    address eth0 eth0
  else
    ip link set "${P}t1" netns "$NS1"
    ip link set "${P}t2" netns "$NS2"
    address "${P}t1" "${P}t2"
  fi
  read -r a m < <(measure)
  kill "$HV_PID"
  wait "$HV_PID" 2>/dev/null || true
  HV_PID=
  AVG[$label]=$a MED[$label]=$m
  order+=("$label")
}
fresh veth
ip link add "${P}br" type bridge
ip link set "${P}br" up
ip link set "${P}1" master "${P}br"
ip link set "${P}2" master "${P}br"
address eth0 eth0
read -r a m < <(measure)
AVG[bridge]=$a MED[bridge]=$m
ip link del "${P}br"
for c in "$@"; do
  IFS='|' read -r label kind args <<<"$c"
  run_case "$label" "$kind" "$args"
done
printf '%-28s %9s %9s %8s %8s\n' case "avg ms" "med ms" "avg/br" "med/br"
printf '%-28s %9s %9s\n' "Linux bridge" "${AVG[bridge]}" "${MED[bridge]}"
for l in "${order[@]}"; do
  python3 -c 'import sys; l,a,m,ba,bm=sys.argv[1:]; print("%-28s %9s %9s %7.2fx %7.2fx" % (l,a,m,float(a)/float(ba),float(m)/float(bm)))' \
    "$l" "${AVG[$l]}" "${MED[$l]}" "${AVG[bridge]}" "${MED[bridge]}"
done
