"""A pool of hosts for tests: each host a namespace with hvnetd, an etcd member on its management
address and "physical" NICs into one physical switch (a Linux bridge in a namespace of its own:
it passes 802.1Q frames as they come, as an unmanaged switch does). etcd runs with TLS and
client-certificate authentication from a CA the test makes; hvnetd alone holds a client identity.

  switch ns:  bridge data (eth0 of every host), bridge bond (eth1, eth2), bridge mgmt
  host ns i:  mgmt0 10.77.<run>.<i>/24 (etcd, HTTPS API on :443), eth0, eth1, eth2 (PIFs)
Everything goes with the lab's teardown, also when a test fails."""
import os
import subprocess

from conftest import ManagedHost, sh, wait_until

ETCD = "/usr/bin/etcd"


def make_certs(d, addrs):
    """A CA, etcd's server certificate for `addrs` (peers too) and hvnetd's client certificate."""
    os.makedirs(d, exist_ok=True)
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=d)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=pool test CA")
    san = ",".join(f"IP:{a}" for a in addrs) + ",IP:127.0.0.1"
    for name, ext in (("server", f"subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(ext + "\n")
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=hvnet {name}")
        run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o600)
    return {k: os.path.join(d, f) for k, f in
            (("ca", "ca.pem"), ("server", "server.pem"), ("server_key", "server.key"),
             ("client", "client.pem"), ("client_key", "client.key"))}


class PoolHost(ManagedHost):
    """hvnetd in namespace `ns`, its API on the Unix socket and on HTTPS at its management address."""

    def __init__(self, lab, ns, name, addr, extra_args=()):
        self.addr = addr
        super().__init__(lab, netns=ns, name=name, tls_listen=f"{addr}:443", plain_listen="",
                         extra_args=list(extra_args) + ["--pam-service", ""])

    def ok(self, method, *params):
        result, error = self.rpc(method, *params)
        assert error is None, f"{method}{params}: {error}"
        return result

    def call(self, method, *params):
        return self.rpc(method, *params)

    def uuid(self, cls, ref):
        return self.ok(f"{cls}.get_uuid", ref)


class PoolLab:
    def __init__(self, lab, hosts=3, etcd_members=3):
        self.lab = lab
        self.sw = lab.netns("sw")
        self.subnet = f"10.77.{lab.n % 250}"
        for br in ("data", "bond", "mgmt"):
            sh("ip", "link", "add", br, "type", "bridge", ns=self.sw)
            sh("ip", "link", "set", br, "up", ns=self.sw)
        self.ns, self.addrs = [], []
        self.prefix = lab.name("")
        for i in range(hosts):
            ns = lab.netns(f"n{i}")
            self.ns.append(ns)
            self.addrs.append(f"{self.subnet}.{i + 1}")
            for j, (nic, br) in enumerate((("mgmt0", "mgmt"), (self.prefix + "e0", "data"),
                                           (self.prefix + "e1", "bond"), (self.prefix + "e2", "bond"))):
                sw_end = lab.name(f"{i}{j}s")
                sh("ip", "link", "add", sw_end, "type", "veth", "peer", "name", "tmp" + sw_end,
                   ns=self.sw)
                sh("ip", "link", "set", "tmp" + sw_end, "netns", ns, ns=self.sw)
                sh("ip", "link", "set", "tmp" + sw_end, "name", nic, ns=ns)
                sh("ip", "link", "set", sw_end, "master", br, ns=self.sw)
                sh("ip", "link", "set", sw_end, "up", ns=self.sw)
                # The bridge hands 802.1Q tags to veth as metadata (tx VLAN offload), which a
                # native XDP program on the far end never sees: keep them in the frames.
                sh("ethtool", "-K", sw_end, "txvlan", "off", "rxvlan", "off", ns=self.sw, check=False)
                sh("ip", "link", "set", nic, "up", ns=ns)
            sh("ip", "addr", "add", f"{self.addrs[i]}/24", "dev", "mgmt0", ns=ns)
        self.certs = make_certs(os.path.join(str(lab.tmp_path), "pki"), self.addrs)
        self.etcd = [None] * etcd_members
        cluster = ",".join(f"m{i}=https://{self.addrs[i]}:2380" for i in range(etcd_members))
        self.cluster = cluster
        for i in range(etcd_members):
            self.start_etcd(i, new=True)
        self.endpoints = ",".join(f"https://{self.addrs[i]}:2379" for i in range(etcd_members))
        wait_until(self.etcd_healthy, 30, "etcd cluster")
        self.hosts = [None] * hosts

    def start_etcd(self, i, new=False):
        c = self.certs
        d = os.path.join(str(self.lab.tmp_path), f"etcd{i}")
        a = self.addrs[i]
        log = open(os.path.join(str(self.lab.tmp_path), f"etcd{i}.log"), "a")
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.ns[i], ETCD, "--name", f"m{i}", "--data-dir", d,
             "--listen-client-urls", f"https://{a}:2379", "--advertise-client-urls", f"https://{a}:2379",
             "--listen-peer-urls", f"https://{a}:2380", "--initial-advertise-peer-urls", f"https://{a}:2380",
             "--initial-cluster", self.cluster, "--initial-cluster-state", "new",
             "--initial-cluster-token", self.lab.name("tok"),
             "--client-cert-auth", "--trusted-ca-file", c["ca"], "--cert-file", c["server"],
             "--key-file", c["server_key"], "--peer-client-cert-auth", "--peer-trusted-ca-file", c["ca"],
             "--peer-cert-file", c["server"], "--peer-key-file", c["server_key"],
             "--max-txn-ops", "4096", "--heartbeat-interval", "100", "--election-timeout", "1000"],
            stdout=log, stderr=subprocess.STDOUT)
        self.etcd[i] = p

        def stop(p=p):
            if p.poll() is None:
                p.kill()
            p.wait()
        self.lab._undo.append(stop)

    def kill_etcd(self, i):
        self.etcd[i].kill()
        self.etcd[i].wait()

    def etcd_healthy(self):
        c = self.certs
        r = subprocess.run(["ip", "netns", "exec", self.ns[0], "/usr/bin/etcdctl",
                            "--endpoints", self.endpoints, "--cacert", c["ca"], "--cert", c["client"],
                            "--key", c["client_key"], "endpoint", "health"],
                           capture_output=True, text=True, env=dict(os.environ, ETCDCTL_API="3"))
        return r.returncode == 0

    def start_host(self, i, found=False, extra=()):
        extra = list(extra)
        if found:
            c = self.certs
            extra += ["--etcd-endpoints", self.endpoints, "--etcd-ca", c["ca"], "--etcd-cert",
                     c["client"], "--etcd-key", c["client_key"]]
        h = PoolHost(self.lab, self.ns[i], f"host{i}", self.addrs[i], extra)
        h.host_uuid = h.xe("host-list", "--minimal").stdout.strip().split(",")[0] if found else None
        if not found:
            h.host_uuid = h.xe("host-list", "--minimal").stdout.strip()
        self.hosts[i] = h
        return h

    def join(self, i, master=0):
        h = self.hosts[i]
        r = h.xe("pool-join", f"master-address={self.addrs[master]}", "master-username=root",
                 f"master-password={ManagedHost.PASSWORD}")
        return r.stdout

    def reach_from_root(self):
        """Puts this (the root) namespace on the management network as .250, so that a browser
        here reaches the hosts' HTTPS APIs."""
        me, sw_end = self.lab.name("rm"), self.lab.name("rs")
        sh("ip", "link", "add", me, "type", "veth", "peer", "name", sw_end)
        self.lab._undo.append(lambda: sh("ip", "link", "del", me, check=False))
        sh("ip", "link", "set", sw_end, "netns", self.sw)
        sh("ip", "link", "set", sw_end, "master", "mgmt", ns=self.sw)
        sh("ip", "link", "set", sw_end, "up", ns=self.sw)
        sh("ip", "addr", "add", f"{self.subnet}.250/24", "dev", me)
        sh("ip", "link", "set", me, "up")

    def hosts_seen_by(self, i):
        return set(self.hosts[i].xe("host-list", "--minimal").stdout.strip().split(","))
