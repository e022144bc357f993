"""VIF transmit rate limit: qos_algorithm_type=ratelimit, qos_algorithm_params:kbps in kilobytes
per second (XenServer's unit). iperf3 TCP from the VM measures the limit; removing it lifts it."""
import json

from conftest import sh, wait_until


def iperf_mbit(lab, client_ns, server_ns, server_ip, secs=5):
    server = lab.spawn("iperf3", "-s", "-1", "-B", server_ip, ns=server_ns)
    wait_until(lambda: f"{server_ip}:5201" in sh("ss", "-ltn", ns=server_ns).stdout, 10, "iperf3 server")
    r = sh("iperf3", "-c", server_ip, "-t", secs, "-J", ns=client_ns, timeout=120)
    server.wait(10)
    return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e6


def test_ratelimit_holds_tcp_to_the_limit_and_can_be_lifted(host, lab):
    net = host.xe("network-create", "name-label=qos").stdout.strip()
    vms = [host.vm_on(net, f"q{i}", f"10.92.0.{i}/24") for i in (1, 2)]
    vifs, nss = [v[1] for v in vms], [v[2] for v in vms]
    host.xe("vif-param-set", f"uuid={vifs[0]}", "qos_algorithm_type=ratelimit",
            "qos_algorithm_params:kbps=1000")
    limited = iperf_mbit(lab, nss[0], nss[1], "10.92.0.2")
    print(f"limited to 1000 kB/s (8 Mbit/s): measured {limited:.2f} Mbit/s")
    assert 7.2 <= limited <= 8.8, limited
    # Receive is not limited: the other direction runs free.
    reverse = iperf_mbit(lab, nss[1], nss[0], "10.92.0.1", secs=2)
    assert reverse > 80, reverse
    host.xe("vif-param-remove", f"uuid={vifs[0]}", "param-name=qos_algorithm_params", "param-key=kbps")
    free = iperf_mbit(lab, nss[0], nss[1], "10.92.0.2", secs=2)
    print(f"limit removed: {free:.0f} Mbit/s")
    assert free > 80, free


def iperf_intervals(lab, client_ns, server_ns, server_ip, secs):
    """Bytes received per second of an iperf3 TCP run, as the server counted them."""
    server = lab.spawn("iperf3", "-s", "-1", "-B", server_ip, "-J", ns=server_ns)
    wait_until(lambda: f"{server_ip}:5201" in sh("ss", "-ltn", ns=server_ns).stdout, 10, "iperf3 server")
    sh("iperf3", "-c", server_ip, "-t", secs, ns=client_ns, timeout=120)
    out, _ = server.communicate(timeout=30)
    return [i["sum"]["bytes"] for i in json.loads(out)["intervals"]]


def test_network_shaping_holds_every_vif_to_its_average_after_a_burst_at_peak(host, lab):
    """Traffic shaping on the network (vSphere's average, peak and burst): after idling, a VIF
    sends its burst at up to the peak rate, then settles at the average, within 10%."""
    net = host.xe("network-create", "name-label=shaped").stdout.strip()
    bad = host.xe("network-param-set", f"uuid={net}", "shaping-average=2000", "shaping-peak=1000",
                  check=False)
    assert bad.returncode != 0 and "INVALID_VALUE" in bad.stderr and "below average" in bad.stderr
    host.xe("network-param-set", f"uuid={net}", "shaping-peak=0", "shaping-average=1000",
            "shaping-peak=3000", "shaping-burst=1000")
    vms = [host.vm_on(net, f"s{i}", f"10.93.0.{i}/24") for i in (1, 2)]
    nss = [v[2] for v in vms]
    wait_until(lambda: sh("ping", "-c", "1", "-W", "1", "10.93.0.2", ns=nss[0], check=False).returncode == 0,
               20, "the VMs reach each other")
    per_s = iperf_intervals(lab, nss[0], nss[1], "10.93.0.2", 6)
    print("kB per second:", [b // 1000 for b in per_s])
    avg, burst, peak = 1000e3, 1000e3, 3000e3
    # The first second spends the burst at up to the peak: more than the average, and no more
    # than a second of the average plus the burst.
    assert 1.3 * avg < per_s[0] <= (avg + burst) * 1.15, per_s
    assert per_s[0] <= peak * 1.1
    steady = sum(per_s[2:6]) / 4
    assert 0.9 * avg <= steady <= 1.1 * avg, per_s
    # Both VIFs are shaped: the other direction too.
    back = iperf_intervals(lab, nss[1], nss[0], "10.93.0.1", 4)
    assert 0.9 * avg <= sum(back[2:4]) / 2 <= 1.1 * avg, back
    # Shaping off: free again.
    host.xe("network-param-set", f"uuid={net}", "shaping-average=0")
    free = iperf_mbit(lab, nss[0], nss[1], "10.93.0.2", secs=2)
    assert free > 80, free
