"""Export one metric and one log record, configured only by the OTEL_* environment.

Run with the environment a Claude Code managed settings file sets; prints one
JSON object: the export result of each signal and the probe id carried as an
attribute, so the caller can find the data on the collector. Exit status 0 when
both exports succeeded.

It uses the exporters the way the SDK's own auto-configuration does: the
protocol picks the exporter class, and the exporter, the reader and the
resource read their settings (endpoint, headers, temporality preference,
resource attributes) from the environment themselves.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid


def main() -> int:
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    elif protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    else:
        print(json.dumps({"error": f"protocol {protocol!r} is not supported by the Python SDK"}))
        return 2
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.resources import Resource

    probe_id = uuid.uuid4().hex
    resource = Resource.create({"service.name": "claude-code"})
    result: dict[str, object] = {"probe_id": probe_id, "protocol": protocol}

    if os.environ.get("OTEL_METRICS_EXPORTER") == "otlp":
        metric_exporter = OTLPMetricExporter()
        reader = InMemoryMetricReader(preferred_temporality=metric_exporter._preferred_temporality)
        meter = MeterProvider(resource=resource, metric_readers=[reader]).get_meter("com.anthropic.claude_code")
        meter.create_counter("claude_code.molecule_probe", unit="1").add(3, {"probe_id": probe_id})
        result["metrics"] = metric_exporter.export(reader.get_metrics_data()).name
        metric_exporter.shutdown()

    if os.environ.get("OTEL_LOGS_EXPORTER") == "otlp":
        log_exporter = OTLPLogExporter()
        memory = InMemoryLogRecordExporter()
        provider = LoggerProvider(resource=resource)
        provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
        logger = logging.getLogger("claude_code.molecule_probe")
        logger.propagate = False
        logger.addHandler(LoggingHandler(logger_provider=provider))
        logger.warning("claude_code.molecule_probe", extra={"event.name": "molecule_probe", "probe_id": probe_id})
        provider.force_flush()
        result["logs"] = log_exporter.export(memory.get_finished_logs()).name
        log_exporter.shutdown()

    print(json.dumps(result))
    return 0 if result.get("metrics") == "SUCCESS" and result.get("logs") == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
