"""The web console in a real browser: Debian's chromium, headless, driven by python3-selenium
through chromedriver. hvnetd serves the console on its API port; the tests log in as a user
would, count what it draws against what the API reports, act through it, and watch it follow
changes made elsewhere (xe), counters move under a ping, and a spoofed frame show in the drop
view. A failing test leaves a screenshot under build/console-screenshots/."""
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import ManagedHost, ping, received, sh, wait_until
from console_lab import MACS, browser, click, console_demo, login, text_of, wait_drawn
from pool_lab import PoolLab

pytest.importorskip("selenium")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.environ.get("HVNET_SCREENSHOTS", os.path.join(ROOT, "build", "console-screenshots"))


@pytest.fixture
def page(request, lab, tmp_path):
    """A browser; on a failed test its screenshot goes to build/console-screenshots/."""
    d = browser(f"{tmp_path}/chrome")
    yield d
    try:
        rep = getattr(request.node, "rep_call", None)
        if rep is None or rep.failed:
            os.makedirs(SHOTS, exist_ok=True)
            d.save_screenshot(os.path.join(SHOTS, request.node.name + ".png"))
    finally:
        d.quit()


@pytest.fixture
def demo(lab):
    return console_demo(lab)


def url(host):
    return f"http://127.0.0.1:{host.port}/"


def drawn(d, cls):
    return d.find_elements(By.CSS_SELECTOR, f'#topology [data-class="{cls}"]')


def counter(d, name):
    t = text_of(d, f'#port-counters td[data-counter="{name}"]')
    return int(t) if t and t.isdigit() else None


def test_console_login_draws_what_the_api_reports_and_follows_xe(demo, page):
    host, net, vms = demo
    d = page
    # A wrong password shows XenAPI's error, and no console.
    login(d, url(host), password="not-the-password")
    WebDriverWait(d, 10).until(lambda d: d.find_element(By.ID, "login-error").text)
    assert "SESSION_AUTHENTICATION_FAILED" in d.find_element(By.ID, "login-error").text
    assert not d.find_element(By.ID, "main").is_displayed()

    login(d, url(host))
    wait_drawn(d)
    # As many of each as the API has: counted through the API, never constants.
    for cls, api in (("host", "host"), ("PIF", "PIF"), ("network", "network"), ("VIF", "VIF")):
        want = sorted(host.ok(f"{api}.get_all"))
        WebDriverWait(d, 5).until(lambda d: len(drawn(d, cls)) == len(want))
        assert sorted(e.get_attribute("data-ref") for e in drawn(d, cls)) == want, cls
    # Every VIF and PIF with a network has its line to it.
    links = {(e.get_attribute("data-from"), e.get_attribute("data-to"))
             for e in d.find_elements(By.CSS_SELECTOR, "#topology path.link")}
    for ref, rec in host.ok("VIF.get_all_records").items():
        assert (ref, rec["network"]) in links
    os.makedirs(SHOTS, exist_ok=True)  # what the console looked like, failed or not
    d.save_screenshot(os.path.join(SHOTS, "topology.png"))

    # A network made from the console is there for the API.
    d.find_element(By.ID, "new-network").click()
    d.find_element(By.CSS_SELECTOR, '#dialog [name="name_label"]').send_keys("made-in-console")
    d.find_element(By.ID, "dialog-ok").click()
    wait_until(lambda: host.ok("network.get_by_name_label", "made-in-console"), 5,
               "the console's network")
    made = host.ok("network.get_by_name_label", "made-in-console")[0]
    WebDriverWait(d, 5).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, f'#topology [data-ref="{made}"]'))

    # A network made with xe appears in the open page within a second.
    uuid = host.xe("network-create", "name-label=made-with-xe").stdout.strip()
    shown = time.monotonic()
    ref = host.ok("network.get_by_uuid", uuid)
    WebDriverWait(d, 1.0, poll_frequency=0.05).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, f'#topology [data-ref="{ref}"]'))
    assert time.monotonic() - shown < 1.0

    # An action's error shows XenAPI's code and parameters: destroying a network with VIFs.
    click(d, f'#topology [data-ref="{host.ok("network.get_by_uuid", net)}"]')
    WebDriverWait(d, 5).until(lambda d: d.find_element(By.ID, "details").is_displayed())
    click(d, "#details-actions button")  # a network's one action: Destroy
    d.find_element(By.ID, "dialog-ok").click()
    WebDriverWait(d, 5).until(lambda d: d.find_element(By.ID, "dialog-error").text)
    assert "NETWORK_CONTAINS_VIF" in d.find_element(By.ID, "dialog-error").text
    d.find_element(By.ID, "dialog-cancel").click()
    assert host.ok("network.get_by_uuid", net)  # still there
    # Nothing the page did broke its Content-Security-Policy, and nothing failed to load.
    problems = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert not problems, problems


def test_console_counters_move_with_a_ping_and_a_spoofed_frame_shows_in_drops(demo, page):
    host, net, vms = demo
    d = page
    (vm1, vif1, ns1, tap1), (vm2, vif2, ns2, tap2) = vms
    login(d, url(host))
    wait_drawn(d)
    vif_ref = host.ok("VIF.get_by_uuid", vif1)
    click(d, f'#topology [data-ref="{vif_ref}"]')
    WebDriverWait(d, 10).until(lambda d: counter(d, "rx packets") is not None)
    before = counter(d, "rx packets")
    assert received(ping(ns1, "10.93.0.2", count=10, interval="0.2")) == 10
    WebDriverWait(d, 10).until(lambda d: (counter(d, "rx packets") or 0) >= before + 10)

    # Locked through the console, then a frame with a forged source MAC: it shows in the drop
    # view with its reason and port.
    host.ok("VIF.set_ipv4_allowed", vif_ref, ["10.93.0.1"])
    click(d, "#details-actions button:nth-child(2)")  # a VIF's: Unplug, Locking mode
    Select(d.find_element(By.CSS_SELECTOR, '#dialog [name="mode"]')).select_by_value("locked")
    d.find_element(By.ID, "dialog-ok").click()
    wait_until(lambda: host.ok("VIF.get_locking_mode", vif_ref) == "locked", 5, "locked")
    forged = "00:16:3e:c0:00:99"
    sh("/usr/bin/python3", "-c",
       "import sys\nfrom scapy.all import Ether, IP, ICMP, sendp\n"
       "sendp(Ether(src=sys.argv[2], dst=sys.argv[3]) / IP(src='10.93.0.1', dst='10.93.0.2') /"
       " ICMP(), iface=sys.argv[1], verbose=False, count=3)", tap1, forged, MACS[1], ns=ns1)
    d.find_element(By.CSS_SELECTOR, '.tab[data-view="drops"]').click()
    row = f'#drop-trace tr[data-reason="lock_mac"][data-port="{tap1}"]'
    WebDriverWait(d, 10).until(lambda d: text_of(d, row))
    assert forged in text_of(d, row)
    assert d.find_elements(By.CSS_SELECTOR, '#drop-reasons tr[data-reason="lock_mac"]')
    # The selected VIF's own panel lists its last drops.
    WebDriverWait(d, 10).until(lambda d: "lock_mac" in (text_of(d, "#port-drops") or ""))
    assert forged in text_of(d, "#port-drops")

    # The packet trace of the same frame names the stage and the reason; the VM's own frame to
    # its peer is forwarded to the peer's port.
    d.find_element(By.CSS_SELECTOR, '.tab[data-view="trace"]').click()
    WebDriverWait(d, 10).until(lambda d: len(Select(d.find_element(By.ID, "trace-port")).options) > 0)
    Select(d.find_element(By.ID, "trace-port")).select_by_value(tap1)
    form = d.find_element(By.ID, "trace-form")

    def trace(src, dst, src_ip):
        for name, value in (("src", src), ("dst", dst), ("src_ip", src_ip), ("dst_ip", "10.93.0.2")):
            f = form.find_element(By.NAME, name)
            f.clear()
            f.send_keys(value)
        old = d.find_elements(By.ID, "trace-verdict")
        form.find_element(By.CSS_SELECTOR, "button").click()
        WebDriverWait(d, 5).until(lambda d: d.find_elements(By.ID, "trace-verdict") and
                                  (not old or d.find_elements(By.ID, "trace-verdict")[0] != old[0]))
        return d.find_element(By.ID, "trace-result").text

    text = trace(forged, MACS[1], "10.93.0.1")
    assert "drop (lock_mac)" in text and "locking:" in text
    text = trace(MACS[0], MACS[1], "10.93.0.1")
    assert "forward" in text and f"to {tap2}" in text, text


def test_metrics_and_hvnetctl_stats_move_by_a_counted_burst(demo):
    host, net, vms = demo
    (vm1, vif1, ns1, tap1), (vm2, vif2, ns2, tap2) = vms

    def scrape():
        with urllib.request.urlopen(f"http://127.0.0.1:{host.port}/metrics", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/plain")
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
        return out

    def metric(m, name, port):
        hits = [v for k, v in m.items() if k.startswith(name + "{") and f'port="{port}"' in k]
        assert len(hits) == 1, (name, port)
        return hits[0]

    # To the peer's MAC but not its address: its kernel drops them without a word (a port
    # unreachable would be a frame back), so the burst is all that moves.
    burst = 500
    m0, s0 = scrape(), host.ctl_request({"cmd": "stats"})["value"]
    sh("/usr/bin/python3", "-c",
       "import sys\nfrom scapy.all import Ether, IP, UDP, sendp\n"
       "sendp(Ether(src=sys.argv[2], dst=sys.argv[3]) / IP(src='10.93.0.1', dst='10.93.0.99') /"
       " UDP(dport=9), iface=sys.argv[1], verbose=False, count=int(sys.argv[4]))",
       tap1, MACS[0], MACS[1], str(burst), ns=ns1)
    wait_until(lambda: host.ctl_request({"cmd": "stats"})["value"]["ports"][tap1]["rx_packets"]
               >= s0["ports"][tap1]["rx_packets"] + burst, 10, "the burst counted")
    m1, s1 = scrape(), host.ctl_request({"cmd": "stats"})["value"]
    slack = 5  # frames of the test's own namespaces (ARP for a ping it may still answer)
    for name, port, key in (("hvnet_port_rx_packets_total", tap1, "rx_packets"),
                            ("hvnet_port_tx_packets_total", tap2, "tx_packets")):
        moved_metrics = metric(m1, name, port) - metric(m0, name, port)
        moved_ctl = s1["ports"][port][key] - s0["ports"][port][key]
        assert burst <= moved_metrics <= burst + slack, (name, moved_metrics)
        assert burst <= moved_ctl <= burst + slack, (key, moved_ctl)
    assert burst <= m1["hvnet_forwarded_total"] - m0["hvnet_forwarded_total"] <= burst + slack
    # The API's own calls are counted too.
    assert any(k.startswith('hvnet_api_calls_total{method="VIF.plug"}') for k in m1)


def test_metrics_need_loopback_or_the_token(lab):
    """From another namespace: 401 without the token, the text with it."""
    hostns, peer = lab.netns("m"), lab.netns("q")
    a, b = lab.name("ma"), lab.name("mb")
    sh("ip", "link", "add", a, "type", "veth", "peer", "name", b, ns=hostns)
    sh("ip", "link", "set", b, "netns", peer, ns=hostns)
    for ns, dev, addr in ((hostns, a, "10.97.0.1/24"), (peer, b, "10.97.0.2/24")):
        sh("ip", "addr", "add", addr, "dev", dev, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
    token = os.path.join(str(lab.tmp_path), "metrics-token")
    with open(os.open(token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("s3cret-token\n")
    host = ManagedHost(lab, netns=hostns, plain_listen="0.0.0.0:8091", tls_listen="",
                       extra_args=["--metrics-token-file", token,
                                   "--api-plain-http-beyond-loopback"])

    def get(headers):
        args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://10.97.0.1:8091/metrics"]
        for h in headers:
            args += ["-H", h]
        return sh(*args, ns=peer).stdout.strip()

    assert get([]) == "401"
    assert get(["Authorization: Bearer wrong"]) == "401"
    assert get(["Authorization: Bearer s3cret-token"]) == "200"
    # The console's page itself needs no session (its API calls do).
    page = sh("curl", "-s", "-D", "-", "http://10.97.0.1:8091/", ns=peer).stdout
    assert "Content-Security-Policy: default-src 'none'; script-src 'self'" in page
    assert '<script type="module" src="/ui/app.js">' in page and "<script>" not in page


def test_xe_shows_the_switch_counters_mac_table_drops_and_traces(demo):
    host, net, vms = demo
    (vm1, vif1, ns1, tap1), (vm2, vif2, ns2, tap2) = vms
    assert received(ping(ns1, "10.93.0.2", count=5)) == 5

    def blocks(text):
        out = []
        for chunk in text.strip().split("\n\n"):
            rec = {}
            for line in chunk.strip().splitlines():
                k, _, v = line.partition(": ")
                rec[k.replace("( RO)", "").strip()] = v.strip()
            if rec:
                out.append(rec)
        return out

    ports = {b["port"]: b for b in blocks(host.xe("host-network-stats").stdout) if "port" in b}
    assert int(ports[tap1]["rx-packets"]) >= 5 and int(ports[tap2]["tx-packets"]) >= 5
    assert ports[tap1]["object"] == f"VIF {vif1}"
    table = host.xe("network-mac-table", f"uuid={net}").stdout
    assert f"{MACS[0]} {tap1}" in table and f"{MACS[1]} {tap2}" in table
    trace = host.xe("host-trace-packet", f"vif-uuid={vif1}", f"src={MACS[0]}", f"dst={MACS[1]}",
                    "src-ip=10.93.0.1", "dst-ip=10.93.0.2").stdout
    assert f"to {tap2} (untagged)" in trace and "verdict: forward to 1 port(s)" in trace
    bad = host.xe("host-trace-packet", f"vif-uuid={vif1}", "src=zz", f"dst={MACS[1]}", check=False)
    assert bad.returncode != 0 and "INVALID_VALUE" in bad.stderr and "zz" in bad.stderr
    # A disabled VIF's frames are dropped, and the drop trace says why.
    host.xe("vif-param-set", f"uuid={vif2}", "locking-mode=disabled")
    ping(ns2, "10.93.0.1", count=2, check=False)
    drops = host.xe("host-drop-trace").stdout
    assert any(f" {tap2} lock_disabled {MACS[1]} " in line for line in drops.splitlines()), drops


def test_console_on_a_pool_draws_every_host(lab, page):
    """Two hosts on etcd: the master's console (HTTPS on the management network) draws both
    hosts and every PIF of each, and sends the user to a member for that member's counters."""
    pool = PoolLab(lab, hosts=2, etcd_members=1)
    master = pool.start_host(0, found=True)
    pool.start_host(1)
    pool.join(1)
    pool.reach_from_root()
    d = page
    d.execute_cdp_cmd("Security.setIgnoreCertificateErrors", {"ignore": True})
    login(d, f"https://{pool.addrs[0]}/")
    wait_drawn(d)
    for cls in ("host", "PIF", "network"):
        want = sorted(master.ok(f"{cls}.get_all"))
        WebDriverWait(d, 10).until(lambda d: len(drawn(d, cls)) == len(want))
        assert sorted(e.get_attribute("data-ref") for e in drawn(d, cls)) == want, cls
    assert len(master.ok("host.get_all")) == 2
    member = master.ok("host.get_by_uuid", pool.hosts[1].host_uuid)
    theirs = [p for p, r in master.ok("PIF.get_all_records").items() if r["host"] == member]
    click(d, f'#topology [data-ref="{theirs[0]}"]')
    WebDriverWait(d, 10).until(lambda d: "kept by" in (text_of(d, "#details-counters") or ""))
