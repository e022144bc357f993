#!/usr/bin/env bash
# A VM behind a NAT network reaching a server beyond the host's management interface, in one
# run, same topology each time: a host namespace H whose management NIC (10.95.0.1/24) is a veth
# to a server namespace S (10.95.0.254), and a VM namespace V on the private subnet
# 192.168.150.0/24 (gateway .1 on the host).
#   hvnet:  hvnetd in H (managed mode), a nat network (hvnet's dnsmasq and nftables table), the
#           VM's VIF made from an xl spec (script=vif-nat), its TAP moved into V;
#   kernel: what libvirt's default NAT network is: a Linux bridge in H holding the gateway address,
#           the VM on a veth into it, an nftables masquerade rule out of the management NIC.
# Prints TCP Gbit/s (iperf3, cubic, V -> S) and ping RTT, and the ratio hvnet/kernel. With ROUNDS=n each case runs n times, interleaved; medians.
# Needs root and a build. Usage: [ROUNDS=3] bench/e2e-nat.sh [seconds-per-iperf3-run]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${ROUNDS:-1}
HVNETD=$(realpath "${HVNETD:-build/hvnetd}")
XE=$(realpath "${XE:-build/xe}")
P="nat$$"
WORK=$(mktemp -d)
H=${P}h S=${P}s V=${P}v
declare -A GBPS RTT
HV_PID=""

stop_all() {
  if [ -n "$HV_PID" ]; then kill "$HV_PID" 2>/dev/null || true; wait "$HV_PID" 2>/dev/null || true; fi
  HV_PID=""
  for ns in "$H" "$S" "$V"; do ip netns del "$ns" 2>/dev/null || true; done
}
cleanup() { stop_all; rm -rf "$WORK"; }
trap cleanup EXIT

topology() {  # fresh namespaces and the management link H <-> S
  stop_all
  for ns in "$H" "$S" "$V"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
  ip -n "$H" link add "${P}m" type veth peer name srv netns "$S"
  ip -n "$S" addr add 10.95.0.254/24 dev srv
  ip -n "$S" link set srv up
  ip -n "$H" link set "${P}m" up
  ip -n "$S" route add 192.168.150.0/24 via 10.95.0.1 2>/dev/null || true
}

measure() {  # measure <label>
  local label=$1 rtt out
  for _ in $(seq 100); do ip netns exec "$V" ping -c1 -W1 10.95.0.254 >/dev/null 2>&1 && break; done
  rtt=$(ip netns exec "$V" ping -n -c 50 -i 0.02 10.95.0.254 | awk -F/ '/^rtt/ {print $5}')
  ip netns exec "$S" iperf3 -s -1 -B 10.95.0.254 >/dev/null 2>&1 &
  local srv=$!
  for _ in $(seq 100); do ip netns exec "$S" ss -ltn | grep -q 10.95.0.254:5201 && break; sleep 0.05; done
  out=$(ip netns exec "$V" iperf3 -c 10.95.0.254 -t "$SECS" -C cubic -J |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))')
  wait "$srv" || true
  GBPS[$label]+=" $out"
  RTT[$label]+=" $rtt"
  printf '%-34s TCP VM->outside %6s Gbit/s  RTT %s ms\n' "$label" "$out" "$rtt"
}

hvnet_case() {
  topology
  local d=$WORK/hv
  rm -rf "$d"; mkdir -p "$d"
  echo "bench-pw" >"$d/pw"; chmod 600 "$d/pw"
  ip netns exec "$H" "$HVNETD" --db "$d/db" --api-socket "$d/xapi.sock" --api-listen "" \
    --api-listen-tls "" --password-file "$d/pw" --pif-prefix "$P" --ctl "$d/ctl" \
    --state-dir "$d/state" --resolv-conf "" >"$d/log" 2>&1 &
  HV_PID=$!
  for _ in $(seq 200); do [ -S "$d/xapi.sock" ] && break; sleep 0.05; done
  export HVNET_XAPI_SOCKET=$d/xapi.sock
  "$XE" pif-scan >/dev/null
  local pif net vm
  pif=$("$XE" pif-list device="${P}m" --minimal)
  "$XE" pif-plug uuid="$pif"
  "$XE" pif-reconfigure-ip uuid="$pif" mode=static IP=10.95.0.1 netmask=255.255.255.0 gateway=10.95.0.254
  "$XE" host-management-reconfigure pif-uuid="$pif"
  "$XE" host-management-confirm >/dev/null 2>&1 || true
  net=$("$XE" network-create name-label=nat)
  "$XE" network-param-set uuid="$net" subnet=192.168.150.1/24
  "$XE" network-param-set uuid="$net" mode=nat
  vm=$("$XE" vm-create name-label=vm)
  local vif
  vif=$("$XE" vif-create-xl vm-uuid="$vm" spec="script=vif-nat, vifname=${P}t")
  "$XE" vif-plug uuid="$vif"
  for _ in $(seq 200); do ip -n "$H" link show "${P}t" >/dev/null 2>&1 && break; sleep 0.05; done
  ip -n "$H" link set "${P}t" netns "$V"
  ip -n "$V" addr add 192.168.150.10/24 dev "${P}t"
  ip -n "$V" link set "${P}t" up
  ip -n "$V" route add default via 192.168.150.1
  measure "hvnet (nat network, TAP VIF)"
}

kernel_case() {
  topology
  ip -n "$H" addr add 10.95.0.1/24 dev "${P}m"
  ip -n "$H" link add virbr type bridge
  ip -n "$H" addr add 192.168.150.1/24 dev virbr
  ip -n "$H" link add vnet0 type veth peer name eth0 netns "$V"
  ip -n "$H" link set vnet0 master virbr up
  ip -n "$H" link set virbr up
  ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$H" nft -f - <<NFT
table ip libvirt_like {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    ip saddr 192.168.150.0/24 oifname "${P}m" masquerade
  }
}
NFT
  ip -n "$V" addr add 192.168.150.10/24 dev eth0
  ip -n "$V" link set eth0 up
  ip -n "$V" route add default via 192.168.150.1
  measure "kernel (bridge + nft masquerade)"
}

for _ in $(seq "$ROUNDS"); do
  hvnet_case
  kernel_case
done
stop_all

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
h=$(echo "${GBPS["hvnet (nat network, TAP VIF)"]}" | median)
k=$(echo "${GBPS["kernel (bridge + nft masquerade)"]}" | median)
hr=$(echo "${RTT["hvnet (nat network, TAP VIF)"]}" | median)
kr=$(echo "${RTT["kernel (bridge + nft masquerade)"]}" | median)
echo "summary (medians of $ROUNDS round(s)): hvnet $h Gbit/s, kernel $k Gbit/s, ratio $(python3 -c "print('%.2f' % ($h/$k))")"
echo "                                 RTT hvnet $hr ms, kernel $kr ms"
