"""Integration harness: builds hosts out of network namespaces and veth pairs, starts hvnetd on
them, and removes everything it made afterwards, also when a test fails. Needs root.

Every name carries a per-run prefix so parallel or leftover runs cannot collide. Nothing here
addresses anything outside the namespaces the test created."""
import itertools
import json
import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest

HVNETD = os.environ.get("HVNETD", "build/hvnetd")
HVNETCTL = os.environ.get("HVNETCTL", "build/hvnetctl")
RUN_ID = uuid.uuid4().hex[:4]
_counter = itertools.count()


def sh(*cmd, check=True, ns=None, timeout=60, capture=True):
    """Runs a command (in namespace `ns` if given); returns CompletedProcess."""
    argv = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    r = subprocess.run(argv, capture_output=capture, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def wait_until(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Hvnetd:
    """A running hvnetd with its own control socket, talking the control-socket JSON protocol."""

    def __init__(self, workdir, topology):
        self.workdir = workdir
        self.ctl_path = os.path.join(workdir, "hvnetd.ctl")
        self.config = os.path.join(workdir, "topology.json")
        with open(self.config, "w") as f:
            json.dump(topology, f)
        self.log = open(os.path.join(workdir, "hvnetd.log"), "w")
        self.proc = subprocess.Popen([HVNETD, "--config", self.config, "--ctl", self.ctl_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self._ready, 10, "hvnetd control socket")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"hvnetd exited with {self.proc.returncode}: {self.read_log()}")
        try:
            return self.request({"cmd": "topology"})["status"] == "ok"
        except OSError:
            return False

    def read_log(self):
        with open(os.path.join(self.workdir, "hvnetd.log")) as f:
            return f.read()

    def request(self, req):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.ctl_path)
            s.sendall((json.dumps(req) + "\n").encode())
            s.shutdown(socket.SHUT_WR)
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return json.loads(buf)

    def apply(self, topology):
        return self.request({"cmd": "apply", "topology": topology})

    def stats(self):
        return self.request({"cmd": "stats"})["value"]

    def fdb(self):
        return self.request({"cmd": "fdb"})["value"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Lab:
    """Namespaces, links and daemons of one test; torn down in reverse order of creation."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.n = next(_counter)
        self._undo = []

    def name(self, role):
        n = f"h{RUN_ID}{self.n}{role}"
        assert len(n) <= 15, n
        return n

    def netns(self, role):
        ns = self.name(role)
        sh("ip", "netns", "add", ns)
        self._undo.append(lambda: sh("ip", "netns", "del", ns, check=False))
        sh("ip", "link", "set", "lo", "up", ns=ns)
        # Quiet namespaces: no IPv6 autoconfiguration chatter in the counters.
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
        sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        return ns

    def veth(self, a, b, ns_b=None):
        """veth pair a<->b in the root namespace, b moved to ns_b if given."""
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        self._undo.append(lambda: sh("ip", "link", "del", a, check=False))
        sh("sysctl", "-qw", f"net.ipv6.conf.{a}.disable_ipv6=1")
        if ns_b:
            sh("ip", "link", "set", b, "netns", ns_b)
            sh("ip", "link", "set", b, "up", ns=ns_b)
        return a, b

    def hvnetd(self, topology):
        d = Hvnetd(str(self.tmp_path), topology)
        self._undo.append(d.stop)
        return d

    def vm(self, tap, ns, cidr, mtu=None):
        """Moves hvnetd's TAP `tap` into namespace `ns` as the VM's NIC and addresses it."""
        sh("ip", "link", "set", tap, "netns", ns)
        if mtu:
            sh("ip", "link", "set", tap, "mtu", mtu, ns=ns)
        sh("ip", "addr", "add", cidr, "dev", tap, ns=ns)
        sh("ip", "link", "set", tap, "up", ns=ns)

    def spawn(self, *cmd, ns=None):
        argv = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def stop():
            if p.poll() is None:
                p.kill()
            p.wait()
        self._undo.append(stop)
        return p

    def teardown(self):
        for undo in reversed(self._undo):
            try:
                undo()
            except Exception:  # keep tearing down the rest
                pass


@pytest.fixture
def lab(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("integration tests need root (namespaces, TAP devices)")
    for tool in ("ip", "ping", "iperf3"):
        assert shutil.which(tool), f"{tool} missing: run tools/install-deps.sh"
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.teardown()


def ping(ns, addr, count=3, size=None, interval="0.2", extra=(), check=True):
    cmd = ["ping", "-n", "-c", count, "-i", interval, "-W", "1"]
    if size is not None:
        cmd += ["-s", size]
    cmd += list(extra) + [addr]
    return sh(*cmd, ns=ns, check=check, timeout=120)


def received(ping_result):
    for line in ping_result.stdout.splitlines():
        if "received" in line:
            return int(line.split(",")[1].split()[0])
    return 0


_CAPTURE = r"""
import json, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
print("ready", flush=True)
frames = []
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        f = s.recv(65535)
    except socket.timeout:
        continue
    frames.append(f[:64].hex())
print(json.dumps(frames), flush=True)
"""


class Capture:
    """Frames seen on interface `ifname` of namespace `ns` for `seconds` (a raw socket sniffer)."""

    def __init__(self, lab, ns, ifname, seconds):
        self.p = lab.spawn("/usr/bin/python3", "-c", _CAPTURE, ifname, seconds, ns=ns)
        assert self.p.stdout.readline().strip() == "ready"

    def frames(self):
        out, _ = self.p.communicate(timeout=60)
        return [bytes.fromhex(h) for h in json.loads(out.strip().splitlines()[-1])]

    def from_mac(self, mac):
        raw = bytes.fromhex(mac.replace(":", ""))
        return [f for f in self.frames() if f[6:12] == raw]
