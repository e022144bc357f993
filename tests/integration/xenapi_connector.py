"""A XenAPI client that connects the way the best-known web console's connector does:
login (JSON-RPC on /jsonrpc, falling back to XML-RPC on /xmlrpc when the answer is not JSON),
pool.get_all_records, system.listMethods (classes from the *.get_all_records names), a token from
event.inject("pool", pool), every class's get_all_records, then an event.from(classes, token, 60.1)
loop that keeps an object cache. Writes go through Async.<class>.<message>: wait for the task in
the cache, then task.destroy."""
import json
import threading
import time
import urllib.request
import xmlrpc.client


class XenApiError(Exception):
    def __init__(self, description):
        super().__init__(description)
        self.description = description


class Transport:
    def __init__(self, base, kind):
        self.base, self.kind = base, kind
        self.local = threading.local()  # one connection per thread, as a pool of sockets would

    def call(self, method, params, timeout=70):
        if self.kind == "json":
            body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
            req = urllib.request.Request(self.base + "/jsonrpc", data=body.encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=timeout) as r:
                if "application/json" not in r.headers.get("Content-Type", ""):
                    raise TypeError("not JSON")
                reply = json.loads(r.read())
            if reply.get("error"):
                e = reply["error"]
                raise XenApiError([e["message"]] + list(e.get("data") or []))
            return reply["result"]
        proxy = getattr(self.local, "proxy", None)
        if proxy is None:
            proxy = self.local.proxy = xmlrpc.client.ServerProxy(self.base + "/xmlrpc",
                                                                 allow_none=True)
        reply = getattr(proxy, method)(*params)
        if reply["Status"] != "Success":
            raise XenApiError(reply["ErrorDescription"])
        return reply["Value"]


class Connector:
    def __init__(self, base, user, password, prefer="json"):
        self.base, self.user, self.password = base, user, password
        self.transport = Transport(base, prefer)
        self.cache = {}  # lowercase class -> ref -> record
        self.seen = []  # (class, operation, ref) in arrival order
        self.errors = []
        self.lock = threading.Condition()
        self.token = None
        self.stop = False
        self.thread = None

    def call(self, method, *params):
        return self.transport.call(method, [self.session, *params])

    def login(self):
        try:
            self.session = self.transport.call("session.login_with_password",
                                               [self.user, self.password, "1.0", "connector"])
        except TypeError:  # no JSON-RPC here: XML-RPC
            self.transport = Transport(self.base, "xml")
            self.session = self.transport.call("session.login_with_password",
                                               [self.user, self.password, "1.0", "connector"])

    def connect(self):
        self.login()
        pool = self.call("pool.get_all_records")
        methods = self.transport.call("system.listMethods", [])
        self.classes = sorted({m[:-len(".get_all_records")] for m in methods
                               if m.endswith(".get_all_records") and not m.startswith("Async.")})
        self.token = self.call("event.inject", "pool", next(iter(pool)))
        for cls in self.classes:
            self.cache[cls.lower()] = self.call(f"{cls}.get_all_records")
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        while not self.stop:
            try:
                r = self.call("event.from", self.classes, self.token, 60.1)
            except XenApiError as e:
                with self.lock:
                    self.errors.append(e.description)
                    self.lock.notify_all()
                return
            except OSError:
                if self.stop:
                    return
                raise
            with self.lock:
                for ev in r["events"]:
                    objs = self.cache.setdefault(ev["class"], {})
                    if ev["operation"] == "del":
                        objs.pop(ev["ref"], None)
                    else:
                        objs[ev["ref"]] = ev["snapshot"]
                    self.seen.append((ev["class"], ev["operation"], ev["ref"]))
                self.token = r["token"]
                self.lock.notify_all()

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                v = pred()
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
                self.lock.wait(left)

    def call_async(self, method, *params, timeout=10):
        """Async.<method>: the task's result (decoded from its XML-RPC value) or XenApiError."""
        task = self.call(f"Async.{method}", *params)
        rec = self.wait_for(lambda: (lambda t: t if t and t["status"] != "pending" else None)(
            self.cache.get("task", {}).get(task)), timeout, f"task {task}")
        self.call("task.destroy", task)
        if rec["status"] != "success":
            raise XenApiError(rec["error_info"])
        value = xmlrpc.client.loads(
            f"<methodResponse><params><param>{rec['result']}</param></params></methodResponse>")
        return value[0][0]

    def close(self):
        self.stop = True
        try:
            self.call("session.logout")
        except Exception:
            pass
