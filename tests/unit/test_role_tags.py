"""Every role's stages carry a tag of their own next to the role's name.

`--tags <role>_configure` (or `_preflight`, `_install`, `_service`, `_remove`)
runs one stage of one role: each stage include in tasks/main.yml has
`tags: [<role>, <role>_<stage>]` and the same under `apply:`, so the included
tasks carry them too. release_service's `activate` (the binary links move to
the staged release) belongs to the install stage: it needs what install staged
in the same run, and `--tags <role>_configure` must never move a link.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible_run import ansible_playbook

ROOT = Path(__file__).resolve().parents[2]
ROLES = ["otel_collector", "loki", "prometheus", "alertmanager", "grafana", "nftables", "claude_code"]
INCLUDES = ("ansible.builtin.include_tasks", "ansible.builtin.include_role")


def stage_of(file_name: str) -> str | None:
    """The stage a task file belongs to, by its name (templated names by their prefix)."""
    name = Path(file_name).name
    for prefix, stage in (
        ("preflight", "preflight"),
        ("install", "install"),
        ("configure", "configure"),
        ("service", "service"),
        ("remove", "remove"),
        ("absent", "remove"),
    ):
        if name.startswith(prefix):
            return stage
    return None


def tasks(items: list[dict]) -> list[dict]:
    """The tasks of a task file, blocks flattened."""
    out = []
    for item in items or []:
        if "block" in item:
            out += tasks(item["block"]) + tasks(item.get("rescue", [])) + tasks(item.get("always", []))
        else:
            out.append(item)
    return out


def includes(role: str) -> list[tuple[str, dict, dict]]:
    """(what it includes, the include's arguments, the task) for each include of tasks/main.yml."""
    doc = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text())
    out = []
    for task in tasks(doc):
        for module in INCLUDES:
            if module in task:
                args = task[module]
                args = args if isinstance(args, dict) else {"file": args}
                target = args.get("file") or f"{args.get('name')}:{args.get('tasks_from', 'main')}"
                out.append((target, args, task))
    return out


def stage_files(role: str) -> set[str]:
    """The stages a role has, from its task files."""
    return {s for f in (ROOT / "roles" / role / "tasks").glob("*.yml") if (s := stage_of(f.name))}


@pytest.mark.parametrize("role", ROLES)
def test_every_stage_include_is_tagged(role):
    found = includes(role)
    assert found, f"{role}: no include in tasks/main.yml"
    for target, args, task in found:
        if target.endswith("release_service:activate"):
            stage = "install"
        else:
            stage = stage_of(target) or ("configure" if target == "helper.yml" else None)
        assert stage, f"{role}: {task['name']} includes {target}, which is no stage"
        if target == "helper.yml":
            # The headers helper is written by configure and removed by remove.
            stage = "remove" if "absent" in str(task.get("when")) else "configure"
        want = [role, f"{role}_{stage}"]
        assert task.get("tags") == want, f"{role}: {task['name']} is tagged {task.get('tags')}, not {want}"
        applied = (args.get("apply") or {}).get("tags")
        assert applied == want, f"{role}: {task['name']} applies tags {applied} to what it includes, not {want}"


@pytest.mark.parametrize("role", ROLES)
def test_every_stage_file_has_its_tag(role):
    tagged = {t for _, _, task in includes(role) for t in task.get("tags", [])}
    for stage in sorted(stage_files(role)):
        assert f"{role}_{stage}" in tagged, f"{role}: stage {stage} has no {role}_{stage} tag"
    assert role in tagged


def test_activate_is_part_of_install():
    for role in ROLES:
        for target, _, task in includes(role):
            if target.endswith("release_service:activate"):
                assert f"{role}_configure" not in task["tags"], role
                assert task["tags"] == [role, f"{role}_install"], role


def test_ansible_lists_every_stage_tag(tmp_path):
    """What `ansible-playbook --list-tags` reports for a play of every role."""
    play = [
        {
            "name": "Every role",
            "hosts": "localhost",
            "gather_facts": False,
            "roles": [f"claude_monitoring.stack.{r}" for r in ROLES],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    proc = ansible_playbook("--list-tags", tmp_path / "play.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    match = re.search(r"TASK TAGS: \[([^\]]*)\]", proc.stdout)
    assert match, proc.stdout
    listed = {t.strip() for t in match.group(1).split(",")}
    for role in ROLES:
        want = {role} | {f"{role}_{stage}" for stage in stage_files(role)}
        assert want <= listed, f"{role}: missing {sorted(want - listed)} in {sorted(listed)}"
