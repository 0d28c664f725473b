"""The test platform works: systemd, the real binaries and the Loki stand-in, their validators.

And what release_service left after the side effects: each binary path a link
to a staged binary of its own archive, each host its own architecture's build,
the service running the installed binary of the bumped version.
"""

import pytest

SAMPLES = "/opt/platform-samples"
INSTALL_DIR = "/usr/local/lib/claude_monitoring"


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
    assert f.is_symlink and f.linked_to.startswith(f"{INSTALL_DIR}/"), f"{binary} is not a link into {INSTALL_DIR}"
    target = host.file(f.linked_to)
    assert target.is_file and target.user == "root" and target.mode == 0o755
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


def test_each_host_runs_its_own_architecture(host):
    arch = "arm64" if "debian13" in host.backend.get_hostname() else "amd64"
    assert host.check_output("/usr/local/bin/archtest") == f"archtest {arch}"
    assert host.file("/usr/local/bin/archtest").linked_to.startswith(f"{INSTALL_DIR}/archtest/{arch}-")


def test_service_runs_the_installed_bumped_binary(host):
    service = host.service("platform-otelcol")
    assert service.is_running
    installed = host.file("/usr/local/bin/platform-otelcol").linked_to
    # The bumped version is the real binary with trailing bytes (prepare.yml).
    assert host.run(f"grep -c 'platform test release' {installed}").stdout.strip() == "1"
    pid = host.check_output("systemctl show -p MainPID --value platform-otelcol")
    exe = host.run(f"readlink /proc/{pid}/exe")
    if exe.rc == 0:  # debian12: root may read it (CAP_SYS_PTRACE)
        assert exe.stdout.strip() == installed
    # Only the running archive's binaries are left on the host.
    staged = host.check_output(f"ls {INSTALL_DIR}/otelcol-contrib/*/platform-otelcol").split()
    assert staged == [installed]
