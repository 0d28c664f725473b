"""The OpenTelemetry SDK side: one MeterProvider and one LoggerProvider per
emulated Claude Code process, exporting over OTLP like the client does, with
every export's outcome recorded.

Counter increments wait in integer units (micro-dollars, milliseconds,
tokens) until the metric reader collects, and reach the SDK's counter as one
addition per data point: each exported delta is the float of an exact
integer sum, so the figures a backend adds up are exact to the micro-dollar.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from . import client
from .truth import truth as make_truth

PROTOCOLS = ("http/protobuf", "http/json", "grpc")


@dataclass
class Connection:
    """Where and how the emulated clients send."""

    endpoints: list[str] | None = None  # None: the plan's
    protocol: str = "http/protobuf"
    token: str | None = None
    team_tokens: dict[str, str] = field(default_factory=dict)  # team name -> token
    ca_file: str | None = None
    insecure_tls: bool = False
    timeout: float = 5.0  # seconds per export, retries included (OTEL_EXPORTER_OTLP_TIMEOUT)


@dataclass
class Result:
    truth: dict
    errors: list[str]
    elapsed: float

    @property
    def ok(self) -> bool:
        return not self.errors and all(e["ok"] for e in self.truth["exports"])


class _Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.exports: list[dict] = []
        self.errors: list[str] = []

    def add(self, proc, endpoint: str, url: str, signal: str, ok: bool, micros: int, items: int, error: str | None):
        entry = {
            "t": round(time.time(), 3),
            "endpoint": endpoint,
            "signal": signal,
            "cost_usd": client.usd(micros),
            "cost_usd_micros": micros,
            "ok": ok,
            "session_id": proc.session_id,
            "start_type": proc.start_type,
            "items": items,
        }
        if not ok:
            entry["error"] = error or "export failed"
        with self.lock:
            self.exports.append(entry)
            if not ok:
                message = f"{signal} export to {url} failed: {entry['error']}"
                if message not in self.errors:
                    self.errors.append(message)


class _Probe:
    """What the transport saw on the last request of one exporter."""

    def __init__(self):
        self.error: str | None = None


def _partial(response, kind: str) -> str | None:
    ps = getattr(response, "partial_success", None)
    if ps is None:
        return None
    rejected = ps.rejected_data_points if kind == "metrics" else ps.rejected_log_records
    if rejected:
        return f"partial success: {rejected} rejected: {ps.error_message}"
    return None


def _messages(kind: str):
    if kind == "metrics":
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as pb

        return pb.ExportMetricsServiceRequest, pb.ExportMetricsServiceResponse
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as pb

    return pb.ExportLogsServiceRequest, pb.ExportLogsServiceResponse


def _http_transport(kind: str, probe: _Probe, conn: Connection, as_json: bool):
    from google.protobuf import json_format
    from opentelemetry.exporter.http.transport._base import BaseHTTPTransport
    from opentelemetry.exporter.http.transport._requests import RequestsHTTPTransport

    request_type, response_type = _messages(kind)
    verify: bool | str = conn.ca_file or not conn.insecure_tls
    if verify is False:  # asked for: do not warn about it on every request
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    session = None
    if conn.ca_file or conn.insecure_tls:
        import requests

        class Session(requests.Session):
            # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a session's own verify: not here.
            def merge_environment_settings(self, url, proxies, stream, verify, cert):
                settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
                settings["verify"] = self.verify
                return settings

        session = Session()
    inner = RequestsHTTPTransport(verify=verify, session=session)

    class Recording(BaseHTTPTransport):
        def request(self, method, url, *, headers=None, timeout=None, data=None):
            if as_json and data is not None:
                # OTLP/JSON: camelCase field names, enums as integers (aggregationTemporality: 1).
                message = request_type.FromString(data)
                data = json_format.MessageToJson(message, use_integers_for_enums=True, indent=None).encode()
                headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
                headers["Content-Type"] = "application/json"
            result = inner.request(method, url, headers=headers, timeout=timeout, data=data)
            if result.error is not None:
                probe.error = f"{type(result.error).__name__}: {result.error}"
            elif result.status_code is None or not 200 <= result.status_code < 300:
                body = ""
                try:
                    body = result.text().strip()[:200]
                except Exception:
                    body = ""
                probe.error = f"HTTP {result.status_code} {result.reason or ''}".rstrip() + (
                    f": {body}" if body else ""
                )
            else:
                probe.error = None
                try:
                    content = result.content()
                    if content:
                        response = (
                            json_format.Parse(content, response_type(), ignore_unknown_fields=True)
                            if as_json
                            else response_type.FromString(content)
                        )
                        probe.error = _partial(response, kind)
                except Exception:
                    pass
            return result

        def close(self):
            inner.close()

        def is_connection_error(self, exception):
            return inner.is_connection_error(exception)

    return Recording()


def _grpc_class(base, kind: str, probe: _Probe):
    import grpc

    class Stub:
        def __init__(self, stub):
            self._stub = stub

        def Export(self, request, metadata=None, timeout=None):
            try:
                response = self._stub.Export(request=request, metadata=metadata, timeout=timeout)
            except grpc.RpcError as error:
                probe.error = f"gRPC {error.code().name}: {error.details()}"
                raise
            probe.error = _partial(response, kind)
            return response

    class Recording(base):
        def _initialize_channel_and_stub(self):
            super()._initialize_channel_and_stub()
            self._client = Stub(self._client)

    return Recording


def _temporality(name: str) -> dict:
    from opentelemetry.sdk.metrics import Counter
    from opentelemetry.sdk.metrics.export import AggregationTemporality

    value = AggregationTemporality.DELTA if name == "delta" else AggregationTemporality.CUMULATIVE
    return {Counter: value}


def _url(endpoint: str, protocol: str) -> str:
    if protocol == "grpc":
        return endpoint
    if "://" not in endpoint:
        endpoint = "http://" + endpoint
    return endpoint.rstrip("/")


def _exporters(conn: Connection, endpoint: str, token: str | None, temporality: str, probes, want_metrics: bool):
    """The SDK's OTLP exporters for one process: (metric exporter or None, log exporter, metric URL, log URL)."""
    base = _url(endpoint, conn.protocol)
    if conn.protocol == "grpc":
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        parsed = urlparse(base if "://" in base else "//" + base)
        tls = parsed.scheme == "https" or (parsed.scheme != "http" and conn.ca_file is not None)
        credentials = None
        if tls:
            if conn.insecure_tls:
                raise ValueError("--insecure-tls is not available with grpc: pass --ca-file")
            root = Path(conn.ca_file).read_bytes() if conn.ca_file else None
            credentials = grpc.ssl_channel_credentials(root_certificates=root)
        target = parsed.netloc or base
        headers = (("authorization", f"Bearer {token}"),) if token else ()
        kw = {"insecure": not tls, "credentials": credentials, "headers": headers, "timeout": conn.timeout}
        metrics = None
        if want_metrics:
            metrics = _grpc_class(OTLPMetricExporter, "metrics", probes["metrics"])(
                endpoint=target, preferred_temporality=_temporality(temporality), **kw
            )
        logs = _grpc_class(OTLPLogExporter, "logs", probes["logs"])(endpoint=target, **kw)
        return metrics, logs, target, target
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    as_json = conn.protocol == "http/json"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    metrics = None
    if want_metrics:
        metrics = OTLPMetricExporter(
            endpoint=base + "/v1/metrics",
            headers=headers,
            timeout=conn.timeout,
            preferred_temporality=_temporality(temporality),
            _transport=_http_transport("metrics", probes["metrics"], conn, as_json),
        )
    logs = OTLPLogExporter(
        endpoint=base + "/v1/logs",
        headers=headers,
        timeout=conn.timeout,
        _transport=_http_transport("logs", probes["logs"], conn, as_json),
    )
    return metrics, logs, base + "/v1/metrics", base + "/v1/logs"


class _Process:
    """One emulated client process: its providers, its pending counts, its exports."""

    def __init__(self, plan, proc, conn: Connection, temporality: str, interval: float, metrics: bool, recorder):
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import (
            BatchLogRecordProcessor,
            LogRecordExporter,
            LogRecordExportResult,
        )
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import (
            MetricExporter,
            MetricExportResult,
            PeriodicExportingMetricReader,
        )
        from opentelemetry.sdk.resources import Resource

        self.proc = proc
        user = plan.users[proc.user]
        machine = plan.machines[proc.machine]
        endpoint = plan.endpoints[proc.endpoint]
        token = conn.team_tokens.get(user.team, conn.token)
        self.common = client.common_attributes(user, machine, proc.session_id)
        # Resource(...) and not Resource.create(...): no telemetry.sdk.* attributes, no environment.
        resource = Resource(client.resource_attributes(user, machine))
        probes = {"metrics": _Probe(), "logs": _Probe()}
        metric_exporter, log_exporter, metric_url, log_url = _exporters(
            conn, endpoint, token, temporality, probes, metrics
        )
        self.pending: dict[tuple, int] = {}
        self.lock = threading.Lock()
        self.carried = 0
        owner = self

        class Logs(LogRecordExporter):
            def export(self, batch):
                micros = sum(
                    int(r.log_record.attributes.get("cost_usd_micros", 0))
                    for r in batch
                    if r.log_record.attributes.get("event.name") == "api_request"
                )
                probes["logs"].error = None
                result = log_exporter.export(batch)
                ok = result == LogRecordExportResult.SUCCESS and probes["logs"].error is None
                recorder.add(proc, endpoint, log_url, "logs", ok, micros, len(batch), probes["logs"].error)
                return result

            def shutdown(self):
                log_exporter.shutdown()

            def force_flush(self, timeout_millis: int = 30000) -> bool:
                return log_exporter.force_flush(timeout_millis)

        self.logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        self.logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(
                Logs(),
                schedule_delay_millis=interval * 1000,
                export_timeout_millis=(conn.timeout + 1) * 1000,
            )
        )
        self.logger = self.logger_provider.get_logger(client.EVENT_SCOPE, client.VERSION)

        self.meter_provider = None
        if not metrics:
            return

        class Metrics(MetricExporter):
            def __init__(self):
                super().__init__(
                    preferred_temporality=metric_exporter._preferred_temporality,
                    preferred_aggregation=metric_exporter._preferred_aggregation,
                )

            def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
                points = sum(
                    len(m.data.data_points)
                    for rm in metrics_data.resource_metrics
                    for sm in rm.scope_metrics
                    for m in sm.metrics
                )
                if not points:
                    return MetricExportResult.SUCCESS  # nothing new: no request, as the client
                probes["metrics"].error = None
                result = metric_exporter.export(metrics_data, timeout_millis=timeout_millis)
                ok = result == MetricExportResult.SUCCESS and probes["metrics"].error is None
                recorder.add(proc, endpoint, metric_url, "metrics", ok, owner.carried, points, probes["metrics"].error)
                return result

            def force_flush(self, timeout_millis: float = 10_000) -> bool:
                return metric_exporter.force_flush(timeout_millis)

            def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
                metric_exporter.shutdown(timeout_millis=timeout_millis)

        class Reader(PeriodicExportingMetricReader):
            def __init__(self, exporter):
                self._emu_lock = threading.Lock()
                super().__init__(
                    exporter,
                    export_interval_millis=interval * 1000,
                    export_timeout_millis=(conn.timeout + 1) * 1000,
                )

            def collect(self, timeout_millis: float = 10_000) -> None:
                # One collection at a time, each taking what is pending at its start.
                with self._emu_lock:
                    owner.carried = owner._flush()
                    super().collect(timeout_millis=timeout_millis)

        self.meter_provider = MeterProvider(
            resource=resource, metric_readers=[Reader(Metrics())], shutdown_on_exit=False
        )
        meter = self.meter_provider.get_meter(client.METER_SCOPE, client.VERSION)
        self.counters = {
            name: meter.create_counter(name, unit=unit, description=description)
            for name, (unit, description) in client.METRICS.items()
        }

    def _flush(self) -> int:
        """Hand what is pending to the SDK's counters; returns the cost (micro-dollars) handed over."""
        if not hasattr(self, "counters"):
            return 0
        with self.lock:
            pending, self.pending = self.pending, {}
        micros = 0
        for (metric, attrs), units in pending.items():
            if metric == "claude_code.cost.usage":
                micros += units
            self.counters[metric].add(units / client.SCALE.get(metric, 1), {**self.common, **dict(attrs)})
        return micros

    def count(self, c) -> None:
        if self.meter_provider is None:
            return
        key = (c.metric, tuple(c.attributes.items()))
        with self.lock:
            self.pending[key] = self.pending.get(key, 0) + c.units

    def emit(self, e) -> None:
        ns = time.time_ns() // 1_000_000 * 1_000_000  # the client's millisecond clock
        stamp = datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        stamp += f".{ns // 1_000_000 % 1000:03d}Z"
        self.logger.emit(
            timestamp=ns,
            observed_timestamp=ns,
            body=f"claude_code.{e.name}",
            attributes=client.event_attributes(self.common, e.name, stamp, e.sequence, e.attributes),
        )

    def close(self) -> None:
        # The client's exit: the last delta and the last events go out before it ends.
        if self.meter_provider is not None:
            self.meter_provider.force_flush()
            self.meter_provider.shutdown()
        self.logger_provider.force_flush()
        self.logger_provider.shutdown()


def _import_sdk(protocol: str) -> None:
    import opentelemetry.sdk._logs.export
    import opentelemetry.sdk.metrics.export

    if protocol == "grpc":
        import opentelemetry.exporter.otlp.proto.grpc._log_exporter
        import opentelemetry.exporter.otlp.proto.grpc.metric_exporter
    else:
        import opentelemetry.exporter.http.transport._requests
        import opentelemetry.exporter.otlp.proto.http._log_exporter
        import opentelemetry.exporter.otlp.proto.http.metric_exporter  # noqa: F401
    _messages("metrics")
    _messages("logs")


def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def run(
    plan,
    connection: Connection | None = None,
    temporality: str = "delta",
    export_interval: float = 2.0,
    metrics: bool = True,
) -> Result:
    """Send the plan: every process at its time, at most plan.parallel at once."""
    conn = connection or Connection()
    if conn.endpoints is None:
        conn.endpoints = list(plan.endpoints)
    if conn.protocol not in PROTOCOLS:
        raise ValueError(f"protocol {conn.protocol!r}: one of {', '.join(PROTOCOLS)}")
    if temporality not in ("delta", "cumulative"):
        raise ValueError("temporality: delta or cumulative")
    if conn.endpoints != plan.endpoints:
        raise ValueError("the plan was made for other endpoints")
    _import_sdk(conn.protocol)  # before the clock starts: the first process must not start late
    recorder = _Recorder()
    done = [threading.Event() for _ in plan.processes]
    gate = threading.Semaphore(plan.parallel)
    t0 = time.monotonic()

    def work(proc):
        try:
            if proc.after is not None:
                done[proc.after].wait()
            _sleep_until(t0 + proc.start)
            with gate:
                emulated = _Process(plan, proc, conn, temporality, export_interval, metrics, recorder)
                try:
                    for step in proc.steps:
                        _sleep_until(t0 + step.at)
                        for c in step.counts:
                            emulated.count(c)
                        for e in step.events:
                            emulated.emit(e)
                    _sleep_until(t0 + proc.end)
                finally:
                    emulated.close()
        except Exception as error:  # a process that cannot even start is a failed run, not a hang
            with recorder.lock:
                recorder.errors.append(f"process {proc.session_id} ({proc.start_type}): {error}")
        finally:
            done[proc.index].set()

    threads = [threading.Thread(target=work, args=(p,), name=f"emu-{p.index}", daemon=True) for p in plan.processes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    exports = sorted(recorder.exports, key=lambda e: e["t"])
    return Result(make_truth(plan, conn.protocol, temporality, metrics, exports), recorder.errors, elapsed)


def quiet_sdk_logs() -> None:
    """The exporters log every failure themselves; the run reports them once, by endpoint."""
    sdk = logging.getLogger("opentelemetry")
    sdk.addHandler(logging.NullHandler())
    sdk.propagate = False
