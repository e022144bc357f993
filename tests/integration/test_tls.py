"""The API over HTTPS: the self-signed identity hvnetd makes at first start, TLS 1.2+ only,
https-only closing and re-opening plain HTTP, a certificate installed with no restart, and xe over
TLS (trust on first use, then a CA file)."""
import json
import os
import socket
import ssl
import subprocess

import pytest

from conftest import HVNETD, XE, free_tcp_port, sh, wait_until


def login_over_https(host, context, server_hostname="localhost"):
    """session.login_with_password over HTTPS with this client context: the session ref."""
    body = json.dumps({"jsonrpc": "2.0", "method": "session.login_with_password",
                       "params": ["root", host.PASSWORD], "id": 1}).encode()
    with socket.create_connection(("127.0.0.1", host.tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_hostname) as s:
            s.sendall(b"POST /jsonrpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                      b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
    return json.loads(reply.split(b"\r\n\r\n", 1)[1])["result"]


def served_certificate(host):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", host.tls_port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return ssl.DER_cert_to_PEM_cert(s.getpeercert(binary_form=True))


def plain_http_open(host):
    try:
        socket.create_connection(("127.0.0.1", host.port), timeout=2).close()
        return True
    except OSError:
        return False


def test_generated_certificate_pinned_works_and_unpinned_fails(host):
    cert = os.path.join(host.dir, "api-tls.pem")
    key = os.path.join(host.dir, "api-tls.key")
    assert os.stat(key).st_mode & 0o777 == 0o600
    text = sh("openssl", "x509", "-in", cert, "-noout", "-ext", "subjectAltName").stdout
    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text, text
    pinned = ssl.create_default_context(cafile=cert)
    assert login_over_https(host, pinned).startswith("OpaqueRef:")
    with pytest.raises(ssl.SSLCertVerificationError):
        login_over_https(host, ssl.create_default_context())


def test_old_protocols_get_the_servers_protocol_alert(host):
    target = f"127.0.0.1:{host.tls_port}"
    old = subprocess.run(["openssl", "s_client", "-connect", target, "-tls1_1", "-cipher",
                          "DEFAULT@SECLEVEL=0"], input="", capture_output=True, text=True,
                         timeout=30)
    assert old.returncode != 0
    assert "alert protocol version" in old.stdout + old.stderr, old.stdout + old.stderr
    # The same client at TLS 1.2 connects: the refusal was the server's, for the protocol.
    ok = subprocess.run(["openssl", "s_client", "-connect", target, "-tls1_2", "-cipher",
                         "DEFAULT@SECLEVEL=0"], input="", capture_output=True, text=True,
                        timeout=30)
    assert "Protocol  : TLSv1.2" in ok.stdout, ok.stdout + ok.stderr
    weak = subprocess.run(["openssl", "s_client", "-connect", target, "-tls1_2", "-cipher",
                           "AES128-SHA:DES-CBC3-SHA@SECLEVEL=0"], input="", capture_output=True,
                          text=True, timeout=30)
    assert weak.returncode != 0  # no cipher without forward secrecy


def test_https_only_closes_plain_http_and_reopening_works(host):
    h = host.xe("host-list", "--minimal").stdout.strip()
    assert plain_http_open(host)
    host.xe("host-param-set", f"uuid={h}", "https-only=true")
    assert host.xe("host-param-get", f"uuid={h}", "param-name=https-only").stdout.strip() == "true"
    assert not plain_http_open(host)
    pinned = ssl.create_default_context(cafile=os.path.join(host.dir, "api-tls.pem"))
    assert login_over_https(host, pinned).startswith("OpaqueRef:")
    # It is the host's setting: it holds across a restart.
    host.stop()
    host.start()
    assert not plain_http_open(host)
    host.xe("host-param-set", f"uuid={h}", "https-only=false")
    assert plain_http_open(host)
    assert host.session().startswith("OpaqueRef:")


def make_pair(tmp_path, name):
    key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
       str(cert), "-days", "30", "-subj", "/CN=localhost",
       "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    return key, cert


def test_installed_certificate_is_served_without_a_restart_and_xe_trusts_on_first_use(host, tmp_path):
    known = tmp_path / "known_hosts"
    env = dict(os.environ, HVNET_XE_KNOWN_HOSTS=str(known))
    xe_tls = [XE, "-s", "127.0.0.1", "-p", str(host.tls_port), "-u", "root", "-pw", host.PASSWORD]
    first = subprocess.run(xe_tls + ["host-list", "--minimal"], capture_output=True, text=True,
                           env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "Trusting the certificate" in first.stderr
    assert known.read_text().split()[0] == f"127.0.0.1:{host.tls_port}"
    again = subprocess.run(xe_tls + ["host-list", "--minimal"], capture_output=True, text=True,
                           env=env, timeout=60)
    assert again.returncode == 0 and "Trusting" not in again.stderr

    pid = host.proc.pid
    key, cert = make_pair(tmp_path, "new")
    other_key, _ = make_pair(tmp_path, "other")
    r = host.xe("host-server-certificate-install", f"certificate={cert}", f"private-key={other_key}",
                check=False)
    assert r.returncode == 1 and "SERVER_CERTIFICATE_KEY_MISMATCH" in r.stderr
    host.xe("host-server-certificate-install", f"certificate={cert}", f"private-key={key}")
    wait_until(lambda: served_certificate(host).strip() == cert.read_text().strip(), 5,
               "the new certificate served")
    assert host.proc.pid == pid and host.proc.poll() is None
    # xe notices the host's certificate changed, and trusts the new one through a CA file.
    changed = subprocess.run(xe_tls + ["host-list", "--minimal"], capture_output=True, text=True,
                             env=env, timeout=60)
    assert changed.returncode == 1 and "CERTIFICATE_MISMATCH" in changed.stderr
    with_ca = subprocess.run(xe_tls + ["--cafile", str(cert), "host-list", "--minimal"],
                             capture_output=True, text=True, env=env, timeout=60)
    assert with_ca.returncode == 0, with_ca.stderr
    # --nossl is plain HTTP, on the HTTP port.
    plain = subprocess.run([XE, "--nossl", "-s", "127.0.0.1", "-p", str(host.port), "-u", "root",
                            "-pw", host.PASSWORD, "host-list", "--minimal"], capture_output=True,
                           text=True, env=env, timeout=60)
    assert plain.returncode == 0, plain.stderr


def test_plain_http_beyond_loopback_is_refused_unless_forced(tmp_path):
    base = [HVNETD, "--db", str(tmp_path / "db"), "--api-socket", str(tmp_path / "sock"),
            "--ctl", str(tmp_path / "ctl"), "--state-dir", str(tmp_path / "state"),
            "--api-listen-tls", "", "--tap-keeper", "", "--pif-prefix", "none-such",
            "--api-listen", f"0.0.0.0:{free_tcp_port()}"]
    r = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "in clear" in r.stdout + r.stderr and "--api-plain-http-beyond-loopback" in r.stdout + r.stderr


def test_audit_log_records_writes_and_logins_with_subject_origin_and_outcome(host, tmp_path):
    import xmlrpc.client
    net = host.xe("network-create", "name-label=audited").stdout.strip()
    host.xe("network-list")  # a read: not recorded
    x = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{host.port}")
    assert x.session.login_with_password("root", "not-the-password")["Status"] == "Failure"
    out = tmp_path / "audit.txt"
    host.xe("audit-log-get", f"filename={out}")
    lines = [json.loads(l) for l in out.read_text().splitlines()]
    created = [l for l in lines if l["call"] == "network.create"]
    assert created and created[-1]["result"] == "success" and created[-1]["subject"] == "root"
    assert created[-1]["origin"] == "local"
    assert created[-1]["args"][0]["name_label"] == "audited"
    logins = [l for l in lines if l["call"] == "session.login_with_password" and l["origin"] == "127.0.0.1"]
    assert logins and logins[-1]["result"] == "failure" and logins[-1]["subject"] == "root"
    assert logins[-1]["error"][0] == "SESSION_AUTHENTICATION_FAILED"
    assert "not-the-password" not in out.read_text()
    assert not [l for l in lines if l["call"] in ("network.get_all_records", "network.get_all")]
    # A write refused by the model is there with its error and the offending value.
    bad = host.xe("network-param-set", f"uuid={net}", "MTU=99999", check=False)
    assert bad.returncode == 1
    since = lines[-1]["time"]
    recent = [json.loads(l) for l in host.xe("audit-log-get", f"since={since}").stdout.splitlines()]
    mtu = [l for l in recent if l["call"] == "network.set_MTU"]
    assert mtu and mtu[-1]["result"] == "failure" and mtu[-1]["error"][:2] == ["MTU_INVALID", "99999"]
    assert all(l["time"] >= since for l in recent)
    assert os.stat(os.path.join(host.dir, "audit.log")).st_mode & 0o777 == 0o600
