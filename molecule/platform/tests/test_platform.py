"""The test platform works: systemd, the real binaries and the Loki stand-in, their validators."""

import pytest

SAMPLES = "/opt/platform-samples"


def test_systemd_is_running(host):
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout.strip()
    assert state == "running", f"systemd is {state!r}; failed units: {failed}"


@pytest.mark.parametrize(
    ("binary", "version_cmd", "expected"),
    [
        ("/usr/local/bin/otelcol-contrib", "--version", "otelcol-contrib version"),
        ("/usr/local/bin/loki", "-version", "stand-in"),
        ("/usr/local/bin/prometheus", "--version", "prometheus, version 3."),
        ("/usr/local/bin/promtool", "--version", "promtool, version 3."),
    ],
)
def test_binary_installed_and_runs(host, binary, version_cmd, expected):
    f = host.file(binary)
    assert f.exists and f.user == "root" and f.mode == 0o755
    out = host.run(f"{binary} {version_cmd}")
    assert out.rc == 0, out.stderr
    assert expected in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("cmd", "good", "bad"),
    [
        ("/usr/local/bin/otelcol-contrib validate --config={}", "otelcol.yaml", "otelcol-broken.yaml"),
        ("/usr/local/bin/loki -verify-config -config.file={}", "loki.yaml", "loki-broken.yaml"),
        ("/usr/local/bin/promtool check config {}", "prometheus.yml", "prometheus-broken.yml"),
    ],
)
def test_binary_validates_config(host, cmd, good, bad):
    ok = host.run(cmd.format(f"{SAMPLES}/{good}"))
    assert ok.rc == 0, f"{good} refused: {ok.stdout}{ok.stderr}"
    broken = host.run(cmd.format(f"{SAMPLES}/{bad}"))
    assert broken.rc != 0, f"{bad} accepted: {broken.stdout}{broken.stderr}"


def test_tampered_archive_left_nothing(host):
    assert not host.file("/usr/local/bin/tampered-otelcol").exists
