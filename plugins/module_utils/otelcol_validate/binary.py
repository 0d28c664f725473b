# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cross-check with the collector binary: `<binary> validate --config=FILE`."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile

from .findings import ERROR, Finding, Result

_BINARY_PATH_RE = re.compile(
    r"((?:receivers|processors|exporters|connectors|extensions|service)::[^\s:'\"]+(?:::[^\s:'\"]+)*)"
)


def run_binary(binary, config_path, env=None, timeout=120) -> Finding | None:
    """Run ``<binary> validate --config=<config_path>`` with ``env`` (None:
    this process's environment). Returns a binary-validate finding, or None
    when the binary accepts the configuration. Raises OSError when the binary
    cannot be run."""
    run_env = dict(os.environ) if env is None else {k: str(v) for k, v in env.items()}
    proc = subprocess.run(
        [binary, "validate", f"--config={config_path}"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode == 0:
        return None
    text = (proc.stderr or proc.stdout or "").strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # The last lines carry the error; earlier ones are logs.
    message = " ".join(ln.strip() for ln in lines[-6:]) or f"exit status {proc.returncode}"
    match = _BINARY_PATH_RE.search(message)
    return Finding(
        "binary-validate",
        ERROR,
        match.group(1) if match else "",
        None,
        f"{os.path.basename(binary)} validate failed: {message[:2000]}",
    )


def validate_with_binary(result: Result, binary, content, env=None, lines=None) -> Result:
    """Merge the binary's verdict into ``result`` (content is the config text)."""
    fd, tmp = tempfile.mkstemp(prefix="otelcol-validate-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content if isinstance(content, str) else content.decode("utf-8", "replace"))
        finding = run_binary(binary, tmp, env)
    finally:
        os.unlink(tmp)
    if finding is not None:
        if finding.path and lines:
            key = tuple(finding.path.split("::"))
            while key and key not in lines:
                key = key[:-1]
            if key:
                finding = Finding(finding.rule, finding.severity, finding.path, lines[key], finding.message)
        result.errors.append(finding)
    return result
