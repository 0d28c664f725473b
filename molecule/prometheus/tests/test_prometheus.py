"""Role prometheus: real Prometheus scrapes the real collector and runs the rules.

Each host is also a collector (prepare.yml deploys the otel_collector role:
Prometheus exporter on 8889, its own telemetry on 8888). The verifier pushes
Claude Code's real metrics payload into that collector and reads it back from
Prometheus, checks targets and rules through the API, and runs the rule unit
tests of tests/unit/prometheus with promtool against the rules live on the
hosts. The stack scenario (molecule/stack) checks that the rules' and the
dashboards' figures are exact on many clients' traffic.
"""

import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from claude_traffic import PROM_USER, api, prom_auth, prom_url

testinfra_hosts = ["ansible://prometheus"]

ROOT = Path(__file__).resolve().parents[3]
RULE_TESTS = sorted((ROOT / "tests" / "unit" / "prometheus").glob("*.test.yml"))
# Copied from the recorded payloads of Claude Code 2.1.330.
# The real client payloads, kept once for every scenario in tests/fixtures.
FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude-code-2.1.330" / "metrics-cumulative.json"
OTHER = {"prometheus-debian12": "prometheus-debian13", "prometheus-debian13": "prometheus-debian12"}
SHIPPED_GROUPS = {
    "claude_code_budgets",
    "claude_code_spend",
    "claude_code_api",
    "claude_code_pipeline",
    "claude_code_storage",
}


def copy_to(host, local_path, dest):
    host.ansible("copy", f"src={local_path} dest={dest} mode=0644", check=False, become=True)


def wait_for(fn, timeout=90, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(2)
    pytest.fail(f"timed out waiting for {what}; last: {last}")


def test_service_runs_hardened(host):
    svc = host.service("prometheus")
    assert svc.is_running and svc.is_enabled
    unit = host.file("/etc/systemd/system/prometheus.service").content_string
    assert "User=prometheus" in unit and "ProtectSystem=strict" in unit
    assert "--storage.tsdb.retention.time=90d" in unit
    if host.backend.get_hostname() == "prometheus-debian13":
        assert "--storage.tsdb.retention.size=5GB" in unit
    print(host.run("systemd-analyze security prometheus --no-pager | tail -1").stdout)


def test_config_valid_and_private(host):
    conf = host.file("/etc/prometheus/prometheus.yml")
    assert conf.user == "root" and conf.group == "prometheus" and conf.mode == 0o640
    out = host.run("/usr/local/bin/promtool check config /etc/prometheus/prometheus.yml")
    assert out.rc == 0, out.stdout + out.stderr


def status(host, path, opts=""):
    """HTTP status of a request to this host's Prometheus (000 when no HTTP answer)."""
    out = host.run(f"curl -s -o /dev/null -w '%{{http_code}}' {opts} '{prom_url(host)}{path}'")
    return out.stdout.strip()


@pytest.mark.parametrize("path", ["/api/v1/query?query=up", "/metrics", "/-/ready", "/api/v1/status/config"])
def test_web_requires_basic_auth(host, path):
    hv = host.ansible.get_variables()
    ca = f"--cacert {hv['prometheus_web_tls_cert_file']}" if hv.get("prometheus_web_tls_cert_file") else ""
    assert status(host, path, ca) == "401", "answers without credentials"
    assert status(host, path, f"{ca} -u {PROM_USER}:wrong-password") == "401", "answers a wrong password"
    assert status(host, path, prom_auth(host)) == "200"


def test_a_user_given_as_a_hash_logs_in(host):
    hv = host.ansible.get_variables()
    ca = f"--cacert {hv['prometheus_web_tls_cert_file']}" if hv.get("prometheus_web_tls_cert_file") else ""
    host.check_output("umask 077 && printf 'user = \"hashed:molecule-hashed-pass-0002\"\\n' > /root/.prom-hashed")
    assert status(host, "/api/v1/query?query=up", f"{ca} -K /root/.prom-hashed") == "200"


def test_tls_exactly_where_configured(host):
    hv = host.ansible.get_variables()
    auth = prom_auth(host)
    plain = host.run(f"curl -s -o /dev/null -w '%{{http_code}}' {auth} http://127.0.0.1:9090/-/ready").stdout
    if hv.get("prometheus_web_tls_cert_file"):
        assert prom_url(host).startswith("https://")
        assert status(host, "/-/ready", auth) == "200", "https with the site's certificate"
        assert plain != "200", "plain http still answers next to TLS"
    else:
        assert plain == "200"
        tls = host.run(f"curl -sk -o /dev/null -w '%{{http_code}}' {auth} https://127.0.0.1:9090/-/ready").stdout
        assert tls != "200", "https answers on a host without TLS settings"


def test_web_config_private_and_hashed(host):
    hv = host.ansible.get_variables()
    web = host.file("/etc/prometheus/web.yml")
    assert web.user == "root" and web.group == "prometheus" and web.mode == 0o640
    text = web.content_string
    assert "molecule-prom-pass-0001" not in text, "a password in clear in the web config"
    assert re.search(r'(?m)^  "?molecule"?: "?\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}"?$', text), text
    assert hv["prometheus_web_basic_auth_users"]["hashed"] in text, "a given hash is kept as it is"
    out = host.run("/usr/local/bin/promtool check web-config /etc/prometheus/web.yml")
    assert out.rc == 0, out.stdout + out.stderr
    unit = host.file("/etc/systemd/system/prometheus.service").content_string
    assert "--web.config.file=/etc/prometheus/web.yml" in unit


def test_no_secret_in_processes_or_journal(host):
    secrets = ["molecule-prom-pass-0001", "molecule-scrape-secret-0001", "molecule-hashed-pass-0002"]
    ps = host.check_output("ps -eo args")
    journal = host.run("journalctl --no-pager -o cat").stdout
    assert not [s for s in secrets if s in ps or s in journal]


def test_listens_on_loopback_only(host):
    # No Grafana host elsewhere: loopback.
    assert host.socket("tcp://127.0.0.1:9090").is_listening
    assert not host.socket("tcp://0.0.0.0:9090").is_listening


def test_retention_in_runtime_flags(host):
    flags = api(host, "/api/v1/status/flags")
    assert flags["storage.tsdb.retention.time"] == "90d"
    if host.backend.get_hostname() == "prometheus-debian13":
        # Prometheus reads GB as GiB and prints it so.
        assert flags["storage.tsdb.retention.size"] in ("5GB", "5GiB")
        config = api(host, "/api/v1/status/config")["yaml"]
        assert config.count("site: molecule") == 1
        assert "url: http://127.0.0.1:9999/api/v1/write" in config
        assert "127.0.0.1:9093" in config


def test_targets_up(host):
    def all_up():
        targets = api(host, "/api/v1/targets")["activeTargets"]
        health = {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in targets}
        return health if health and all(h == "up" for h in health.values()) else None

    # Derived from the otel_collectors group: this host over loopback, the
    # other one by its inventory name (ansible_host).
    # Prometheus scrapes itself with the role's credentials (and over TLS
    # where it serves TLS); debian12 has an extra job with credentials.
    other = OTHER[host.backend.get_hostname()]
    health = wait_for(all_up, what="every target up")
    want = {
        ("prometheus", "127.0.0.1:9090"): "up",
        ("otel_collector", "127.0.0.1:8889"): "up",
        ("otel_collector", f"{other}:8889"): "up",
        ("otel_collector_telemetry", "127.0.0.1:8888"): "up",
        ("otel_collector_telemetry", f"{other}:8888"): "up",
    }
    if host.backend.get_hostname() == "prometheus-debian12":
        want[("secret_scrape", "127.0.0.1:8889")] = "up"
    assert health == want
    up = api(host, "/api/v1/query", query='up{job="otel_collector"}')["result"]
    assert [r["value"][1] for r in up] == ["1", "1"]


def test_rules_loaded(host):
    groups = api(host, "/api/v1/rules")["groups"]
    assert {g["name"] for g in groups} == SHIPPED_GROUPS
    rules = {r["name"]: r for g in groups for r in g["rules"]}
    for name in (
        "ClaudeCodeFleetDailySpendOverBudget",
        "ClaudeCodeSpendSpike",
        "ClaudeCodeCollectorDown",
        "ClaudeCodeSilentMeter",
        "ClaudeCodeExportFailing",
        "PrometheusStorageFilling",
    ):
        assert name in rules, sorted(rules)
    # Evaluated without errors against the live data.
    wait_for(
        lambda: all(r.get("health") == "ok" for r in api(host, "/api/v1/rules")["groups"][0]["rules"]),
        what="rules evaluated",
    )
    bad = [r["name"] for g in api(host, "/api/v1/rules")["groups"] for r in g["rules"] if r["health"] == "err"]
    assert not bad, bad
    # The healthy pipeline raises no alert.
    alerts = [a["labels"]["alertname"] for a in api(host, "/api/v1/alerts")["alerts"]]
    assert alerts == []


def test_rule_unit_tests_pass_on_live_rules(host):
    """The unit tests assume the role's default budgets, which both hosts keep."""
    assert RULE_TESTS, "no rule unit tests found"
    host.run("rm -rf /tmp/rule-tests && mkdir -p /tmp/rule-tests")
    for f in RULE_TESTS:
        copy_to(host, str(f), f"/tmp/rule-tests/{f.name}")
    assert host.run("cp /etc/prometheus/rules/claude_code.rules.yml /tmp/rule-tests/").rc == 0
    names = " ".join(f.name for f in RULE_TESTS)
    out = host.run(f"cd /tmp/rule-tests && /usr/local/bin/promtool test rules {names}")
    print(out.stdout)
    assert out.rc == 0, out.stdout + out.stderr


def test_claude_code_metrics_flow_through_the_collector(host):
    """Claude Code's real payload, through the real collector, comes back from Prometheus."""
    with open(FIXTURE, encoding="utf-8") as f:
        payload = json.load(f)
    now = time.time_ns()
    for rm in payload["resourceMetrics"]:
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                for kind in ("sum", "gauge", "histogram"):
                    for dp in m.get(kind, {}).get("dataPoints", []):
                        # A session that started a minute ago: its start time is the created timestamp.
                        dp["startTimeUnixNano"] = str(now - 60 * 10**9)
                        dp["timeUnixNano"] = str(now)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(payload, f)
    try:
        copy_to(host, f.name, "/tmp/claude-code-metrics.json")
    finally:
        os.unlink(f.name)
    token = host.ansible.get_variables()["claude_monitoring_ingest_tokens"][0]
    out = host.run(
        "curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {token}' "
        "--data-binary @/tmp/claude-code-metrics.json http://127.0.0.1:4318/v1/metrics"
    )
    assert out.stdout.strip() == "200", out.stdout + out.stderr

    def cost_series():
        return api(host, "/api/v1/query", query='claude_code_cost_usage_USD_total{job="otel_collector"}')["result"]

    series = wait_for(cost_series, what="claude_code_cost_usage_USD_total in Prometheus")
    labels = series[0]["metric"]
    for key in ("user_id", "session_id", "model", "team"):
        assert key in labels, labels
    # The spend expression answers with the exported value (the stack scenario checks it exactly).
    total = api(host, "/api/v1/query", query="sum(increase(claude_code_cost_usage_USD_total[1d] anchored))")["result"]
    assert len(total) == 1 and float(total[0]["value"][1]) > 0
    # The collector's own telemetry is scraped: the silent-meter input exists.
    accepted = wait_for(
        lambda: api(
            host,
            "/api/v1/query",
            query='{__name__=~"otelcol_receiver_accepted_metric_points(_total)?", job="otel_collector_telemetry"}',
        )["result"],
        what="collector telemetry",
    )
    assert float(accepted[0]["value"][1]) > 0
