"""Ingest needs a token the collectors know, on both protocols and both collectors.

From the controller, which sits in the WireGuard subnet like a developer
machine: an empty OTLP export request with no token, a wrong token and the
site's token, over gRPC (4317) and HTTP (4318).
"""

from __future__ import annotations

import urllib.error
import urllib.request

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from stack import COLLECTORS, inventory

WRONG = "NotTheSiteToken-0000-aaaaaaaaaa"


def grpc_export(address, token):
    stub = logs_service_pb2_grpc.LogsServiceStub(grpc.insecure_channel(f"{address}:4317"))
    metadata = [("authorization", f"Bearer {token}")] if token else []
    try:
        stub.Export(logs_service_pb2.ExportLogsServiceRequest(), metadata=metadata, timeout=10)
    except grpc.RpcError as error:
        return error.code().name
    return "OK"


def http_export(address, token):
    headers = {"Content-Type": "application/x-protobuf"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"http://{address}:4318/v1/logs", data=b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("collector", sorted(COLLECTORS))
def test_ingest_refuses_a_missing_or_wrong_token(collector):
    address = COLLECTORS[collector]
    site = inventory()["claude_monitoring_ingest_tokens"][0]
    team = inventory()["otel_collector_team_tokens"][0]["token"]
    assert grpc_export(address, None) == "UNAUTHENTICATED"
    assert grpc_export(address, WRONG) == "UNAUTHENTICATED"
    assert http_export(address, None) == 401
    assert http_export(address, WRONG) == 401
    # The same requests with a token the site gave out are taken.
    assert grpc_export(address, site) == "OK"
    assert grpc_export(address, team) == "OK"
    assert http_export(address, site) == 200
