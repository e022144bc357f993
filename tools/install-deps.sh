#!/usr/bin/env bash
# Installs every package hvnet needs to build, run, test and benchmark (Debian 12).
# The one list of dependencies: .ci/run and the README both call this script.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PKGS=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang-format clang-tidy
  # the sanitized tree: clang-14 with libFuzzer and the sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # libraries
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev nlohmann-json3-dev libpugixml-dev libssl-dev
  libmnl-dev libxdp-dev libbpf-dev liburing-dev
  libspdlog-dev libfmt-dev libcli11-dev libboost-dev
  # NAT networks: their masquerade and port forwards as one nftables transaction (nft lists them)
  libnftables-dev nftables
  # API logins through PAM (pam_unix for local accounts; useradd for the tests' accounts)
  libpam0g-dev libpam-modules libpam-runtime passwd
  # PCI vendor and device names for PIF metrics
  pci.ids
  # integration-test peers and tools
  iproute2 iputils-ping iperf3 arping ethtool procps
  python3 python3-pytest python3-scapy tshark dnsmasq-base isc-dhcp-client
  openvswitch-switch
  # the web console's tests: a real headless browser driven through WebDriver
  chromium chromium-driver python3-selenium
  # pools: the distributed store (its tests start their own members; openssl makes their CA)
  etcd-server etcd-client openssl
  # systemd-analyze checks the unit file (PID 1 need not be systemd)
  systemd
  # loads xe's completion (tools/xe-completion.bash) in interactive shells
  bash-completion
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Open vSwitch is only run by hand (benchmarks, LACP partner); keep the packaged service off.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled openvswitch-switch >/dev/null 2>&1; then
  $SUDO systemctl disable --now openvswitch-switch >/dev/null 2>&1 || true
fi
# etcd too: hvnet starts its own members; a packaged one would hold port 2379.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled etcd >/dev/null 2>&1; then
  $SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
fi
# Node.js for the test that runs Xen Orchestra's XenAPI connector (npm xen-api): Debian's nodejs
# and npm unless a Node.js is installed already, then the package into a cache directory.
if ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
XO_DIR=/var/cache/hvnet-test/xen-api
if [ ! -d "$XO_DIR/node_modules/xen-api" ]; then
  $SUDO mkdir -p "$XO_DIR"
  $SUDO npm install --no-audit --no-fund --prefix "$XO_DIR" xen-api@4 >/dev/null
fi
# hvnetd's PAM service: system accounts log in with their system passwords (Debian's common-auth
# and common-account); without it PAM would use the "other" service.
$SUDO install -D -m 0644 "$(dirname "$0")/pam.d-hvnet" /etc/pam.d/hvnet
# xe's bash completion (loaded on demand by bash-completion, which sources this directory).
$SUDO install -D -m 0644 "$(dirname "$0")/xe-completion.bash" /usr/share/bash-completion/completions/xe
echo "install-deps: all dependencies present"
