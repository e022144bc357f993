"""Open vSwitch (Debian's package) run by hand with the userspace (netdev) datapath, inside one
network namespace and with every file under a private directory, so tests and benchmarks can use
it as a physical switch, an LACP partner or a performance reference. No kernel module needed."""
import os
import subprocess
import time


class Ovs:
    def __init__(self, workdir, netns=None):
        self.dir = os.path.join(workdir, "ovs")
        os.makedirs(self.dir, exist_ok=True)
        self.netns = netns
        self.db_sock = os.path.join(self.dir, "db.sock")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir, OVS_DBDIR=self.dir,
                        OVS_SYSCONFDIR=self.dir)
        db = os.path.join(self.dir, "conf.db")
        subprocess.run(["ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema"],
                       check=True, env=self.env, capture_output=True)
        prefix = ["ip", "netns", "exec", netns] if netns else []
        self.procs = []
        self.procs.append(subprocess.Popen(
            prefix + ["ovsdb-server", db, f"--remote=punix:{self.db_sock}",
                      f"--unixctl={self.dir}/ovsdb-server.ctl",
                      f"--log-file={self.dir}/ovsdb-server.log", "--pidfile=" + self.dir + "/ovsdb.pid"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._wait(lambda: os.path.exists(self.db_sock), "ovsdb-server socket")
        self.vsctl("--no-wait", "init")
        self.procs.append(subprocess.Popen(
            prefix + ["ovs-vswitchd", f"unix:{self.db_sock}", f"--unixctl={self.dir}/vswitchd.ctl",
                      f"--log-file={self.dir}/ovs-vswitchd.log", "--pidfile=" + self.dir + "/vswitchd.pid"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._wait(lambda: os.path.exists(f"{self.dir}/vswitchd.ctl"), "ovs-vswitchd")

    def _wait(self, pred, what, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            for p in self.procs:
                if p.poll() is not None:
                    raise AssertionError(f"{what}: OVS process exited ({p.returncode}), see {self.dir}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def vsctl(self, *args):
        r = subprocess.run(["ovs-vsctl", f"--db=unix:{self.db_sock}", "--timeout=20", *map(str, args)],
                           env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"ovs-vsctl {' '.join(map(str, args))}: {r.stderr}")
        return r.stdout

    def appctl(self, *args):
        r = subprocess.run(["ovs-appctl", f"--target={self.dir}/vswitchd.ctl", *map(str, args)],
                           env=self.env, capture_output=True, text=True)
        return r.stdout

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
