"""What each Alertmanager listens on, derived from the inventory's groups.

alertmanager-debian12 runs the only Prometheus (and there is no Grafana): its
API (9093) is for same-host use and stays on loopback. alertmanager-debian13
is reached by that Prometheus from another host: 9093 on every address. Both
are in the alertmanager group, so both gossip on the cluster port (9094, TCP
and UDP) where the peers reach them. A single Alertmanager has no cluster
port at all (tests/unit/alertmanager renders that inventory).
"""

from __future__ import annotations

testinfra_hosts = ["ansible://alertmanager"]


def listening(host, proto):
    """Sockets listening on 9093 and 9094, as address:port; 0.0.0.0 stands for every address.

    By port, not by process: ss cannot name another user's process here (no
    CAP_SYS_PTRACE in the container). Go listens on the wildcard with one
    dual-stack socket, which ss shows as *:port or [::]:port.
    """
    out = host.run(f"ss -Hln{proto}")
    assert out.rc == 0, out.stderr
    found = set()
    for line in out.stdout.splitlines():
        addr, port = line.split()[3].rsplit(":", 1)
        if port in ("9093", "9094"):
            found.add(("0.0.0.0" if addr in ("*", "[::]", "0.0.0.0") else addr) + ":" + port)
    return found


def test_api_only_where_prometheus_or_grafana_needs_it(host):
    tcp = listening(host, "t")
    api = {s for s in tcp if s.endswith(":9093")}
    if host.backend.get_hostname() == "alertmanager-debian12":
        assert api == {"127.0.0.1:9093"}, tcp
    else:
        assert api == {"0.0.0.0:9093"}, tcp


def test_cluster_port_where_the_peers_reach_it(host):
    tcp, udp = listening(host, "t"), listening(host, "u")
    assert {s for s in tcp if s.endswith(":9094")} == {"0.0.0.0:9094"}, tcp
    assert {s for s in udp if s.endswith(":9094")} == {"0.0.0.0:9094"}, udp


def test_unit_flags_match(host):
    unit = host.file("/etc/systemd/system/alertmanager.service").content_string
    web = "127.0.0.1" if host.backend.get_hostname() == "alertmanager-debian12" else "0.0.0.0"
    assert f"--web.listen-address={web}:9093" in unit
    assert "--cluster.listen-address=0.0.0.0:9094" in unit
