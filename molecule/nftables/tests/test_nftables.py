"""Role nftables: each stack port answers only the hosts and subnets that use it.

The "wg" docker network plays the WireGuard subnet, "out" the outside.
nftables-debian12 is in otel_collectors, loki, alertmanager and grafana;
nftables-debian13 in otel_collectors, prometheus and alertmanager, with the
full host policy (8080 opened by an extra rule, 8081 not opened; WireGuard's
UDP port 51820 open to all, 51821 not). Probing hosts: a developer laptop and a
Grafana host (group grafana) in the WireGuard subnet, a host outside, and the
other server.
"""

import json
import re

import pytest
import testinfra

testinfra_hosts = ["ansible://nftables_servers"]

TABLE = "inet claude_monitoring"
TIMEOUT = 3
OTHER_TCP = (8080, 8081)
SERVERS = {
    "nftables-debian12": {
        "wg": ("172.30.10.10", "fd30:10::10"),
        "out": ("172.30.20.10", "fd30:20::10"),
        "host_policy": False,
    },
    "nftables-debian13": {
        "wg": ("172.30.10.11", "fd30:10::11"),
        "out": ("172.30.20.11", "fd30:20::11"),
        "host_policy": True,
    },
}
LAPTOP, PEER, OUTSIDE = "nftables-client-wg", "nftables-client-peer", "nftables-client-out"
# Who probes, from which side.
PROBERS = {LAPTOP: "wg", PEER: "wg", OUTSIDE: "out", "nftables-debian12": "wg", "nftables-debian13": "wg"}
WG = {LAPTOP, PEER, "nftables-debian12", "nftables-debian13"}
# Who may reach each protected port of each server (besides itself, over
# loopback). Every other prober must time out.
ALLOWED = {
    "nftables-debian12": {
        # Grafana: the site's people (nftables_grafana_user_sources: the
        # laptop) and the Prometheus host that scrapes it.
        3000: {LAPTOP, "nftables-debian13"},
        # Loki: collectors push (debian13), Grafana queries (the peer),
        # Prometheus scrapes (debian13).
        3100: {PEER, "nftables-debian13"},
        4317: WG,
        4318: WG,
        8888: {"nftables-debian13"},
        8889: {"nftables-debian13"},
        9093: {"nftables-debian13"},
        9094: {"nftables-debian13"},
    },
    "nftables-debian13": {
        4317: WG,
        4318: WG,
        # The only Prometheus is debian13 itself: loopback only.
        8888: set(),
        8889: set(),
        9090: {PEER, "nftables-debian12"},
        9093: set(),
        9094: {"nftables-debian12"},
    },
}


def server(host):
    return SERVERS[host.backend.get_hostname()]


def expected(name, prober, port, udp=False):
    """What a probe from `prober` to `port` on server `name` must see."""
    srv = SERVERS[name]
    if udp:
        # WireGuard's listen port, from anywhere, under the host policy only
        # (without it nothing filters UDP).
        return "open" if port == 51820 or not srv["host_policy"] else "timeout"
    if port in ALLOWED[name]:
        return "open" if prober in ALLOWED[name][port] else "timeout"
    if port == 8081 and srv["host_policy"]:
        return "timeout"
    return "open"


def fmt(addr, port, udp=False):
    target = f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"
    return f"udp:{target}" if udp else target


def probe_all(host, tally, probers=PROBERS):
    """Probe every port on both addresses of the server (one side each prober)."""
    name = host.backend.get_hostname()
    srv = server(host)
    outcomes = {}
    for prober, side in probers.items():
        if prober == name:
            continue
        tcp = [(addr, port, False) for addr in srv[side] for port in (*ALLOWED[name], *OTHER_TCP)]
        udp = [(addr, port, True) for addr in srv[side] for port in (51820, 51821)]
        targets = {fmt(*t): t for t in tcp + udp}
        client = testinfra.get_host(f"docker://{prober}")
        out = client.run(f"/usr/local/bin/probe {TIMEOUT} {' '.join(targets)}")
        assert out.rc == 0, out.stderr
        for target, result in json.loads(out.stdout).items():
            _, port, udp_ = targets[target]
            outcomes[(prober, target)] = (result, expected(name, prober, port, udp_))
    wrong = {k: v for k, v in outcomes.items() if v[0] != v[1]}
    assert not wrong, f"unexpected probe results (got, expected): {wrong}"
    for result, _ in outcomes.values():
        if result == "open":
            tally["allowed"] += 1
        elif result == "timeout":
            tally["denied"] += 1
    return outcomes


def test_rules_file_and_conf(host):
    rules = host.file("/etc/nftables.d/claude_monitoring.nft")
    assert rules.exists and rules.user == "root" and rules.mode == 0o644
    conf = host.file("/etc/nftables.conf").content_string
    # The distribution's file is kept; only the include line is added, once,
    # after its flush.
    assert conf.count('include "/etc/nftables.d/*.nft"') == 1
    assert conf.index("flush ruleset") < conf.index('include "/etc/nftables.d/*.nft"')
    assert "table inet filter" in conf
    assert host.service("nftables").is_enabled
    assert host.run("nft -c -f /etc/nftables.conf").rc == 0


def elements(listing):
    """The elements of a set listing (nft wraps long lists over lines)."""
    match = re.search(r"elements = \{([^}]*)\}", listing)
    return {e.strip() for e in match.group(1).split(",")} if match else set()


def port_set(host, port, family):
    return host.check_output(f"nft list set {TABLE} allowed_{port}_{family}")


def test_live_table_and_sets(host):
    name = host.backend.get_hostname()
    table = host.check_output(f"nft list table {TABLE}")
    ports = elements(host.check_output(f"nft list set {TABLE} stack_tcp_ports"))
    assert ports == {str(p) for p in ALLOWED[name]}
    for port in ALLOWED[name]:
        v4, v6 = port_set(host, port, "ipv4"), port_set(host, port, "ipv6")
        assert "127.0.0.0/8" in v4 and "::1" in v6
    # Laptops are in the WireGuard subnet: only the ingest ports take it.
    for port in ALLOWED[name]:
        subnet_allowed = "172.30.10.0/24" in port_set(host, port, "ipv4")
        assert subnet_allowed == (port in (4317, 4318)), port
        assert ("fd30:10::/64" in port_set(host, port, "ipv6")) == (port in (4317, 4318)), port
    if name == "nftables-debian12":
        # Extra sources on every port; 172.30.10.99 merged into the WireGuard
        # subnet where that is allowed. The peer's addresses come from its facts.
        for port in ALLOWED[name]:
            assert "192.0.2.0/24" in port_set(host, port, "ipv4")
            assert "2001:db8:100::/48" in port_set(host, port, "ipv6")
        assert "172.30.10.99" not in port_set(host, 4317, "ipv4")
        assert "172.30.10.99" in port_set(host, 8889, "ipv4")
        assert "198.51.100.0/24" in port_set(host, 8889, "ipv4")
        assert "198.51.100.0/24" not in port_set(host, 8888, "ipv4")
        assert "172.30.10.30" in port_set(host, 3100, "ipv4") and "fd30:10::30" in port_set(host, 3100, "ipv6")
        assert "policy accept" in table
    else:
        assert "policy drop" in table
        assert 'tcp dport 8080 accept comment "probe port, open to all"' in table
        assert "udp dport 51820 accept" in table


def test_other_tables_survive(host):
    tables = host.check_output("nft list tables").splitlines()
    assert "table inet unrelated_probe" in tables
    # Docker's own table for the embedded DNS (managed by iptables-nft).
    assert "table ip nat" in tables
    assert "198.51.100.7" in host.check_output("nft list set inet unrelated_probe keep_me")


def dropped_by_stack_rule(host):
    chain = host.check_output(f"nft list chain {TABLE} input")
    return int(re.search(r"counter packets (\d+) bytes \d+ drop", chain).group(1))


def test_each_port_answers_only_its_sources(host, probe_tally):
    before = dropped_by_stack_rule(host)
    probe_all(host, probe_tally)
    # The timeouts are the role's drop rule at work, not something else.
    assert dropped_by_stack_rule(host) > before


def test_laptop_reaches_ingest_only(host):
    """The issue's case in one line: a laptop in the WireGuard subnet."""
    name = host.backend.get_hostname()
    addr = server(host)["wg"][0]
    ports = [p for p in (3100, 4317, 4318, 8888, 8889, 9090) if p in ALLOWED[name]]
    out = testinfra.get_host(f"docker://{LAPTOP}").check_output(
        f"/usr/local/bin/probe {TIMEOUT} {' '.join(fmt(addr, p) for p in ports)}"
    )
    got = {int(t.rpartition(":")[2]): r for t, r in json.loads(out).items()}
    assert got == {p: "open" if p in (4317, 4318) else "timeout" for p in ports}


def test_rules_survive_nftables_restart(host, probe_tally):
    # The stock unit flushes the whole ruleset on stop and its conf starts
    # with "flush ruleset": other tables go (distribution behaviour), the
    # role's table comes back through the include.
    host.check_output("systemctl restart nftables")
    assert host.service("nftables").is_running
    assert host.run(f"nft list table {TABLE}").rc == 0
    probe_all(host, probe_tally, {LAPTOP: "wg", OUTSIDE: "out"})


@pytest.mark.parametrize("port", (3000, 3100, 4317, 4318, 8888, 8889, 9090, 9093, 9094))
def test_loopback_allowed(host, port):
    if port not in ALLOWED[host.backend.get_hostname()]:
        pytest.skip("not protected on this host")
    out = host.run(
        f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout={TIMEOUT}).close()'"
    )
    assert out.rc == 0, out.stderr
