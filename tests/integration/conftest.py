"""Integration harness: builds hosts out of network namespaces and veth pairs, starts hvnetd on
them, and removes everything it made afterwards, also when a test fails. Needs root.

Every name carries a per-run prefix so parallel or leftover runs cannot collide. Nothing here
addresses anything outside the namespaces the test created."""
import http.client
import itertools
import json
import os
import signal
import shutil
import socket
import subprocess
import time
import uuid

import pytest

HVNETD = os.environ.get("HVNETD", "build/hvnetd")
HVNETCTL = os.environ.get("HVNETCTL", "build/hvnetctl")
RUN_ID = uuid.uuid4().hex[:4]
# The data-plane files run once per PIF backend (ctest sets this); unset = hvnetd's default.
PIF_BACKEND = os.environ.get("HVNET_PIF_BACKEND", "")
BACKEND_ARGS = ["--pif-backend", PIF_BACKEND] if PIF_BACKEND else []
# HVNET_THREADS=N runs every hvnetd with N forwarding threads (ports spread over them).
if os.environ.get("HVNET_THREADS"):
    BACKEND_ARGS += ["--threads", os.environ["HVNET_THREADS"]]
_counter = itertools.count()


def sh(*cmd, check=True, ns=None, timeout=60, capture=True):
    """Runs a command (in namespace `ns` if given); returns CompletedProcess."""
    argv = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    r = subprocess.run(argv, capture_output=capture, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def ctl_request(path, req):
    """One JSON request on an hvnetd control socket (fdb, stats, drops, topology, apply)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall((json.dumps(req) + "\n").encode())
        s.shutdown(socket.SHUT_WR)
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    return json.loads(buf)


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
        self.proc = subprocess.Popen([HVNETD, "--config", self.config, "--ctl", self.ctl_path] + BACKEND_ARGS,
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
        return ctl_request(self.ctl_path, req)

    def apply(self, topology):
        return self.request({"cmd": "apply", "topology": topology})

    def stats(self):
        return self.request({"cmd": "stats"})["value"]

    def fdb(self):
        return self.request({"cmd": "fdb"})["value"]

    def stop(self):
        died = self.proc.poll()
        if died is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if died is not None:  # the daemon must outlive every test that did not stop it
            raise AssertionError(f"hvnetd died during the test (exit {died}): {self.read_log()[-2000:]}")


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

    def hvnetd(self, topology, instance=None):
        """An hvnetd on `topology`; give each of several in one test an `instance` name."""
        workdir = self.tmp_path / instance if instance else self.tmp_path
        workdir.mkdir(exist_ok=True)
        d = Hvnetd(str(workdir), topology)
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


def mac_of(ns, dev):
    """The MAC address of interface `dev` in namespace `ns`, as aa:bb:..."""
    return sh("cat", f"/sys/class/net/{dev}/address", ns=ns).stdout.strip()


def received(ping_result):
    for line in ping_result.stdout.splitlines():
        if "received" in line:
            return int(line.split(",")[1].split()[0])
    return 0


# A VLAN tag the kernel lifted into metadata (PACKET_AUXDATA) is put back where it was on the wire,
# so a priority-tagged frame (VID 0) is told from an untagged one.
_CAPTURE = r"""
import json, socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(263, 8, 1)  # SOL_PACKET, PACKET_AUXDATA
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
print("ready", flush=True)
frames = []
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        f, anc, _, _ = s.recvmsg(65535, 64)
    except socket.timeout:
        continue
    for level, kind, data in anc:
        if level == 263 and kind == 8 and len(data) >= 20:
            status, _, _, _, _, tci, tpid = struct.unpack_from("=IIIHHHH", data)
            if status & 0x10:  # TP_STATUS_VLAN_VALID
                tpid = tpid if status & 0x40 else 0x8100
                f = f[:12] + struct.pack("!HH", tpid, tci) + f[12:]
    frames.append(f[:256].hex())
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


XE = os.environ.get("XE", "build/xe")
CLASSES = ("host", "network", "PIF", "VIF", "VLAN", "VM", "network_sriov")


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class ManagedHost:
    """hvnetd in network-manager mode: SQLite store, XenAPI on TCP (loopback) and a Unix socket.
    Only NICs named with this lab's prefix become PIFs."""

    PASSWORD = "hvnet-test-pw"

    def __init__(self, lab, netns=None, confirm_timeout=30, extra_args=(), preexec=None,
                 name="host", tls_listen=None, plain_listen=None):
        """netns: run hvnetd inside this namespace (and its own UTS namespace), as a host of its
        own whose addresses, routes and host name the tests may change freely. name: its
        directory under the test's (several hosts per test). tls_listen / plain_listen: HOST:PORT
        of its HTTPS / HTTP API ("" = off; default: loopback on free ports)."""
        self.lab = lab
        self.netns = netns
        self.confirm_timeout = confirm_timeout
        self.extra_args, self.preexec = list(extra_args), preexec
        self.dir = os.path.join(str(lab.tmp_path), name)
        os.makedirs(self.dir, exist_ok=True)
        self.db = os.path.join(self.dir, "hvnet.db")
        self.sock = os.path.join(self.dir, "xapi.sock")
        self.ctl = os.path.join(self.dir, "hvnetd.ctl")
        self.pwfile = os.path.join(self.dir, "password")
        with open(os.open(self.pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(self.PASSWORD + "\n")
        self.port, self.tls_port = free_tcp_port(), free_tcp_port()
        self.plain_listen = f"127.0.0.1:{self.port}" if plain_listen is None else plain_listen
        self.tls_listen = f"127.0.0.1:{self.tls_port}" if tls_listen is None else tls_listen
        self.proc = None
        lab._undo.append(self.remove_taps)  # runs after stop: TAPs outlive hvnetd by design
        self.start()
        lab._undo.append(self.stop)

    def start(self):
        self.log = open(os.path.join(self.dir, "hvnetd.log"), "a")
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        prefix = ["ip", "netns", "exec", self.netns, "unshare", "--uts"] if self.netns else []
        self.proc = subprocess.Popen(
            prefix + [HVNETD, "--db", self.db, "--api-socket", self.sock,
                      "--api-listen", self.plain_listen, "--password-file", self.pwfile,
                      "--api-listen-tls", self.tls_listen,
                      "--pif-prefix", self.lab.name(""), "--ctl", self.ctl,
                      "--state-dir", os.path.join(self.dir, "state"),
                      "--resolv-conf", self.resolv_conf,
                      "--mgmt-confirm-timeout", str(self.confirm_timeout)] + BACKEND_ARGS
            + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=self.preexec)
        wait_until(self._ready, 15, "hvnetd API")

    def keeper_pids(self):
        """hvnet-tapkeeper processes serving this host (they outlive hvnetd by design)."""
        sock = os.path.join(self.dir, "tapkeeper.sock").encode()
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if len(argv) > 1 and argv[0].endswith(b"hvnet-tapkeeper") and argv[1] == sock:
                pids.append(int(pid))
        return pids

    def remove_taps(self):
        """VIF TAPs are persistent (they belong to the VMs), and so is the keeper holding their
        carrier: stop it, then remove the TAPs left in the root namespace (those moved into a
        test's namespaces go with it)."""
        for pid in self.keeper_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        r = sh("ip", "-j", "link", "show", "type", "tun", check=False)
        for link in json.loads(r.stdout or "[]"):
            if link["ifname"].startswith("vif") or link["ifname"].startswith(self.lab.name("")):
                sh("ip", "link", "del", link["ifname"], check=False)

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"hvnetd exited with {self.proc.returncode}")
        try:
            # hvnetd opens the Unix socket after its TCP listeners (some may stay closed:
            # https-only), so an answer there means ready.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(self.sock)
                return True
        except OSError:
            return False

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig:
                self.proc.send_signal(sig)
            else:
                self.proc.terminate()
            self.proc.wait(15)
        self.log.close()

    # --- clients ---------------------------------------------------------------------------
    def xmlrpc(self):
        import xmlrpc.client
        return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{self.port}", allow_none=True)

    def jsonrpc(self, method, params, v2=False, raw=None):
        import urllib.request
        body = raw if raw is not None else json.dumps(
            dict({"method": method, "params": params, "id": 1}, **({"jsonrpc": "2.0"} if v2 else {})))
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/jsonrpc", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def session(self):
        r = self.jsonrpc("session.login_with_password", ["root", self.PASSWORD])
        assert r["error"] is None, r
        return r["result"]

    def call(self, method, *params):
        """JSON-RPC v1 call with a fresh session: returns (result, error)."""
        r = self.jsonrpc(method, [self.session(), *params])
        return r["result"], r["error"]

    def ok(self, method, *params):
        result, error = self.call(method, *params)
        assert error is None, f"{method}{params}: {error}"
        return result

    def pif_on_veth(self, lab, role):
        """A veth in the root namespace, scanned: returns (its PIF ref, device name)."""
        dev, peer = lab.name(role), lab.name(role.upper())
        lab.veth(dev, peer)
        self.ok("PIF.scan", self.ok("host.get_all")[0])
        return [p for p, r in self.ok("PIF.get_all_records").items() if r["device"] == dev][0], dev

    def state(self):
        """Every object of every class: to check that a refused call changed nothing."""
        return {c: self.ok(f"{c}.get_all_records") for c in CLASSES}

    def ctl_request(self, req):
        return ctl_request(self.ctl, req)

    def rpc(self, method, *params, session=True):
        """JSON-RPC on the Unix socket (reachable wherever hvnetd runs); returns (result, error)."""
        if session:
            s, err = self.rpc("session.login_with_password", "root", self.PASSWORD, session=False)
            assert err is None, err
            params = (s,) + params
        c = UnixHTTPConnection(self.sock)
        c.request("POST", "/jsonrpc", json.dumps({"jsonrpc": "2.0", "method": method,
                                                  "params": list(params), "id": 1}),
                  {"Content-Type": "application/json"})
        r = json.loads(c.getresponse().read())
        c.close()
        return r.get("result"), r.get("error")

    def vm_on(self, network, role, cidr, mac=None, name=None):
        """A VM with one VIF on `network` (xe vm-create, vif-create, vif-plug), its TAP moved into
        a new namespace `role` and addressed `cidr`. Returns (vm, vif, namespace, tap)."""
        vm = self.xe("vm-create", f"name-label={name or role}").stdout.strip()
        args = [f"vm-uuid={vm}", f"network-uuid={network}", "device=0"] + ([f"mac={mac}"] if mac else [])
        vif = self.xe("vif-create", *args).stdout.strip()
        self.xe("vif-plug", f"uuid={vif}")
        domid = self.xe("vm-param-get", f"uuid={vm}", "param-name=dom-id").stdout.strip()
        ns, tap = self.lab.netns(role), f"vif{domid}.0"
        self.lab.vm(tap, ns, cidr)
        return vm, vif, ns, tap

    def xe(self, *args, check=True):
        r = subprocess.run([XE, *map(str, args)], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, HVNET_XAPI_SOCKET=self.sock))
        if check and r.returncode != 0:
            raise AssertionError(f"xe {' '.join(map(str, args))}: {r.returncode} {r.stderr}")
        return r


def host_with_physical_peers(lab, **host_args):
    """hvnetd in a host namespace 'n' of its own with PIFs e0/e1, plugged, whose peers P0
    (10.95.0.254/24) and P1 (10.96.0.254/24) live in a 'physical' namespace 'p'. Returns
    (host, its namespace, the physical namespace, [PIF uuids])."""
    hostns, phys = lab.netns("n"), lab.netns("p")
    for i in (0, 1):
        e, p = lab.name(f"e{i}"), lab.name(f"P{i}")
        sh("ip", "link", "add", e, "type", "veth", "peer", "name", p, ns=hostns)
        sh("ip", "link", "set", p, "netns", phys, ns=hostns)
        sh("ip", "addr", "add", f"10.9{5 + i}.0.254/24", "dev", p, ns=phys)
        sh("ip", "link", "set", p, "up", ns=phys)
    host = ManagedHost(lab, netns=hostns, **host_args)
    host.xe("pif-scan")
    pifs = [host.xe("pif-list", f"device={lab.name(f'e{i}')}", "--minimal").stdout.strip()
            for i in (0, 1)]
    for p in pifs:
        host.xe("pif-plug", f"uuid={p}")
    return host, hostns, phys, pifs


@pytest.fixture
def host(lab):
    return ManagedHost(lab)


def physical_vlan_switch(lab, pif, vlans):
    """A physical network for a PIF: veth `pif` (root namespace, for hvnet) whose other end is a
    trunk port of a VLAN-aware switch in its own namespace, and a physical host namespace with one
    NIC per VLAN on the switch's access ports, addressed as vlans = {vid: "addr/len"}.

    This kernel has neither 802.1Q sub-interfaces nor bridge VLAN filtering, so the switch is Open
    vSwitch's userspace datapath (Debian's package), an independent 802.1Q implementation.
    Returns (switch_ns, host_ns, ovs, {vid: host_nic})."""
    from ovs import Ovs
    sw_pif = pif[:-1] + pif[-1].swapcase() if pif[-1].isalpha() else pif + "X"
    phys, host = lab.netns("s"), lab.netns("h")
    lab.veth(pif, sw_pif, phys)
    ovs = Ovs(str(lab.tmp_path), netns=phys)
    lab._undo.append(ovs.stop)
    ovs.vsctl("add-br", "sw0", "--", "set", "bridge", "sw0", "datapath_type=netdev")
    trunks = ",".join(str(v) for v in vlans)
    ovs.vsctl("add-port", "sw0", sw_pif, "--", "set", "port", sw_pif, f"trunks={trunks}")
    # OVS's AF_PACKET ports do not handle checksum offload: turn it off on its side only.
    sh("ethtool", "-K", sw_pif, "tx", "off", ns=phys, check=False)
    nics = {}
    for i, (vid, addr) in enumerate(vlans.items()):
        sw_end, host_end = lab.name(f"S{i}"), lab.name(f"H{i}")
        sh("ip", "link", "add", sw_end, "type", "veth", "peer", "name", host_end, ns=phys)
        sh("ip", "link", "set", host_end, "netns", host, ns=phys)
        sh("ip", "link", "set", sw_end, "up", ns=phys)
        ovs.vsctl("add-port", "sw0", sw_end, "--", "set", "port", sw_end, f"tag={vid}")
        sh("ethtool", "-K", sw_end, "tx", "off", ns=phys, check=False)
        sh("ip", "addr", "add", addr, "dev", host_end, ns=host)
        sh("ip", "link", "set", host_end, "up", ns=host)
        nics[vid] = host_end
    return phys, host, ovs, nics


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item (rep_setup, rep_call), so that fixtures can
    tell in their teardown whether the test failed (the console's screenshots)."""
    outcome = yield
    setattr(item, "rep_" + call.when, outcome.get_result())
