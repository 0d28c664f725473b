"""scripts/refresh-checksums: pins every architecture a mirror publishes, refuses plain http by default."""

import functools
import hashlib
import http.server
import importlib.machinery
import importlib.util
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _script():
    loader = importlib.machinery.SourceFileLoader("refresh_checksums", str(ROOT / "scripts/refresh-checksums"))
    spec = importlib.util.spec_from_loader("refresh_checksums", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def mirror(tmp_path):
    """The roles' default versions, amd64 and arm64, served over http on loopback."""
    rs = _script()
    root = tmp_path / "mirror"
    digests = {}
    for name_t, role, version_var, list_t, archive_t, base_var in rs.RELEASES:
        defaults = rs.scalar_defaults(ROOT / "roles" / role / "defaults/main.yml")
        name, version = name_t.format(**defaults), defaults[version_var]
        fields = dict(defaults, version=version)
        prefix = "grafana-dl" if base_var else ""
        lines = []
        for arch in ("amd64", "arm64"):
            archive = archive_t.format(**fields, arch=arch)
            sha = hashlib.sha256(f"{name} {version} {arch}".encode()).hexdigest()
            digests[(name, version, arch)] = sha
            if "{archive}" in list_t:
                path = root / prefix / list_t.format(archive=archive)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"{sha}\n")
            else:
                lines.append(f"{sha}  {archive}")
        if lines:
            path = root / list_t.format(**fields)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", digests
    server.shutdown()


def test_pins_every_published_architecture(mirror, tmp_path):
    url, digests = mirror
    out = tmp_path / "pins.yml"
    rs = _script()
    rs.main(
        ["--allow-http", "--base-url", url, "--archive-base-url", f"grafana={url}/grafana-dl", "--output", str(out)]
    )
    pins = yaml.safe_load(out.read_text())
    got = {(n, v, a): sha for n, vs in pins.items() for v, arches in vs.items() for a, sha in arches.items()}
    assert got == digests
    # The role reads the same file back (name -> version -> arch -> sha256).
    assert rs.read_pins(out) == pins


def test_refuses_plain_http_without_opt_in(mirror, tmp_path):
    url, _ = mirror
    with pytest.raises(SystemExit, match="refusing plain http"):
        _script().main(["--base-url", url, "--output", str(tmp_path / "pins.yml")])


def test_shipped_pins_file_loads():
    assert isinstance(yaml.safe_load((ROOT / "roles/release_service/vars/checksums.yml").read_text()), dict)
