"""Where the time of a playbook run goes: per role and per task kind.

Enabled by benchmarks/site_rerun.sh (ANSIBLE_CALLBACK_PLUGINS and
ANSIBLE_CALLBACKS_ENABLED). Each task's wall time runs from its start to the
start of the next task (or the end of the play), so the rows add up to the
run. A task is counted under the role of its play (the one the playbook
names) and, when it comes from a role that role includes (release_service),
under "<play role> > <role>". Prints two tables at the end and writes them
as JSON to $CM_RERUN_PROFILE_JSON when that is set.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: rerun_profile
    type: aggregate
    short_description: time per role and per task kind
    description:
      - Sums each task's wall time per role and per kind of task (module).
    requirements:
      - enabled in the callbacks_enabled setting
"""

# Task kinds: modules grouped the way the benchmark reports them.
KINDS = {
    "gather_facts": "fact gathering",
    "setup": "fact gathering",
    "command": "command/shell",
    "shell": "command/shell",
    "set_fact": "set_fact/assert/debug",
    "assert": "set_fact/assert/debug",
    "debug": "set_fact/assert/debug",
    "fail": "set_fact/assert/debug",
    "include_tasks": "include_*/import_*",
    "include_role": "include_*/import_*",
    "import_tasks": "include_*/import_*",
    "import_role": "include_*/import_*",
    "systemd": "systemd",
    "systemd_service": "systemd",
    "service": "systemd",
    "meta": "meta (flush_handlers)",
}

TOP = 25


def kind_of(action: str) -> str:
    short = action.rsplit(".", 1)[-1]
    return KINDS.get(short, short)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "rerun_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._current: tuple[str, str, str] | None = None
        self._started = 0.0
        self._play_role = ""
        self._by_role: dict[str, list[float]] = {}
        self._by_kind: dict[str, list[float]] = {}
        self._by_task: dict[str, list[float]] = {}
        self._first = time.monotonic()

    def _close(self) -> None:
        if self._current is None:
            return
        spent = time.monotonic() - self._started
        role, kind, name = self._current
        for table, key in ((self._by_role, role), (self._by_kind, kind), (self._by_task, f"{role}: {name}")):
            row = table.setdefault(key, [0.0, 0])
            row[0] += spent
            row[1] += 1
        self._current = None

    def v2_playbook_on_play_start(self, play) -> None:
        self._close()
        roles = [r.get_name(include_role_fqcn=False) for r in play.get_roles()]
        self._play_role = ", ".join(roles) or play.get_name()

    def _start(self, task) -> None:
        self._close()
        role = self._play_role
        own = task._role.get_name(include_role_fqcn=False) if task._role else ""
        if own and own != role:
            role = f"{role} > {own}"
        self._current = (role, kind_of(task.action), task.get_name())
        self._started = time.monotonic()

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task) -> None:
        self._start(task)

    def _table(self, title: str, rows: dict[str, list[float]], total: float) -> list[str]:
        lines = [f"| {title} | tasks | seconds | share |", "|---|---:|---:|---:|"]
        for key, (spent, count) in sorted(rows.items(), key=lambda kv: -kv[1][0]):
            lines.append(f"| {key} | {count} | {spent:.1f} | {100 * spent / total:.0f} % |")
        return lines

    def v2_playbook_on_stats(self, stats) -> None:
        self._close()
        total = time.monotonic() - self._first
        lines = [f"rerun_profile: {total:.1f} s from the first play to the stats", ""]
        lines += self._table("role", self._by_role, total)
        lines.append("")
        lines += self._table("task kind", self._by_kind, total)
        lines.append("")
        slowest = dict(sorted(self._by_task.items(), key=lambda kv: -kv[1][0])[:TOP])
        lines += self._table(f"slowest {TOP} tasks (summed over their runs)", slowest, total)
        self._display.display("\n".join(lines))
        out = os.environ.get("CM_RERUN_PROFILE_JSON")
        if out:
            with open(out, "w", encoding="utf-8") as f:
                json.dump(
                    {"total": total, "roles": self._by_role, "kinds": self._by_kind, "tasks": self._by_task},
                    f,
                    indent=1,
                )
