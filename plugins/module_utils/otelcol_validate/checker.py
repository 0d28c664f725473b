# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checker: holds one configuration and its findings, and runs the rule families in order."""

from __future__ import annotations

from .components import KINDS
from .env import _EnvResolver
from .findings import RULES, Finding
from .ottl import OttlRules
from .rules_components import ComponentRules
from .rules_pipelines import PipelineRules
from .rules_security import SecurityRules, _Listener
from .rules_settings import SettingsRules
from .rules_structure import StructureRules
from .values import _tname

_ONCE_PER_PATH = frozenset(("unknown-key", "wrong-type", "invalid-value"))
# A message quotes the offending value; a value of thousands of characters is shown by its two ends.
_MESSAGE_MAX = 1000


def _clip(message: str) -> str:
    if len(message) <= _MESSAGE_MAX:
        return message
    half = _MESSAGE_MAX // 2
    return f"{message[:half]} [...{len(message) - 2 * half} characters...] {message[-half:]}"


class _Checker(StructureRules, SettingsRules, ComponentRules, OttlRules, PipelineRules, SecurityRules):
    """One configuration under check. The rule families are mixins, one file each:
    rules_structure (sections, components, keys), rules_settings (typed settings
    from the generated catalogue), ottl (OTTL statements), rules_components (per-component
    settings), rules_pipelines (service, pipelines, connectors, usage) and
    rules_security (extension references, listeners, security warnings)."""

    def __init__(self, data, lines, env, version, feature_gates):
        self.raw = data
        self.lines = lines
        self.env = env
        self.version = version
        self.feature_gates = frozenset(feature_gates or ())
        self.findings: list[Finding] = []
        self.data: dict = {}
        self.declared: dict[str, dict[str, object]] = {k: {} for k in KINDS}
        self.pipelines: dict[str, dict] = {}  # valid pipeline id -> {receivers, processors, exporters}
        self.used: dict[str, set] = {k: set() for k in KINDS}
        self.enabled_extensions: list[str] = []
        self._listeners: list[_Listener] = []
        self._reported: set = set()
        self._off: set = set()  # paths of sections with enabled: false
        self.expanded: set = set()  # paths of whole-value ${...} references that expanded to a number or bool

    # reporting
    def line_of(self, path) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def add(self, rule, path, message, severity=None, line=None):
        path = tuple(path)
        if rule in _ONCE_PER_PATH:
            # Hand-written and generated checks may both see a setting: one finding each.
            if (rule, path) in self._reported:
                return
            self._reported.add((rule, path))
        self.findings.append(
            Finding(
                rule=rule,
                severity=severity or RULES[rule][0],
                path="::".join(str(p) for p in path),
                line=line if line is not None else self.line_of(path),
                message=_clip(message),
            )
        )

    # driver
    def run(self):
        if not isinstance(self.raw, dict):
            self.add("wrong-type", (), f"the configuration must be a mapping of sections, not {_tname(self.raw)}")
            return
        self.data = _EnvResolver(self, self.env).resolve(self.raw, ())
        self.check_top_level()
        self.check_components()
        self.check_service()
        self.check_connectors()
        self.check_usage()
        self.check_extension_refs()
        self.check_listeners()
        self.check_security()
