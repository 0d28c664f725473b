"""Role nftables: the stack's ports answer the WireGuard subnet only.

The "wg" docker network plays the WireGuard subnet, "out" the outside. Each
server protects 4317/4318/8888/8889 (group otel_collectors); 8080 and 8081 are
unprotected listeners. nftables-debian13 runs the full host policy, where 8080
is opened by an extra rule and 8081 is not opened.
"""

import json
import re

import pytest
import testinfra

testinfra_hosts = ["ansible://nftables_servers"]

TABLE = "inet claude_monitoring"
STACK_PORTS = (4317, 4318, 8888, 8889)
TIMEOUT = 3
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
CLIENTS = {"wg": "nftables-client-wg", "out": "nftables-client-out"}


def server(host):
    return SERVERS[host.backend.get_hostname()]


def expected(side, port, host_policy):
    """What a probe from the client on `side` to `port` must see."""
    if port in STACK_PORTS:
        return "open" if side == "wg" else "timeout"
    if port == 8081 and host_policy:
        return "timeout"
    return "open"


def probe_all(host, tally):
    """Probe every port on both addresses of the server from both clients."""
    srv = server(host)
    outcomes = {}
    for side, client_name in CLIENTS.items():
        targets = [
            f"{addr}:{port}" if ":" not in addr else f"[{addr}]:{port}"
            for addr in srv[side]
            for port in (*STACK_PORTS, 8080, 8081)
        ]
        client = testinfra.get_host(f"docker://{client_name}")
        out = client.run(f"/usr/local/bin/probe {TIMEOUT} {' '.join(targets)}")
        assert out.rc == 0, out.stderr
        for target, result in json.loads(out.stdout).items():
            port = int(target.rpartition(":")[2])
            outcomes[(client_name, target)] = (result, expected(side, port, srv["host_policy"]))
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


def test_live_table_and_sets(host):
    table = host.check_output(f"nft list table {TABLE}")
    assert "4317, 4318, 8888, 8889" in table
    v4 = host.check_output("nft list set inet claude_monitoring allowed_ipv4")
    v6 = host.check_output("nft list set inet claude_monitoring allowed_ipv6")
    assert "127.0.0.0/8" in v4 and "172.30.10.0/24" in v4
    assert "::1" in v6 and "fd30:10::/64" in v6
    if host.backend.get_hostname() == "nftables-debian12":
        # Extra sources; 172.30.10.99 merged into the WireGuard subnet.
        assert "192.0.2.0/24" in v4 and "2001:db8:100::/48" in v6
        assert "172.30.10.99" not in v4
        assert "policy accept" in table
    else:
        assert "policy drop" in table
        assert 'tcp dport 8080 accept comment "probe port, open to all"' in table


def test_other_tables_survive(host):
    tables = host.check_output("nft list tables").splitlines()
    assert "table inet unrelated_probe" in tables
    # Docker's own table for the embedded DNS (managed by iptables-nft).
    assert "table ip nat" in tables
    assert "198.51.100.7" in host.check_output("nft list set inet unrelated_probe keep_me")


def dropped_by_stack_rule(host):
    chain = host.check_output("nft list chain inet claude_monitoring input")
    return int(re.search(r"counter packets (\d+) bytes \d+ drop", chain).group(1))


def test_ports_answer_the_wireguard_subnet_only(host, probe_tally):
    before = dropped_by_stack_rule(host)
    probe_all(host, probe_tally)
    # The timeouts are the role's drop rule at work, not something else.
    assert dropped_by_stack_rule(host) > before


def test_rules_survive_nftables_restart(host, probe_tally):
    # The stock unit flushes the whole ruleset on stop and its conf starts
    # with "flush ruleset": other tables go (distribution behaviour), the
    # role's table comes back through the include.
    host.check_output("systemctl restart nftables")
    assert host.service("nftables").is_running
    assert host.run(f"nft list table {TABLE}").rc == 0
    probe_all(host, probe_tally)


@pytest.mark.parametrize("port", STACK_PORTS)
def test_loopback_allowed(host, port):
    out = host.run(
        f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout={TIMEOUT}).close()'"
    )
    assert out.rc == 0, out.stderr
