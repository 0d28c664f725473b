"""Repository-wide invariants: role defaults and argument specs agree, pinned versions agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent for p in ROOT.glob("roles/*/meta/main.yml"))


def _load(path: Path):
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_has_argument_specs_and_readme(role):
    assert (role / "meta" / "argument_specs.yml").is_file(), f"{role.name}: meta/argument_specs.yml missing"
    assert (role / "README.md").is_file(), f"{role.name}: README.md missing"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_defaults_and_argument_specs_agree(role):
    """Every default is documented in an entry point with the same value, and every documented default exists."""
    defaults = _load(role / "defaults" / "main.yml") if (role / "defaults" / "main.yml").exists() else {}
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    documented = {name for entry in specs.values() for name in entry.get("options", {})}
    undocumented = sorted(set(defaults) - documented)
    assert not undocumented, f"{role.name}: defaults not in meta/argument_specs.yml: {undocumented}"
    for entry_name, entry in specs.items():
        options = entry.get("options", {})
        mismatched = {
            name: (defaults[name], spec.get("default"))
            for name, spec in options.items()
            if name in defaults and not spec.get("required") and spec.get("default") != defaults[name]
        }
        assert not mismatched, f"{role.name} ({entry_name}): default differs (defaults/main.yml, spec): {mismatched}"
        missing = sorted(n for n, spec in options.items() if "default" in spec and n not in defaults)
        assert not missing, f"{role.name} ({entry_name}): spec defaults missing from defaults/main.yml: {missing}"


def test_platform_builds_the_roles_default_versions():
    """tests/platform/versions.env builds exactly the versions the roles install by default."""
    env = dict(re.findall(r"^([A-Z_]+)=(\S+)$", (ROOT / "tests/platform/versions.env").read_text(), re.M))
    pairs = {
        "otel_collector": "OTELCOL_VERSION",
        "loki": "LOKI_VERSION",
        "prometheus": "PROMETHEUS_VERSION",
        "alertmanager": "ALERTMANAGER_VERSION",
        "grafana": "GRAFANA_VERSION",
    }
    checked = 0
    for role, key in pairs.items():
        defaults = ROOT / "roles" / role / "defaults" / "main.yml"
        if not defaults.exists():
            continue
        version = _load(defaults)[f"{role}_version"]
        assert str(version) == env[key], f"roles/{role}: {role}_version {version} != {key} {env[key]}"
        checked += 1
    assert checked == len([r for r in pairs if (ROOT / "roles" / r).exists()])
