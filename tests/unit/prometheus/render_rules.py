"""Render the prometheus role's alert rules template the way the role does.

Same delimiters as the role's template task ([[ ]], [% %]), the role's
defaults, and Ansible's own filters. Used by the pytest test next to it; run it
by hand to look at the rendered rules:

    python tests/unit/prometheus/render_rules.py > /tmp/claude_code.rules.yml
"""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "prometheus"
TEMPLATE = ROLE / "templates" / "claude_code.rules.yml.j2"
# What the role measures on the host when prometheus_alert_storage_capacity_bytes is 0.
STORAGE_CAPACITY_BYTES = 50 * 1024**3


def role_defaults() -> dict:
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))


def render(overrides: dict | None = None) -> str:
    from ansible.plugins.filter.core import FilterModule as CoreFilters
    from ansible.plugins.filter.mathstuff import FilterModule as MathFilters

    env = jinja2.Environment(
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(CoreFilters().filters())
    env.filters.update(MathFilters().filters())
    variables = role_defaults()
    variables.update(
        ansible_managed="Rendered for the unit tests",
        prometheus__storage_capacity_bytes=STORAGE_CAPACITY_BYTES,
    )
    variables.update(overrides or {})
    return env.from_string(TEMPLATE.read_text(encoding="utf-8")).render(variables)


if __name__ == "__main__":
    sys.stdout.write(render())
