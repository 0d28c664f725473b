"""The loki role's configuration, shape by shape, against reviewed golden files.

Real Loki is AGPL and does not run in this project's tests. Before that rule,
CI had real Loki 3.7.8 accept (`-verify-config`, then start and ingest) the
configs the role rendered for the shapes `filesystem`, `filesystem-team-label`
and `s3`; those renders are kept in golden/, unchanged but for one line (below). `retention-lookback` and
`deletion-enabled` were added later and reviewed against Loki's configuration
reference only, as was that line, `limits_config.deletion_mode`, in every shape (Loki's
own default, filter-and-delete, serves the delete API whenever retention is
on; the role renders `disabled` unless a site turns deletion on).

Any change to what the role writes shows up here as a diff against golden/.
Check the new keys and values against Loki's configuration reference (the key
table tests/standins/loki/config-reference.yaml names it), then accept the
change with:

    CM_UPDATE_GOLDEN=1 python -m pytest tests/unit/loki

Each golden file must also pass the Loki stand-in's -verify-config (the key
table of the pinned Loki version); CM_LOKI_BIN names the stand-in binary that
tests/platform/binaries.sh builds (scripts/test sets it).
"""

from __future__ import annotations

import difflib
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_run import ansible_playbook

HERE = Path(__file__).resolve().parent
SHAPES = sorted(HERE.glob("shapes/*.yml"))
GOLDEN = HERE / "golden"


def render(shape: Path, dest: Path) -> str:
    proc = ansible_playbook(HERE / "render.yml", "-e", f"@{shape}", "-e", f"loki_test_dest={dest}")
    assert proc.returncode == 0, f"rendering {shape.name} failed:\n{proc.stdout}\n{proc.stderr}"
    return dest.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("loki-render")
    return {shape.stem: render(shape, out / f"{shape.stem}.yml") for shape in SHAPES}


@pytest.mark.parametrize("shape", [s.stem for s in SHAPES])
def test_role_renders_the_golden_config(rendered, shape):
    golden = GOLDEN / f"{shape}.yml"
    if os.environ.get("CM_UPDATE_GOLDEN") == "1":
        golden.write_text(rendered[shape], encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: review the render and accept it with CM_UPDATE_GOLDEN=1"
    want = golden.read_text(encoding="utf-8")
    if rendered[shape] != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(keepends=True),
                rendered[shape].splitlines(keepends=True),
                f"golden/{shape}.yml",
                "rendered by the role",
            )
        )
        pytest.fail(f"the loki role now writes a different config for {shape}:\n{diff}")


def test_deletion_api_is_off_unless_a_site_turns_it_on(rendered):
    """With retention on, Loki serves its delete endpoints unless limits_config.deletion_mode is disabled.

    Loki's own default is filter-and-delete: anyone who reaches port 3100 could
    delete events. Only the shape that sets loki_deletion_enabled turns it on.
    """
    for shape, text in rendered.items():
        config = yaml.safe_load(text)
        mode = config["limits_config"].get("deletion_mode")
        assert config["compactor"]["retention_enabled"] is True, shape
        if shape == "deletion-enabled":
            assert mode == "filter-only", f"{shape}: the site's deletion mode is not rendered ({mode!r})"
        else:
            assert mode == "disabled", f"{shape}: the deletion API is not off ({mode!r})"


def test_every_golden_file_has_a_shape():
    assert sorted(p.stem for p in GOLDEN.glob("*.yml")) == sorted(s.stem for s in SHAPES)


@pytest.fixture(scope="module")
def standin() -> str:
    path = os.environ.get("CM_LOKI_BIN", "")
    if not path:
        pytest.fail("CM_LOKI_BIN is not set: it must name the Loki stand-in built by tests/platform/binaries.sh")
    if not os.access(path, os.X_OK):
        pytest.fail(f"CM_LOKI_BIN={path} is not an executable file")
    return path


@pytest.mark.binary
@pytest.mark.parametrize("shape", [s.stem for s in SHAPES])
def test_golden_config_passes_the_key_table(standin, shape):
    proc = subprocess.run(
        [standin, "-verify-config", f"-config.file={GOLDEN / f'{shape}.yml'}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.binary
def test_key_table_refuses_what_loki_refuses(standin, tmp_path):
    """The side-effect scenario relies on this: a value Loki cannot decode is refused, naming the key and line."""
    text = (GOLDEN / "filesystem.yml").read_text(encoding="utf-8")
    cases = {
        "unknown-key": text.replace("  retention_enabled: true", "  retention_enabled: true\n  retention_enable: true"),
        "wrong-duration": text.replace("retention_period: 2160h", "retention_period: ninety days"),
        "wrong-int": text.replace("http_listen_port: 3100", "http_listen_port: abc"),
    }
    for name, broken in cases.items():
        assert broken != text, f"{name}: the golden file no longer holds the line this case edits"
        path = tmp_path / f"{name}.yml"
        path.write_text(broken, encoding="utf-8")
        proc = subprocess.run(
            [standin, "-verify-config", f"-config.file={path}"], capture_output=True, text=True, check=False
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, f"{name}: accepted\n{out}"
        key = {"unknown-key": "retention_enable", "wrong-duration": "retention_period", "wrong-int": "http_listen_port"}
        assert key[name] in out and "line" in out, f"{name}: the message names neither key nor line:\n{out}"
