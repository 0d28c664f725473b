"""Check a built collection tarball: the plugins and roles are in, tests, Molecule and CI are out.

Usage: python3 tests/check_build.py claude_monitoring-stack-X.Y.Z.tar.gz
"""

from __future__ import annotations

import sys
import tarfile

# Top-level paths that must never ship in the built collection.
EXCLUDED = (
    ".ci",
    ".config",
    ".git",
    "benchmarks",
    "collections",
    "molecule",
    "tests",
    "tools",
    "pyproject.toml",
    "scripts/test",
    "scripts/demo",
    "scripts/env",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
)
REQUIRED = ("MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "roles/release_service/tasks/main.yml")


def main(path: str) -> int:
    with tarfile.open(path) as tar:
        names = [m.name.removeprefix("./") for m in tar.getmembers()]
    leaked = sorted(n for n in names if any(n == e or n.startswith(e + "/") for e in EXCLUDED))
    missing = [r for r in REQUIRED if r not in names]
    print(f"{path}: {len(names)} members, {len(leaked)} excluded paths present, {len(missing)} required missing")
    for n in leaked:
        print(f"  must not ship: {n}")
    for n in missing:
        print(f"  missing: {n}")
    return 1 if leaked or missing else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
