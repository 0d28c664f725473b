"""ansible-playbook as the unit tests run it: quiet, with this checkout's
collection, from the repository root. One place for the environment every
test that renders a template or runs a preflight needs.

    from ansible_run import ansible_playbook
    proc = ansible_playbook("-i", inventory, playbook, "-e", f"@{extra}")
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ansible_playbook(*args: str) -> subprocess.CompletedProcess:
    """Run ansible-playbook with `args`; the caller checks the return code."""
    env = dict(
        os.environ,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
    )
    return subprocess.run(
        ["ansible-playbook", *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
