"""Claude Code dashboards as code: the generator of roles/grafana/files/dashboards.

    python -m tools.dashboards            # write the JSON files and the README block
    python -m tools.dashboards --check    # exit 1 when anything committed differs

Needs the Foundation SDK (tests/requirements.txt); ``queries`` and ``promql``
need only the standard library.
"""
