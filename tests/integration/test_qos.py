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
