# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule catalogue and the result types every other file shares."""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"

# Rule id -> (severity, one-line summary). The single source of truth for the
# catalogue: tests check that docs/otelcol_validate.md documents every id.
# ``env-unset`` is an error when an environment was supplied and a warning
# when none was (the variable may be set where the collector runs).
RULES: dict[str, tuple[str, str]] = {
    "yaml-syntax": (ERROR, "the file is not valid YAML"),
    "yaml-duplicate-key": (ERROR, "a mapping repeats a key"),
    "empty-config": (ERROR, "the file holds no configuration"),
    "wrong-type": (ERROR, "a value has the wrong YAML type"),
    "unknown-top-level-key": (ERROR, "a top-level key the collector does not know"),
    "component-id-syntax": (ERROR, "a component or pipeline id is not type[/name]"),
    "unknown-signal": (ERROR, "a pipeline id names no known signal"),
    "profiles-feature-gate": (ERROR, "a profiles pipeline without the service.profilesSupport gate"),
    "no-pipelines": (ERROR, "service::pipelines is missing or empty"),
    "pipeline-no-receivers": (ERROR, "a pipeline has no receivers"),
    "pipeline-no-exporters": (ERROR, "a pipeline has no exporters"),
    "undefined-component": (ERROR, "a reference to a component that is not declared"),
    "duplicate-processor": (ERROR, "a processor is listed twice in one pipeline"),
    "unsupported-signal": (ERROR, "a component used in a pipeline of a signal it does not support"),
    "connector-one-sided": (ERROR, "a connector used only as exporter or only as receiver"),
    "connector-cycle": (ERROR, "pipelines joined by connectors form a cycle"),
    "connector-id-clash": (ERROR, "a connector id equals a receiver or exporter id"),
    "unknown-key": (ERROR, "a key the component does not accept"),
    "missing-required-key": (ERROR, "a key the component requires is missing"),
    "conflicting-keys": (ERROR, "two keys that cannot be set together"),
    "invalid-value": (ERROR, "a value outside the accepted set"),
    "extension-undeclared": (ERROR, "an authenticator or storage names an undeclared extension"),
    "extension-not-enabled": (ERROR, "an authenticator or storage extension is not in service::extensions"),
    "port-conflict": (ERROR, "two listeners on one port"),
    "endpoint-scheme": (ERROR, "a listening endpoint carries a URL scheme"),
    "endpoint-syntax": (ERROR, "a listening endpoint is not host:port"),
    "env-var-name": (ERROR, "an environment variable reference has an invalid name"),
    "env-provider-unsupported": (ERROR, "a ${scheme:...} reference names an unsupported provider"),
    "env-unset": (ERROR, "an environment variable without default is not set"),
    "memory-limiter-limit": (ERROR, "memory_limiter without limit_mib or limit_percentage"),
    "memory-limiter-check-interval": (ERROR, "memory_limiter without a positive check_interval"),
    "memory-limiter-spike": (ERROR, "memory_limiter spike limit not below its limit"),
    "batch-max-below-size": (ERROR, "batch send_batch_max_size below send_batch_size"),
    "ottl-syntax": (ERROR, "an OTTL statement with unbalanced quotes or brackets"),
    "ottl-function": (ERROR, "an OTTL function that does not exist in the statement's context"),
    "ottl-context": (ERROR, "an OTTL context or path the signal does not have"),
    "int-overflow": (ERROR, "an integer beyond its setting's range, which the collector silently wraps"),
    "component-wrong-kind": (ERROR, "a component declared under a kind it does not belong to"),
    "removed-component": (ERROR, "a component removed from the target collector version"),
    "removed-setting": (ERROR, "a setting removed from the target collector version"),
    "deprecated-component": (WARNING, "a component deprecated and later removed"),
    "unknown-component-type": (WARNING, "a component type this validator does not know"),
    "memory-limiter-missing": (WARNING, "a pipeline without memory_limiter"),
    "memory-limiter-not-first": (WARNING, "memory_limiter is not the first processor"),
    "batch-missing": (WARNING, "a pipeline without batch"),
    "batch-before-memory-limiter": (WARNING, "batch runs before memory_limiter"),
    "loki-push-endpoint": (WARNING, "otlphttp sends to Loki's push API instead of /otlp"),
    "receiver-no-tls": (WARNING, "a receiver beyond loopback without TLS"),
    "receiver-no-auth": (WARNING, "a receiver beyond loopback without authentication"),
    "tls-insecure": (WARNING, "TLS turned off or certificate checks skipped"),
    "literal-secret": (WARNING, "a secret written in the file"),
    "debug-detailed": (WARNING, "debug exporter with detailed verbosity"),
    "unused-component": (WARNING, "a declared component that nothing uses"),
    "debug-endpoint-exposed": (WARNING, "pprof or zpages listening beyond loopback"),
    "binary-validate": (ERROR, "the collector binary rejected the configuration"),
}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    path: str
    line: int | None
    message: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "path": self.path, "line": self.line, "message": self.message}


@dataclass
class Result:
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "errors": [f.as_dict() for f in self.errors],
            "warnings": [f.as_dict() for f in self.warnings],
        }

    def summary(self, strict: bool = False, limit: int = 3) -> str:
        """A one-line message naming the first failing rules and lines."""
        bad = self.errors + (self.warnings if strict else [])
        if not bad:
            return "configuration is valid"
        head = "; ".join(f"line {f.line or '?'}: {f.rule}: {f.message}" for f in bad[:limit])
        more = f" (and {len(bad) - limit} more)" if len(bad) > limit else ""
        kind = "error(s)" if self.errors else "warning(s) (strict)"
        return f"{len(bad)} {kind}: {head}{more}"


class Unresolved(str):
    """A string whose ${...} references could not be resolved here."""

    __slots__ = ()


class EnvFileError(ValueError):
    pass
