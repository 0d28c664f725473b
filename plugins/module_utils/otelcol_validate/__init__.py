# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static validator for OpenTelemetry Collector configuration files.

Pure Python (PyYAML and the standard library only): the Ansible module
``claude_monitoring.stack.otelcol_validate`` and the ``otelcol-validate``
command line both call :func:`validate`. Every finding carries a stable rule
id, the YAML path (``service::pipelines::logs``), the 1-based line in the file
and a message that says what to change. The rule catalogue is :data:`RULES`;
docs/otelcol_validate.md describes each rule.

Where to look, by what you are chasing:

- ``findings``: the rule ids (RULES), Finding and Result;
- ``yaml_lines``: YAML loading with the line of every key;
- ``env``: environment files and ``${...}`` resolution;
- ``values``: versions, durations, sizes, ids, endpoints;
- ``components``: hand-written knowledge of each component type;
- ``catalogue``: typed settings of every component, generated from the Go
  sources by tests/platform/otelcol-catalogue.py (do not edit by hand);
- ``rules_structure``, ``rules_components``, ``rules_settings``,
  ``rules_pipelines``, ``rules_security``, ``ottl``: the rule families;
- ``checker``: runs the families over one configuration;
- ``api``: validate(), validate_data(), validate_file(), check();
- ``binary``: the cross-check with ``otelcol validate``;
- ``cli``: the command line.
"""

from __future__ import annotations

from .api import check, validate, validate_data, validate_file
from .binary import run_binary, validate_with_binary
from .checker import _Checker
from .cli import main
from .components import COMPONENTS, TYPE_ALIASES, ComponentSpec
from .env import _EnvResolver, build_env, parse_env_file, parse_env_pairs
from .findings import ERROR, RULES, WARNING, EnvFileError, Finding, Result, Unresolved
from .values import _host_port, _id_error, normalise_host, parse_duration, parse_version
from .yaml_lines import YAML_IMPORT_ERROR, load_yaml

__all__ = [
    "COMPONENTS",
    "ERROR",
    "RULES",
    "TYPE_ALIASES",
    "WARNING",
    "YAML_IMPORT_ERROR",
    "ComponentSpec",
    "EnvFileError",
    "Finding",
    "Result",
    "Unresolved",
    "_Checker",
    "_EnvResolver",
    "_host_port",
    "_id_error",
    "build_env",
    "check",
    "load_yaml",
    "main",
    "normalise_host",
    "parse_duration",
    "parse_env_file",
    "parse_env_pairs",
    "parse_version",
    "run_binary",
    "validate",
    "validate_data",
    "validate_file",
    "validate_with_binary",
]
