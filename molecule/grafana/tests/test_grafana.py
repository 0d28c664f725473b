"""Role grafana, installed and run with the Grafana stand-in (tests/standins/grafana).

What is checked is the role's work on a real systemd host: the install path
(Grafana's APT repository with a pinned key on debian12, the standalone
tarball through release_service on debian13), grafana.ini and the provisioning
files where Grafana reads them with owners and modes Grafana (running as user
grafana) can read and others cannot, what the stand-in loaded from them
(datasources, dashboards, settings), the reload API on a provisioning change
and only then, a removed dashboard and datasource gone, and no secret where it
does not belong. What Grafana itself does with them (queries, the UI) is not
checked here: the stand-in does not pretend to (its README).
"""

import base64
import json
import os
import re
from pathlib import Path

import pytest

testinfra_hosts = ["ansible://grafana"]

ROOT = Path(__file__).resolve().parents[3]
ROLE_DASHBOARDS = sorted((ROOT / "roles" / "grafana" / "files" / "dashboards").glob("*.json"))
EXTRA_TOKEN = "molecule-secret-datasource-token"
PROM_PASSWORD = "molecule-grafana-prom-0001"


@pytest.fixture(scope="module")
def hv(host):
    return host.ansible.get_variables()


def base(hv):
    return ("https" if hv.get("grafana_tls_cert_file") else "http") + "://127.0.0.1:3000"


@pytest.fixture(scope="module")
def creds(host, hv):
    """The admin password in root-only files on the host, for curl (-K) and grep (-f): never on a command line."""
    pw = hv["claude_monitoring_grafana_admin_password"]
    for path, text in (("/root/.grafana-test-auth", f'user = "admin:{pw}"\n'), ("/root/.grafana-test-pw", pw + "\n")):
        b64 = base64.b64encode(text.encode()).decode()
        host.check_output(f"umask 077 && echo {b64} | base64 -d > {path}")
    return pw


def api(host, hv, path, auth=True, code=200):
    opt = "-K /root/.grafana-test-auth" if auth else ""
    out = host.run(
        f"curl -sk {opt} -o /tmp/grafana-test.out -w '%{{http_code}}' '{base(hv)}{path}'; cat /tmp/grafana-test.out"
    )
    status, body = out.stdout[:3], out.stdout[3:]
    assert status.isdigit() and int(status) == code, f"{path}: {status} {body}"
    return json.loads(body) if body.strip() else None


@pytest.fixture(autouse=True)
def _auth(creds):
    return creds


def test_installed_the_upstream_way(host, hv):
    if hv["grafana_install_method"] == "apt":
        assert host.package("grafana").is_installed
        assert host.package("grafana").version.startswith("13.2.0")
        src = host.file("/etc/apt/sources.list.d/grafana.sources")
        assert src.mode == 0o644
        assert "Signed-By: /etc/apt/keyrings/grafana.asc" in src.content_string
        assert "URIs: http://127.0.0.1:18080/grafana-apt" in src.content_string
        keys = host.check_output("gpg --batch --quiet --with-colons --show-keys /etc/apt/keyrings/grafana.asc")
        fprs = re.findall(r"^fpr:+([0-9A-F]{40}):", keys, re.M)
        pinned = Path(
            os.environ.get("CM_CACHE_DIR", "/tmp/claude-monitoring-stack"), "mirror/grafana-apt/fingerprint.txt"
        )
        assert fprs == [pinned.read_text().strip()], keys
        assert host.file("/lib/systemd/system/grafana-server.service").exists
    else:
        home = host.file("/usr/share/grafana")
        assert home.is_symlink
        assert re.match(r"^/usr/share/grafana\.amd64-[0-9a-f]{16}$", home.linked_to)
        assert host.file("/usr/share/grafana/bin/grafana").mode == 0o755
        unit = host.file("/etc/systemd/system/grafana-server.service").content_string
        exec_start = "ExecStart=/usr/share/grafana/bin/grafana server"
        assert f"{exec_start} --config=/etc/grafana/grafana.ini --homepath=/usr/share/grafana" in unit
        assert "ProtectSystem=strict" in unit and "ReadWritePaths=/var/lib/grafana /var/log/grafana" in unit
    assert "stand-in" in host.check_output("/usr/share/grafana/bin/grafana --version")


def test_runs_as_grafana(host, hv):
    svc = host.service("grafana-server")
    assert svc.is_running and svc.is_enabled
    info = api(host, hv, "/standin/info", auth=False)
    assert info["user"] == "grafana"
    assert info["config_file"] == "/etc/grafana/grafana.ini"
    assert info["provisioning"] == "/etc/grafana/provisioning"
    assert info["homepath"] == "/usr/share/grafana"
    assert api(host, hv, "/api/health", auth=False)["database"] == "ok"


@pytest.mark.parametrize(
    "path,owner,group,mode",
    [
        ("/etc/grafana/grafana.ini", "root", "grafana", 0o640),
        ("/etc/grafana/provisioning", "root", "grafana", 0o750),
        ("/etc/grafana/provisioning/datasources", "root", "grafana", 0o750),
        ("/etc/grafana/provisioning/datasources/claude_monitoring.yaml", "root", "grafana", 0o640),
        ("/etc/grafana/provisioning/dashboards/claude_monitoring.yaml", "root", "grafana", 0o640),
        ("/etc/grafana/dashboards/claude-code", "root", "grafana", 0o750),
        ("/var/lib/grafana", "grafana", "grafana", 0o750),
    ],
)
def test_files_grafana_can_read_and_others_cannot(host, path, owner, group, mode):
    f = host.file(path)
    assert f.exists, path
    assert (f.user, f.group, f.mode) == (owner, group, mode), path


def test_dashboard_files(host):
    d = "/etc/grafana/dashboards/claude-code"
    names = sorted(host.check_output(f"ls {d}").split())
    assert names == [p.name for p in ROLE_DASHBOARDS], "the role's dashboards only: the dropped extra one is gone"
    for n in names:
        f = host.file(f"{d}/{n}")
        assert (f.user, f.group, f.mode) == ("root", "grafana", 0o640)


def test_grafana_ini_as_grafana_reads_it(host, hv):
    s = api(host, hv, "/api/admin/settings")
    assert s["auth.anonymous"]["enabled"] == "false"
    assert s["users"]["allow_sign_up"] == "false"
    assert s["security"]["disable_gravatar"] == "true"
    assert s["analytics"]["reporting_enabled"] == "false"
    assert s["analytics"]["check_for_updates"] == "false"
    assert s["server"]["http_addr"] == "127.0.0.1"
    assert s["server"]["enable_gzip"] == "true", "the side effect's grafana.ini change is live"
    assert s["security"]["admin_password"] == "************"
    # The stand-in logs in with the whole password: ; and # were quoted.
    assert api(host, hv, "/api/user")["login"] == "admin"
    api(host, hv, "/api/search", auth=False, code=401)


def test_tls_exactly_where_configured(host, hv):
    https = host.run("curl -sfk https://127.0.0.1:3000/api/health")
    http = host.run("curl -sf http://127.0.0.1:3000/api/health")
    if hv.get("grafana_tls_cert_file"):
        ok = host.run("curl -sf --cacert /etc/grafana-tls/grafana.crt https://127.0.0.1:3000/api/health")
        assert ok.rc == 0, ok.stderr
        assert http.rc != 0, "plain http still answers next to TLS"
    else:
        assert http.rc == 0, http.stderr
        assert https.rc != 0, "https answers on a host without TLS settings"


def test_datasources(host, hv):
    ds = {d["uid"]: d for d in api(host, hv, "/api/datasources")}
    me = hv["inventory_hostname"]
    other = next(h for h in ("grafana-debian12", "grafana-debian13") if h != me)
    # First host of a group: the plain uid; the others uid-<host>. This host: loopback.
    assert set(ds) == {"prometheus", "prometheus-grafana-debian13", "loki"}, ds
    local, remote = ("prometheus", "prometheus-grafana-debian13")[:: 1 if me == "grafana-debian12" else -1]
    # debian13's Prometheus wants https and basic auth (its prometheus_web_* settings).
    scheme = {"prometheus": "http", "prometheus-grafana-debian13": "https"}
    assert ds[local]["url"] == f"{scheme[local]}://127.0.0.1:9090"
    assert re.match(rf"^{scheme[remote]}://{other}:9090$", ds[remote]["url"]), ds[remote]
    secured = ds["prometheus-grafana-debian13"]
    assert secured["basicAuth"] and secured["basicAuthUser"] == "grafana", secured
    assert secured["secureJsonFields"].get("basicAuthPassword"), secured
    assert not ds["prometheus"]["basicAuth"] and not ds["prometheus"].get("secureJsonFields"), ds["prometheus"]
    assert ds["loki"]["url"] == ("http://127.0.0.1:3100" if me == "grafana-debian12" else f"http://{other}:3100")
    assert ds["loki"]["type"] == "loki" and ds["prometheus"]["type"] == "prometheus"
    assert ds["prometheus"]["isDefault"] and not ds["loki"]["isDefault"]
    assert all(d["readOnly"] for d in ds.values()), "editable: false"


def test_removed_datasource_is_deleted(host, hv):
    api(host, hv, "/api/datasources/uid/molecule-extra", code=404)
    f = host.file("/etc/grafana/provisioning/datasources/claude_monitoring.yaml").content_string
    assert "deleteDatasources:\n- name: Molecule extra\n  orgId: 1" in f
    assert "prune: true" in f


def test_dashboards_provisioned(host, hv):
    found = {d["uid"]: d for d in api(host, hv, "/api/search?type=dash-db")}
    want = {json.loads(p.read_text())["uid"] for p in ROLE_DASHBOARDS}
    assert set(found) == want, "the role's dashboards, and the dropped extra one gone"
    for uid, d in found.items():
        assert d["folderTitle"] == "Claude Code" and d["folderUid"] == "claude-code"
        meta = api(host, hv, f"/api/dashboards/uid/{uid}")["meta"]
        assert meta["provisioned"] and not meta["canSave"], "allowUiUpdates: false"


def test_reload_api_on_provisioning_change_only(host):
    rec = json.loads(host.file("/var/tmp/grafana-molecule.json").content_string)
    r0, r1, r3 = (rec[k] for k in ("r0", "r1", "r3"))
    # A first install starts Grafana with everything loaded; the idempotence run
    # (nothing changed) calls nothing.
    assert r0["reloads"] == {"dashboards": 0, "datasources": 0}, rec
    # A provisioning change: one reload of each, no restart ...
    assert r1["reloads"] == {"dashboards": 1, "datasources": 1} and r1["pid"] == r0["pid"], rec
    # ... and it was the reload that removed the dropped dashboard and datasource
    # (the provider rescans only every 3600 s in this scenario).
    assert "molecule-extra" in r1["deleted_by_api"] and "Molecule extra" in r1["deleted_by_api"], rec
    # grafana.ini changed: a restart (new process), no reload (the new process
    # counts from zero).
    assert r3["pid"] not in (0, r1["pid"]) and r3["reloads"] == {"dashboards": 0, "datasources": 0}, rec


def test_no_secret_where_it_does_not_belong(host, hv, creds):
    pw = creds
    # Only grafana.ini holds the admin password (the stand-in's database keeps a hash).
    holders = host.run(
        "grep -rlFf /root/.grafana-test-pw /etc /var/lib/grafana /var/log/grafana /usr/share/grafana/ /var/tmp"
    ).stdout.split()
    assert holders == ["/etc/grafana/grafana.ini"], holders
    assert pw not in host.check_output("ps -eo args")
    journal = host.run("journalctl --no-pager -o cat").stdout
    assert pw not in journal and EXTRA_TOKEN not in journal and PROM_PASSWORD not in journal
    world = host.run("find /etc/grafana /var/lib/grafana -perm -o+r -type f").stdout.split()
    assert world == [], world
    log = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "grafana-changes.log").read_text()
    assert "Render grafana.ini" in log, "the nested run's output is there"
    assert pw not in log and EXTRA_TOKEN not in log and PROM_PASSWORD not in log
