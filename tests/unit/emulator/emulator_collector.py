"""A real collector for the emulator's tests: OTLP gRPC and HTTP on free ports
behind bearer-token auth (as the otel_collector role configures it), writing
everything it accepts to JSON files (the file exporter).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "emulator-test-token"

CONFIG = """
extensions:
  bearertokenauth:
    tokens: ["{token}"]
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: "127.0.0.1:{grpc}"
        auth: {{authenticator: bearertokenauth}}{tls}
      http:
        endpoint: "127.0.0.1:{http}"
        auth: {{authenticator: bearertokenauth}}{tls}
exporters:
  file/metrics:
    path: "{dir}/metrics.jsonl"
  file/logs:
    path: "{dir}/logs.jsonl"
service:
  extensions: [bearertokenauth]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    metrics: {{receivers: [otlp], exporters: [file/metrics]}}
    logs: {{receivers: [otlp], exporters: [file/logs]}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the collector exited ({proc.returncode}):\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the collector does not listen on {port} after {timeout}s:\n{log.read_text()}")


class Collector:
    """A running collector; stop() ends it (the file exporter has written everything then)."""

    def __init__(self, binary: str, workdir: Path, tls: tuple[Path, Path] | None = None):
        """tls: (certificate, key) files for both receivers; the URLs are https then."""
        self.dir = workdir
        self.http_port, self.grpc_port = free_port(), free_port()
        scheme = "https" if tls else "http"
        self.http = f"{scheme}://127.0.0.1:{self.http_port}"
        self.grpc = f"https://127.0.0.1:{self.grpc_port}" if tls else f"127.0.0.1:{self.grpc_port}"
        tls_block = f"\n        tls: {{cert_file: {tls[0]}, key_file: {tls[1]}}}" if tls else ""
        config = workdir / "config.yaml"
        config.write_text(
            CONFIG.format(token=TOKEN, grpc=self.grpc_port, http=self.http_port, dir=workdir, tls=tls_block)
        )
        self.log = workdir / "collector.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([binary, "--config", str(config)], stdout=out, stderr=subprocess.STDOUT)
        _wait_listening(self.http_port, self.proc, self.log)
        _wait_listening(self.grpc_port, self.proc, self.log)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def received(self, signal: str) -> list[dict]:
        """Every request body the collector accepted for a signal ("metrics" or "logs"), as OTLP/JSON."""
        path = self.dir / f"{signal}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def self_signed(directory: Path, name: str = "collector") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (cryptography: ansible-core's dependency)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return cert_file, key_file
