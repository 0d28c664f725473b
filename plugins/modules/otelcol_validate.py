#!/usr/bin/python
# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: otelcol_validate
short_description: Validate an OpenTelemetry Collector configuration without running the collector
version_added: "1.0.0"
description:
  - Checks a collector configuration file or string statically, in check mode too, on the controller
    or on a target, and reports each problem with a stable rule id, the YAML path, the line in the file
    and a message that says what to change.
  - Catches what C(otelcol validate) misses because it only fails at start, such as an authenticator
    extension that is not enabled, two listeners on one port, or an environment variable that is unset.
  - The task fails when there are errors, or warnings with O(strict=true).
  - The rule catalogue is in C(docs/otelcol_validate.md) in the collection.
options:
  path:
    description:
      - Path of the configuration file on the managed host.
      - Exactly one of O(path) and O(content) is required.
    type: path
  content:
    description:
      - The configuration as a string, for example a rendered template.
      - Exactly one of O(path) and O(content) is required.
    type: str
  env:
    description:
      - Environment the collector runs with, used to resolve C(${env:NAME}), C(${NAME}) and
        C(${env:NAME:-default}).
      - Merged over O(env_file); keys here win.
      - When neither O(env) nor O(env_file) is given, unset variables without default are warnings, not errors.
      - The option is C(no_log). Its values are masked in the task result, in its warnings and in the invocation
        logged on the host, wherever they occur, so a short value such as C(1) masks every C(1) in the messages.
        Give the real value only where a rule needs it, otherwise any non-empty placeholder.
    type: dict
  env_file:
    description:
      - A systemd C(EnvironmentFile) on the managed host (C(NAME=VALUE) lines, C(#) comments, quotes).
    type: path
  binary:
    description:
      - Path of a collector binary on the managed host. When set, C(<binary> validate --config=<file>) also
        runs, with the environment from O(env) and O(env_file), and a rejection is added as an error with
        rule C(binary-validate).
    type: path
  version:
    description:
      - Version of the collector that will run the configuration, for example C(0.161.0).
      - Enables version-aware rules (removed components, default listen addresses). Without it the
        newest behaviour is assumed.
    type: str
  strict:
    description:
      - Treat warnings as errors.
    type: bool
    default: false
  feature_gates:
    description:
      - Collector feature gates that will be enabled, for example C(service.profilesSupport).
    type: list
    elements: str
    default: []
  ignore:
    description:
      - Rule ids to leave out of the result.
    type: list
    elements: str
    default: []
notes:
  - Each warning is also emitted as an Ansible warning; the structured list is RV(validation_warnings).
requirements:
  - PyYAML (on the host that runs the module)
attributes:
  check_mode:
    description: Can run in check mode and return the same result; the module never changes anything.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
author:
  - claude_monitoring.stack contributors (@claude-monitoring)
"""

EXAMPLES = r"""
# The rules only need to know that the token variable is set: a placeholder, never the token itself.
- name: Validate the rendered collector configuration before installing it
  claude_monitoring.stack.otelcol_validate:
    content: "{{ lookup('ansible.builtin.template', 'otelcol.yaml.j2') }}"
    env:
      OTELCOL_BEARER_TOKEN: placeholder-for-the-vault-token
    version: "0.161.0"
  delegate_to: localhost

# Where a rule does need a secret's value, it comes from vault and is masked in the output.
- name: Validate with the value of a secret
  claude_monitoring.stack.otelcol_validate:
    content: "{{ lookup('ansible.builtin.template', 'otelcol.yaml.j2') }}"
    env:
      OTELCOL_BEARER_TOKEN: "{{ vault_otelcol_bearer_token }}"
  delegate_to: localhost

- name: Validate the installed file with the unit's environment and the collector itself
  claude_monitoring.stack.otelcol_validate:
    path: /etc/otelcol-contrib/config.yaml
    env_file: /etc/otelcol-contrib/otelcol-contrib.conf
    binary: /usr/bin/otelcol-contrib
    strict: true

- name: Collect findings without failing
  claude_monitoring.stack.otelcol_validate:
    path: /etc/otelcol-contrib/config.yaml
    ignore: [unused-component]
  register: otelcol_check
  ignore_errors: true
"""

RETURN = r"""
valid:
  description: Whether the configuration has no errors (warnings do not count, even with O(strict)).
  returned: always
  type: bool
  sample: false
errors:
  description: The errors, in file order.
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: Stable rule id.
      type: str
      sample: extension-not-enabled
    path:
      description: YAML path of the offending value, keys joined by C(::).
      type: str
      sample: receivers::otlp::protocols::grpc::auth::authenticator
    line:
      description: 1-based line in the file, null when unknown.
      type: int
      sample: 21
    message:
      description: What is wrong and what to change.
      type: str
      sample: authenticator 'bearertokenauth' is declared but not listed in service::extensions
  sample:
    - rule: extension-not-enabled
      path: receivers::otlp::protocols::grpc::auth::authenticator
      line: 21
      message: authenticator 'bearertokenauth' is declared but not listed in service::extensions
validation_warnings:
  description:
    - The warnings, in file order, with the same keys as RV(errors).
    - Ansible reserves the C(warnings) key for its own messages, where each of these also appears as text.
  returned: always
  type: list
  elements: dict
  sample:
    - rule: receiver-no-tls
      path: receivers::otlp::protocols::grpc::endpoint
      line: 18
      message: otlp (grpc) listens on all interfaces without tls
"""

import subprocess  # noqa: E402 - Ansible modules start with their documentation

from ansible.module_utils.basic import AnsibleModule, missing_required_lib, remove_values  # noqa: E402
from ansible_collections.claude_monitoring.stack.plugins.module_utils.otelcol_validate import (  # noqa: E402
    RULES,
    YAML_IMPORT_ERROR,
    EnvFileError,
    build_env,
    check,
    parse_version,
)

ARGUMENT_SPEC = {
    "path": {"type": "path"},
    "content": {"type": "str"},
    # Environment values are often tokens: masked in results and in the invocation logged on the host.
    "env": {"type": "dict", "no_log": True},
    "env_file": {"type": "path"},
    "binary": {"type": "path"},
    "version": {"type": "str"},
    "strict": {"type": "bool", "default": False},
    "feature_gates": {"type": "list", "elements": "str", "default": []},
    "ignore": {"type": "list", "elements": "str", "default": []},
}


def run_module():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("path", "content")],
        required_one_of=[("path", "content")],
        supports_check_mode=True,
    )
    if YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    params = module.params
    unknown = [rule for rule in params["ignore"] if rule not in RULES]
    if unknown:
        module.fail_json(msg=f"unknown rule id(s) in ignore: {', '.join(unknown)}")
    try:
        parse_version(params["version"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    try:
        env = build_env(
            [params["env_file"]] if params["env_file"] else [],
            base=params["env"],
        )
    except (OSError, EnvFileError) as exc:
        module.fail_json(msg=f"cannot read env_file: {exc}")
    if env is not None:
        env = {str(key): "" if value is None else str(value) for key, value in env.items()}

    if params["path"] is not None:
        try:
            with open(params["path"], "rb") as handle:
                content = handle.read()
        except OSError as exc:
            module.fail_json(msg=f"cannot read {params['path']}: {exc}")
    else:
        content = params["content"]

    try:
        result = check(
            content,
            env=env,
            version=params["version"],
            feature_gates=params["feature_gates"],
            ignore=params["ignore"],
            binary=params["binary"],
        )
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        module.fail_json(msg=f"cannot run {params['binary']}: {exc}")

    where = params["path"] or "content"
    for finding in result.warnings:
        # Warnings skip the result's masking: a message may quote a value expanded from env.
        module.warn(
            remove_values(f"{where}:{finding.line or '?'}: {finding.rule}: {finding.message}", module.no_log_values)
        )
    output = {
        "changed": False,
        "valid": result.valid,
        "errors": [f.as_dict() for f in result.errors],
        "validation_warnings": [f.as_dict() for f in result.warnings],
    }
    if not result.ok(params["strict"]):
        module.fail_json(msg=f"{where}: {result.summary(params['strict'])}", **output)
    module.exit_json(**output)


def main():
    run_module()


if __name__ == "__main__":
    main()
