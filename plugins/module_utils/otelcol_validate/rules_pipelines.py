# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule family: service, pipelines, connectors and component usage."""

from __future__ import annotations

from .components import KINDS, PROFILES_GATE, SIGNALS, passes_signal_through
from .values import _id_error, _id_parts, _tname


class PipelineRules:
    """Service, pipelines, connectors and component usage (a _Checker mixin)."""

    # service
    def check_service(self):
        service = self.data.get("service")
        if service is None or not isinstance(service, dict):
            if service is None:
                self.add("no-pipelines", ("service",) if "service" in self.data else (), "add service::pipelines")
            return
        for key in service:
            if key not in ("extensions", "pipelines", "telemetry"):
                self.add(
                    "unknown-key",
                    ("service", key),
                    f"service does not accept {key!r}; accepted keys: extensions, pipelines, telemetry",
                )
        exts = service.get("extensions")
        if exts is not None:
            if not isinstance(exts, list):
                self.add(
                    "wrong-type", ("service", "extensions"), f"service::extensions must be a list, not {_tname(exts)}"
                )
            else:
                for i, ref in enumerate(exts):
                    self.check_ref(("service", "extensions", i), ref, "extensions", "extension")
                    if isinstance(ref, str):
                        self.enabled_extensions.append(ref)
                        self.used["extensions"].add(ref)
        telemetry = service.get("telemetry")
        if telemetry is not None and not isinstance(telemetry, dict):
            self.add(
                "wrong-type", ("service", "telemetry"), f"service::telemetry must be a mapping, not {_tname(telemetry)}"
            )
        elif isinstance(telemetry, dict):
            self.check_telemetry_settings(telemetry)
            for key in telemetry:
                if key not in ("logs", "metrics", "traces", "resource"):
                    self.add(
                        "unknown-key",
                        ("service", "telemetry", key),
                        f"service::telemetry does not accept {key!r}; accepted keys: logs, metrics, traces, resource",
                    )
        pipelines = service.get("pipelines")
        if pipelines is None or pipelines == {}:
            self.add(
                "no-pipelines",
                ("service", "pipelines") if "pipelines" in service else ("service",),
                "service::pipelines is empty; define at least one pipeline (e.g. metrics: receivers/exporters)",
            )
            return
        if not isinstance(pipelines, dict):
            self.add(
                "wrong-type", ("service", "pipelines"), f"service::pipelines must be a mapping, not {_tname(pipelines)}"
            )
            return
        for pid, pipeline in pipelines.items():
            self.check_pipeline(pid, pipeline)

    def check_ref(self, path, ref, kind, what, also=None) -> bool:
        if not isinstance(ref, str):
            self.add("wrong-type", path, f"a {what} reference must be a string id, not {_tname(ref)}")
            return False
        problem = _id_error(ref)
        if problem:
            self.add("component-id-syntax", path, problem)
            return False
        if ref in self.declared[kind] or (also and ref in self.declared[also]):
            return True
        if ref in self.section(kind) or (also and ref in self.section(also)):
            return False  # declared, but its id already produced a finding
        where = kind if not also else f"{kind} or {also}"
        self.add(
            "undefined-component", path, f"{what} {ref!r} is not declared under {where}; declare it or fix the name"
        )
        return False

    def check_pipeline(self, pid, pipeline):
        path = ("service", "pipelines", pid)
        problem = _id_error(pid)
        if problem:
            self.add("component-id-syntax", path, f"pipeline {problem}")
            return
        signal = _id_parts(pid)[0]
        if signal not in SIGNALS:
            self.add(
                "unknown-signal",
                path,
                f"pipeline {pid!r} names unknown signal {signal!r}; use traces, metrics or logs (optionally /name)",
            )
            return
        if signal == "profiles" and PROFILES_GATE not in self.feature_gates:
            self.add(
                "profiles-feature-gate",
                path,
                f"profiles pipelines need the collector flag --feature-gates={PROFILES_GATE}; "
                "enable the gate (and pass it to the validator) or remove the pipeline",
            )
        if pipeline is not None and not isinstance(pipeline, dict):
            self.add("wrong-type", path, f"pipeline {pid} must be a mapping of receivers/processors/exporters")
            return
        pipeline = pipeline or {}
        lists = {}
        for key, value in pipeline.items():
            if key not in ("receivers", "processors", "exporters"):
                self.add(
                    "unknown-key",
                    (*path, key),
                    f"pipeline {pid} does not accept {key!r}; use receivers, processors, exporters",
                )
                continue
            if value is None:
                lists[key] = []
            elif not isinstance(value, list):
                example = f"[{value}]" if isinstance(value, str) else "[...]"
                self.add("wrong-type", (*path, key), f"{key} must be a list of ids, e.g. {key}: {example}")
                lists[key] = None
            else:
                lists[key] = value
        valid = {}
        for key, kind, also, what in (
            ("receivers", "receivers", "connectors", "receiver"),
            ("processors", "processors", None, "processor"),
            ("exporters", "exporters", "connectors", "exporter"),
        ):
            refs = lists.get(key, [])
            if refs is None:
                valid[key] = None
                continue
            if not refs and key != "processors":
                self.add(
                    "pipeline-no-" + key,
                    path,
                    f"pipeline {pid} has no {key}; list at least one under service::pipelines::{pid}::{key}",
                )
            good, seen = [], set()
            for i, ref in enumerate(refs):
                if key == "processors" and isinstance(ref, str) and ref in seen:
                    self.add(
                        "duplicate-processor",
                        (*path, key, i),
                        f"processor {ref!r} is listed twice in {pid}; remove one",
                    )
                    continue
                seen.add(ref if isinstance(ref, str) else None)
                if self.check_ref((*path, key, i), ref, kind, what, also):
                    good.append((i, ref))
            valid[key] = good
        self.pipelines[pid] = {"signal": signal, **valid}
        for key, kind in (("receivers", "receivers"), ("processors", "processors"), ("exporters", "exporters")):
            for i, ref in valid.get(key) or ():
                real_kind = kind if ref in self.declared[kind] else "connectors"
                self.used[real_kind].add(ref)
                spec = self.spec_for(real_kind, _id_parts(ref)[0])
                if real_kind == "connectors":
                    self.check_connector_signal((*path, key, i), ref, spec, signal, key)
                    continue
                if spec is not None and signal not in spec.signals:
                    self.add(
                        "unsupported-signal",
                        (*path, key, i),
                        f"{ref} does not support {signal}; it handles {', '.join(sorted(spec.signals))} only — "
                        f"move it to a matching pipeline",
                    )
        self.check_processor_order(pid, path, valid)

    def check_connector_signal(self, path, ref, spec, signal, side):
        # As an exporter a connector takes the pipeline's signal in; as a
        # receiver it emits its output signals into the pipeline.
        if spec is None or passes_signal_through(spec):
            return
        accepted = spec.signals if side == "exporters" else spec.output_signals
        if signal in accepted:
            return
        what = "take in" if side == "exporters" else "emit"
        self.add(
            "unsupported-signal",
            path,
            f"connector {ref} does not {what} {signal}; as {side[:-1]} it handles {', '.join(sorted(accepted))} only "
            f"— use it in a {' or '.join(sorted(accepted))} pipeline there",
        )

    def check_processor_order(self, pid, path, valid):
        procs = valid.get("processors")
        receivers = valid.get("receivers")
        if procs is None or receivers is None:
            return
        # A pipeline fed only by connectors inherits the upstream pipeline's protection.
        if receivers and all(ref in self.declared["connectors"] for _i, ref in receivers):
            return
        types = [_id_parts(ref)[0] for _i, ref in procs]
        proc_path = (*path, "processors") if procs else path
        if "memory_limiter" not in types:
            self.add(
                "memory-limiter-missing",
                proc_path,
                f"pipeline {pid} has no memory_limiter; add one as the first processor to shed load before OOM",
            )
        elif types[0] != "memory_limiter":
            i = procs[types.index("memory_limiter")][0]
            self.add(
                "memory-limiter-not-first",
                (*path, "processors", i),
                f"move memory_limiter to the front of {pid}'s processors",
            )
        if "batch" not in types:
            self.add(
                "batch-missing", proc_path, f"pipeline {pid} has no batch processor; add batch after memory_limiter"
            )
        elif "memory_limiter" in types and types.index("batch") < types.index("memory_limiter"):
            i = procs[types.index("batch")][0]
            self.add(
                "batch-before-memory-limiter", (*path, "processors", i), f"in {pid}, put batch after memory_limiter"
            )

    # connectors
    def check_connectors(self):
        for cid in self.declared["connectors"]:
            for kind in ("receivers", "exporters"):
                if cid in self.declared[kind]:
                    self.add(
                        "connector-id-clash",
                        ("connectors", cid),
                        f"{cid!r} is both a {kind[:-1]} and a connector; rename the connector (e.g. {cid}/connector)",
                    )
        as_exporter: dict[str, list] = {}
        as_receiver: dict[str, list] = {}
        for pid, p in self.pipelines.items():
            for key, table in (("exporters", as_exporter), ("receivers", as_receiver)):
                for i, ref in p.get(key) or ():
                    if ref in self.declared["connectors"] and ref not in self.declared[key]:
                        table.setdefault(ref, []).append((pid, i))
        clashing = {
            c for c in self.declared["connectors"] if c in self.declared["receivers"] or c in self.declared["exporters"]
        }
        for cid in self.declared["connectors"]:
            if cid in clashing:
                continue  # which side a reference means is ambiguous: connector-id-clash says so
            same_signal = self.canonical("connectors", _id_parts(cid)[0]) == "forward"
            for side, other, table, other_table in (
                ("exporter", "receiver", as_exporter, as_receiver),
                ("receiver", "exporter", as_receiver, as_exporter),
            ):
                for pid, i in table.get(cid, []):
                    signal = self.pipelines[pid]["signal"]
                    partners = [
                        q
                        for q, _i in other_table.get(cid, [])
                        if not same_signal or self.pipelines[q]["signal"] == signal
                    ]
                    if not partners:
                        need = f"a {signal} pipeline" if same_signal else "another pipeline"
                        self.add(
                            "connector-one-sided",
                            ("service", "pipelines", pid, side + "s", i),
                            f"connector {cid} is used as {side} in {pid} but not as {other} in {need}; "
                            f"add it to the {other}s of {need} or remove it",
                        )
        self.check_cycles(as_exporter, as_receiver)

    def check_cycles(self, as_exporter, as_receiver):
        edges: dict[str, list] = {pid: [] for pid in self.pipelines}
        for cid, exporting in as_exporter.items():
            same_signal = self.canonical("connectors", _id_parts(cid)[0]) == "forward"
            for pid, _i in exporting:
                for qid, _j in as_receiver.get(cid, []):
                    if not same_signal or self.pipelines[pid]["signal"] == self.pipelines[qid]["signal"]:
                        edges[pid].append((qid, cid))
        state: dict[str, int] = {}
        reported = set()

        def visit(pid, trail):
            state[pid] = 1
            for qid, cid in edges[pid]:
                if state.get(qid) == 1:
                    start = next((i for i, (p, _c) in enumerate(trail) if p == qid), len(trail))
                    cycle = [*trail[start:], (pid, cid)]
                    key = frozenset(p for p, _c in cycle)
                    if key not in reported:
                        reported.add(key)
                        text = " -> ".join(f"{p} --{c}-->" for p, c in cycle) + f" {qid}"
                        self.add(
                            "connector-cycle",
                            ("service", "pipelines", pid, "exporters"),
                            f"connectors form a cycle: {text}; break it by removing one connector use",
                        )
                elif qid not in state:
                    visit(qid, [*trail, (pid, cid)])
            state[pid] = 2

        for pid in edges:
            if pid not in state:
                visit(pid, [])

    # usage
    def check_usage(self):
        referenced = self.referenced_extensions()
        for kind in KINDS:
            for cid in self.declared[kind]:
                if cid in self.used[kind] or (kind == "extensions" and cid in referenced):
                    continue
                where = "service::extensions" if kind == "extensions" else "any pipeline"
                self.add(
                    "unused-component", (kind, cid), f"{cid} is declared but not used in {where}; use it or remove it"
                )
