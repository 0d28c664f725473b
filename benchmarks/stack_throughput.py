#!/usr/bin/env python3
"""Sustained throughput of the collector as the otel_collector role configures it, into Loki and Prometheus.

    export CM_CACHE_DIR=$HOME/.cache/claude-monitoring-stack
    eval "$(scripts/env)"    # the venv: ansible-playbook, the OTLP protobuf classes
    python benchmarks/stack_throughput.py [--quick] [--duration SECONDS] [--outage SECONDS]

As root (the role's tasks write files owned by root). docs/benchmarks.md,
section Throughput, has figures and caveats.

Runs the real binaries of $CM_CACHE_DIR/bin on this machine, on loopback only:
otelcol-contrib with the configuration that the role's own tasks render
(preflight.yml and configure.yml through ansible-playbook, paths and ports
moved to a temporary directory and free ports), the Loki stand-in
(tests/standins/loki) as the event store and Prometheus scraping the
exporter with the prometheus role's settings (protobuf first, created-timestamp
zero ingestion).

A generator process sends pre-encoded OTLP/HTTP protobuf requests built from
tests/fixtures/claude-code-2.1.330 (many sessions per request, as a busy
fleet's batches), at a fixed offered rate for a fixed time per step. A step
passes only with zero loss: every request answered 2xx, the receiver's
accepted count equal to what was sent and nothing refused, every event in the
store (and in the exporter's sent count), the exporter's sums equal to what was
sent, and the backlog drained within a few seconds. The rate doubles until a
step fails, then a bisection narrows the limit. The same search runs with the
exporters replaced by `debug` (basic verbosity: the build has no `nop`), the
ceiling. Last, events are sent while the store is stopped: the persistent
queue's size and its file's bytes over time, then the drain once the store is
back. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import multiprocessing
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "claude-code-2.1.330"
PROMETHEUS_DEFAULTS = ROOT / "roles" / "prometheus" / "defaults" / "main.yml"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
U64 = struct.Struct("<Q")
SENTINEL = 0x5EA7_0000_0000_0000
SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
SCRAPE_INTERVAL_S = 5
DRAIN_LIMIT_S = 6.0
RENDER_PLAY = """---
- name: Render the otel_collector role's files as a host of the site would get them
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Run the role's preflight and configure tasks
      ansible.builtin.include_role:
        name: claude_monitoring.stack.otel_collector
        tasks_from: "{{ item }}"
      loop: [preflight.yml, configure.yml]
    # The handlers restart a systemd unit: the benchmark runs the binary itself.
    - name: Stop before the handlers
      ansible.builtin.meta: end_play
"""


# --- Processes ----------------------------------------------------------------


class Service:
    """A started binary, stopped at exit; CPU and memory read from /proc."""

    running: list[Service] = []  # noqa: RUF012 (every instance, for the clean-up)

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None):
        self.name, self.log = name, log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=log.parent
            )
        self.pid = self.proc.pid
        Service.running.append(self)

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def memory_kib(self) -> dict[str, int]:
        """VmRSS, VmHWM (peak), RssAnon, RssFile (mapped files: the queue's bbolt file) in KiB."""
        values = dict.fromkeys(("VmRSS", "VmHWM", "RssAnon", "RssFile"), 0)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
        return values

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in Service.running:
            Service.running.remove(self)


def proc_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def http_get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except OSError:
        return 0, b""


def wait_for(url: str, what: str, service: Service, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            sys.exit(f"{what} exited at start; its log: {service.log}\n{service.log.read_text()[-3000:]}")
        if http_get(url, timeout=2)[0] == 200:
            return
        time.sleep(0.1)
    sys.exit(f"{what} not ready after {timeout:.0f} s ({url}); its log: {service.log}")


def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    status, body = http_get(url)
    if status != 200:
        return []
    samples = []
    for line in body.decode().splitlines():
        if not line or line[0] == "#":
            continue
        m = SAMPLE.match(line)
        if m:
            samples.append((m[1], dict(LABEL.findall(m[2] or "")), float(m[3])))
    return samples


def total(samples, name: str, **labels: str) -> float:
    """Sum of the samples of a counter or gauge; counters match with and without the _total suffix."""
    names = {name, name.removesuffix("_total"), name.removesuffix("_total") + "_total"}
    return sum(v for n, lab, v in samples if n in names and all(lab.get(k) == w for k, w in labels.items()))


def dir_bytes(path: Path) -> tuple[int, int]:
    """(apparent, allocated) bytes of the files below path."""
    apparent = allocated = 0
    for entry in path.rglob("*"):
        with contextlib.suppress(OSError):
            st = entry.stat()
            if entry.is_file():
                apparent, allocated = apparent + st.st_size, allocated + st.st_blocks * 512
    return apparent, allocated


# --- Requests -----------------------------------------------------------------


@dataclass
class Body:
    """One pre-encoded request; its timestamps are patched at send time."""

    data: bytes
    times: list[int]  # offsets of fixed64 timestamps set to the send time
    starts: list[int]  # offsets of data points' start times (metrics)
    records: int  # log records or metric data points
    index: int = 0  # in its signal's list
    cost: float = 0.0  # USD: claude_code.cost.usage points, or api_request events' cost_usd
    tokens: int = 0


def session_identity(k: int, users: int) -> dict[str, str]:
    user = k % users
    return {
        "session.id": f"{k:08x}-0000-4000-8000-{k:012x}",
        "user.id": hashlib.sha256(f"bench-user-{user}".encode()).hexdigest(),
        "machine.name": f"bench-m{user:04d}",
        "team": f"team-{user % 8}",
    }


def set_attributes(attributes, identity: dict[str, str]) -> None:
    for attr in attributes:
        if attr.key in identity:
            attr.value.string_value = identity[attr.key]


def locate(data: bytes, value: int) -> int:
    packed = U64.pack(value)
    offset = data.find(packed)
    if offset < 0 or data.count(packed) != 1:
        raise RuntimeError(f"timestamp marker {value:#x} not found exactly once")
    return offset


def build_bodies(signal_name: str, sessions: int, per_request: int, users: int) -> list[Body]:
    """sessions // per_request requests, each with per_request sessions' copies of the fixture."""
    fixture = "logs.json" if signal_name == "logs" else "metrics.json"
    message_type = ExportLogsServiceRequest if signal_name == "logs" else ExportMetricsServiceRequest
    template = json_format.Parse((FIXTURES / fixture).read_text(), message_type())
    bodies = []
    for first in range(0, sessions - per_request + 1, per_request):
        request = message_type()
        marker = SENTINEL
        times, starts, body = [], [], Body(b"", [], [], 0, index=len(bodies))
        for k in range(first, first + per_request):
            identity = session_identity(k, users)
            if signal_name == "logs":
                copy = request.resource_logs.add()
                copy.CopyFrom(template.resource_logs[0])
                set_attributes(copy.resource.attributes, identity)
                for record in (r for s in copy.scope_logs for r in s.log_records):
                    set_attributes(record.attributes, identity)
                    record.time_unix_nano, record.observed_time_unix_nano = marker, marker + 1
                    times += [marker, marker + 1]
                    marker += 2
                    body.records += 1
                    attrs = {a.key: a.value for a in record.attributes}
                    if record.body.string_value == "claude_code.api_request":
                        body.cost += attrs["cost_usd"].double_value
            else:
                copy = request.resource_metrics.add()
                copy.CopyFrom(template.resource_metrics[0])
                set_attributes(copy.resource.attributes, identity)
                for metric in (m for s in copy.scope_metrics for m in s.metrics):
                    for point in metric.sum.data_points:
                        set_attributes(point.attributes, identity)
                        point.start_time_unix_nano, point.time_unix_nano = marker, marker + 1
                        starts.append(marker)
                        times.append(marker + 1)
                        marker += 2
                        body.records += 1
                        if metric.name == "claude_code.cost.usage":
                            body.cost += point.as_double
                        elif metric.name == "claude_code.token.usage":
                            body.tokens += int(point.as_double or point.as_int)
        body.data = request.SerializeToString()
        body.times = [locate(body.data, v) for v in times]
        body.starts = [locate(body.data, v) for v in starts]
        bodies.append(body)
    return bodies


@dataclass
class Load:
    """What one generator run sends: per signal, the requests and the offered records/s."""

    port: int
    token: str
    duration: float
    bodies: dict[str, list[Body]]
    rates: dict[str, float]
    threads: int = 8  # connections per signal


def generate(conn, load: Load) -> None:
    """Child process: send at the offered rates until the deadline, report what was acknowledged."""
    start = time.monotonic() + 0.2
    deadline = start + load.duration
    results: dict[str, dict] = {}
    lock = threading.Lock()

    def sender(signal_name: str, bodies: list[Body], interval: float, offset: float) -> None:
        path = f"/v1/{signal_name}"
        headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {load.token}"}
        client = http.client.HTTPConnection("127.0.0.1", load.port, timeout=30)
        counts, errors, latencies = [0] * len(bodies), {}, []
        last_start = [0] * len(bodies)
        ok = records = 0
        last_t = 0
        next_t, k = start + offset, 0
        while next_t < deadline:
            now = time.monotonic()
            if next_t > now:
                time.sleep(next_t - now)
            i = k % len(bodies)
            body = bodies[i]
            t = max(time.time_ns(), last_t + 1)
            last_t = t
            payload = bytearray(body.data)
            for off in body.times:
                U64.pack_into(payload, off, t)
            begin = last_start[i] or t - 1_000_000
            for off in body.starts:
                U64.pack_into(payload, off, begin)
            sent_at = time.monotonic()
            try:
                client.request("POST", path, payload, headers)
                resp = client.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as err:
                status = type(err).__name__
                client.close()
                client = http.client.HTTPConnection("127.0.0.1", load.port, timeout=30)
            latencies.append(time.monotonic() - sent_at)
            if isinstance(status, int) and 200 <= status < 300:
                ok, records, counts[i], last_start[i] = ok + 1, records + body.records, counts[i] + 1, t
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1
            next_t += interval
            k += 1
        client.close()
        with lock:
            r = results.setdefault(signal_name, {"requests": 0, "records": 0, "errors": {}, "counts": {}, "lat": []})
            r["requests"] += ok
            r["records"] += records
            for key, n in errors.items():
                r["errors"][key] = r["errors"].get(key, 0) + n
            for body, n in zip(bodies, counts, strict=True):
                r["counts"][body.index] = n
            r["lat"] += latencies

    threads = []
    for signal_name, rate in load.rates.items():
        if rate <= 0:
            continue
        bodies = load.bodies[signal_name]
        n = min(load.threads, len(bodies))
        per_request = bodies[0].records
        interval = n * per_request / rate
        for j in range(n):
            part = bodies[j::n]
            threads.append(threading.Thread(target=sender, args=(signal_name, part, interval, j * interval / n)))
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    window = time.monotonic() - start
    for r in results.values():
        lat = sorted(r.pop("lat")) or [0.0]
        r["p50_ms"], r["p99_ms"] = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
        r["window"] = window
    conn.send(results)
    conn.close()


# --- The stack ----------------------------------------------------------------


@dataclass
class Step:
    variant: str
    signal: str
    offered: float
    achieved: float = 0.0
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    drain_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # % of one core
    machine_busy: float = 0.0  # % of all cores
    rss_steady_mib: float = 0.0
    rss_peak_mib: float = 0.0
    anon_steady_mib: float = 0.0
    file_steady_mib: float = 0.0
    queue_max: float = 0.0
    bounded: bool = False  # a higher offered rate failed in the same search


class Bench:
    def __init__(self, args, tmp: Path):
        self.args, self.tmp = args, tmp
        cache = Path(os.environ.get("CM_CACHE_DIR", Path.home() / ".cache" / "claude-monitoring-stack"))
        self.bin = cache / "bin"
        for name in ("otelcol-contrib", "prometheus", "loki"):
            if not (self.bin / name).is_file():
                sys.exit(f"missing {self.bin / name}: run tests/platform/binaries.sh or set CM_CACHE_DIR")
        names = ["grpc", "http", "exporter", "telemetry", "health", "loki", "prometheus"]
        self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.token = secrets.token_urlsafe(32)
        self.collector: Service | None = None
        self.loki: Service | None = None
        self.prometheus: Service | None = None
        self.runs = 0
        self.bodies = {
            "logs": build_bodies("logs", args.sessions, args.sessions_per_request, args.users),
            "metrics": build_bodies("metrics", args.sessions, args.sessions_per_request, args.users),
        }
        self.configs = {variant: self.render(variant) for variant in ("stack", "ceiling")}

    # Rendering with the role's own tasks.
    def render(self, variant: str) -> tuple[Path, dict[str, str]]:
        base = self.tmp / variant
        (base / "etc").mkdir(parents=True)
        (base / "data" / "file_storage").mkdir(parents=True)
        extra = {
            "otel_collector_config_dir": str(base / "etc"),
            "otel_collector_data_dir": str(base / "data"),
            "otel_collector_binary_path": str(self.bin / "otelcol-contrib"),
            "otel_collector_group": "root",
            "otel_collector__validate_wrapper": str(base / "otelcol-validate"),
            "otel_collector_listen_address": "127.0.0.1",
            "otel_collector_grpc_port": self.ports["grpc"],
            "otel_collector_http_port": self.ports["http"],
            "otel_collector_prometheus_port": self.ports["exporter"],
            "otel_collector_telemetry_port": self.ports["telemetry"],
            "otel_collector_health_check_port": self.ports["health"],
            "otel_collector_loki_endpoint": f"http://127.0.0.1:{self.ports['loki']}/otlp",
            "otel_collector_ingest_tokens": [self.token],
        }
        if variant == "ceiling":
            extra["otel_collector_config_overrides"] = {
                "exporters": {"debug": {"verbosity": "basic"}},
                "service": {
                    "pipelines": {
                        "metrics": {"exporters": ["debug"]},
                        "logs": {"exporters": ["debug", "signal_to_metrics/claude_code_events"]},
                    }
                },
            }
            extra["otel_collector_config_remove"] = ["exporters::prometheus", "exporters::otlp_http/loki"]
        (base / "vars.json").write_text(json.dumps(extra))
        (base / "render.yml").write_text(RENDER_PLAY)
        playbook = shutil.which("ansible-playbook", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        if not playbook:
            sys.exit('ansible-playbook not found: run with the project\'s venv (eval "$(scripts/env)")')
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCALHOST_WARNING="False")
        argv = [playbook, "-i", "localhost,", "-c", "local", "-e", f"@{base / 'vars.json'}", str(base / "render.yml")]
        run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            sys.exit(f"rendering the {variant} configuration failed:\n{run.stdout[-4000:]}{run.stderr[-2000:]}")
        env_vars = {}
        for line in (base / "etc" / "otelcol.env").read_text().splitlines():
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)='(.*)'$", line)
            if m:
                env_vars[m[1]] = m[2]
        return base / "etc" / "config.yaml", env_vars

    # Services.
    def start_prometheus(self) -> None:
        defaults = yaml.safe_load(PROMETHEUS_DEFAULTS.read_text())
        protocols = defaults["prometheus_otel_collector_scrape_protocols"]
        flags = defaults["prometheus_feature_flags"]
        base = self.tmp / "prometheus"
        base.mkdir()
        jobs = [("otel_collector", "exporter", protocols), ("otel_collector_telemetry", "telemetry", protocols)]
        config = {
            "global": {"scrape_interval": f"{SCRAPE_INTERVAL_S}s", "scrape_timeout": f"{SCRAPE_INTERVAL_S - 1}s"},
            "scrape_configs": [
                {"job_name": job, "scrape_protocols": proto, "static_configs": [{"targets": [self.addr(port)]}]}
                for job, port, proto in jobs
            ]
            + [{"job_name": "loki", "static_configs": [{"targets": [self.addr("loki")]}]}],
        }
        (base / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        argv = [
            str(self.bin / "prometheus"),
            f"--config.file={base / 'prometheus.yml'}",
            f"--storage.tsdb.path={base / 'data'}",
            f"--web.listen-address={self.addr('prometheus')}",
        ] + ([f"--enable-feature={','.join(flags)}"] if flags else [])
        self.prometheus = Service("prometheus", argv, base / "prometheus.log")
        wait_for(f"http://{self.addr('prometheus')}/-/ready", "prometheus", self.prometheus)

    def addr(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    def start_loki(self, fresh: bool = True) -> None:
        base = self.tmp / "loki"
        if fresh and base.exists():
            shutil.rmtree(base)
        base.mkdir(exist_ok=True)
        config = {
            "auth_enabled": False,
            "server": {"http_listen_address": "127.0.0.1", "http_listen_port": self.ports["loki"], "log_level": "warn"},
            "common": {"path_prefix": str(base / "data"), "replication_factor": 1},
        }
        (base / "config.yaml").write_text(yaml.safe_dump(config))
        argv = [str(self.bin / "loki"), f"-config.file={base / 'config.yaml'}"]
        self.loki = Service("loki", argv, base / "loki.log")
        wait_for(f"http://{self.addr('loki')}/ready", "loki stand-in", self.loki)

    def loki_stored(self) -> float:
        return total(scrape(f"http://{self.addr('loki')}/metrics"), "loki_standin_records_stored_total")

    def start_collector(self, variant: str) -> None:
        config, env_vars = self.configs[variant]
        storage = config.parent.parent / "data" / "file_storage"
        shutil.rmtree(storage)
        storage.mkdir()
        self.runs += 1
        self.run_id = f"bench-{variant}-{self.runs}"
        env = dict(os.environ, **env_vars, INVOCATION_ID=self.run_id)
        argv = [str(self.bin / "otelcol-contrib"), f"--config={config}"]
        self.collector = Service("otelcol", argv, config.parent.parent / f"otelcol-{self.runs}.log", env=env)
        wait_for(f"http://{self.addr('health')}/", "otelcol-contrib", self.collector)

    def telemetry(self):
        return scrape(f"http://{self.addr('telemetry')}/metrics")

    def stop(self, *names: str) -> None:
        for name in names:
            service = getattr(self, name)
            if service is not None:
                service.stop()
                setattr(self, name, None)

    # One step.
    def run_load(self, rates: dict[str, float], duration: float, on_tick=None):
        load = Load(self.ports["http"], self.token, duration, self.bodies, rates, self.args.connections)
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=generate, args=(child, load), daemon=True)
        services = [s for s in (self.collector, self.loki, self.prometheus) if s]
        cpu0 = {s.name: s.cpu_seconds() for s in services}
        busy0, all0 = machine_cpu()
        t0 = time.monotonic()
        proc.start()
        child.close()
        rss, queue_max, result = [], 0.0, None
        while result is None:
            if parent.poll(0.5):
                result = parent.recv()
                break
            if not proc.is_alive():
                sys.exit(f"the generator exited with {proc.exitcode}")
            elapsed = time.monotonic() - t0
            rss.append((elapsed, self.collector.memory_kib()))
            queue_max = max(queue_max, total(self.telemetry(), "otelcol_exporter_queue_size"))
            if on_tick:
                on_tick(elapsed)
        gen_cpu = proc_cpu_seconds(proc.pid)
        proc.join()
        wall = time.monotonic() - t0
        busy1, all1 = machine_cpu()
        cpu = {s.name: 100 * (s.cpu_seconds() - cpu0[s.name]) / wall for s in services}
        cpu["generator"] = 100 * gen_cpu / wall
        busy = 100 * (busy1 - busy0) / max(1, all1 - all0)
        # What the machine's other tenants took, in % of one core.
        cpu["others"] = max(0.0, busy * (os.cpu_count() or 1) - sum(cpu.values()))
        return result, cpu, busy, rss, queue_max

    def step(self, variant: str, signal_name: str, rate: float) -> Step:
        args = self.args
        step = Step(variant, signal_name, rate)
        if variant == "stack":
            self.start_loki()
        self.start_collector(variant)
        try:
            result, step.cpu, step.machine_busy, rss, step.queue_max = self.run_load({signal_name: rate}, args.duration)
            sent = result.get(signal_name, {"records": 0, "errors": {}, "window": args.duration})
            step.achieved = sent["records"] / sent["window"]
            step.p50_ms, step.p99_ms = sent.get("p50_ms", 0), sent.get("p99_ms", 0)
            expected = self.expected(signal_name, sent)
            end = time.monotonic()
            checks = self.checks(variant, signal_name, expected)
            while True:
                started = time.monotonic() - end
                problems = checks()
                if not problems or started > DRAIN_LIMIT_S:
                    break
                time.sleep(0.25)
            step.drain_s = started
            if problems:
                step.problems += problems
            if variant == "stack" and signal_name == "metrics" and not problems:
                step.problems += self.prometheus_check(expected)
            if sent["errors"]:
                step.problems.append(f"request errors {sent['errors']}")
            if step.achieved < 0.97 * rate:
                step.problems.append(f"offered rate not reached ({step.achieved:.0f}/s)")
            steady = [mem for t, mem in rss if t >= args.duration / 2] or [self.collector.memory_kib()]
            step.rss_steady_mib = statistics.median(m["VmRSS"] for m in steady) / 1024
            step.anon_steady_mib = statistics.median(m["RssAnon"] for m in steady) / 1024
            step.file_steady_mib = statistics.median(m["RssFile"] for m in steady) / 1024
            step.rss_peak_mib = self.collector.memory_kib()["VmHWM"] / 1024
            step.ok = not step.problems
        finally:
            self.stop("collector", "loki")
        return step

    def expected(self, signal_name: str, sent: dict) -> dict:
        counts = sent.get("counts", {})
        bodies = self.bodies[signal_name]
        return {
            "records": sent["records"],
            "cost": sum(b.cost * counts.get(b.index, 0) for b in bodies),
            "tokens": sum(b.tokens * counts.get(b.index, 0) for b in bodies),
        }

    def checks(self, variant: str, signal_name: str, expected: dict):
        kind = "log_records" if signal_name == "logs" else "metric_points"
        exporter = {"stack": "otlp_http/loki", "ceiling": "debug"}[variant] if signal_name == "logs" else None
        if signal_name == "metrics":
            exporter = "prometheus" if variant == "stack" else "debug"

        def check() -> list[str]:
            t = self.telemetry()
            problems = []
            accepted = total(t, f"otelcol_receiver_accepted_{kind}_total", receiver="otlp")
            for what in ("refused", "failed"):
                n = total(t, f"otelcol_receiver_{what}_{kind}_total", receiver="otlp")
                if n:
                    problems.append(f"receiver {what} {n:.0f}")
            if accepted != expected["records"]:
                problems.append(f"receiver accepted {accepted:.0f} of {expected['records']} sent")
            exported = total(t, f"otelcol_exporter_sent_{kind}_total", exporter=exporter)
            if exported != accepted:
                problems.append(f"exporter {exporter} sent {exported:.0f} of {accepted:.0f}")
            for what in ("send_failed", "enqueue_failed"):
                n = total(t, f"otelcol_exporter_{what}_{kind}_total")
                if n:
                    problems.append(f"exporter {what} {n:.0f}")
            if total(t, "otelcol_exporter_queue_size"):
                problems.append("queue not empty")
            if problems or variant != "stack":
                return problems
            # The counters agree: now the content (a scrape of every series).
            exported = scrape(f"http://{self.addr('exporter')}/metrics")
            if signal_name == "logs":
                stored = self.loki_stored()
                if stored != expected["records"]:
                    problems.append(f"store has {stored:.0f} of {expected['records']}")
                derived = total(exported, "claude_code_api_request_cost_USD_total")
                if not close(derived, expected["cost"]):
                    problems.append(f"derived cost {derived:.6f} != {expected['cost']:.6f} sent")
            else:
                cost = total(exported, "claude_code_cost_usage_USD_total")
                tokens = total(exported, "claude_code_token_usage_tokens_total")
                if not close(cost, expected["cost"]) or tokens != expected["tokens"]:
                    problems.append(
                        f"exporter sums cost {cost:.6f}/{expected['cost']:.6f} tokens {tokens:.0f}/{expected['tokens']}"
                    )
            return problems

        return check

    def prometheus_check(self, expected: dict) -> list[str]:
        """The sums Prometheus scraped from this collector run equal what was sent."""
        values = {}
        for name, key in (
            ("claude_code_cost_usage_USD_total", "cost"),
            ("claude_code_token_usage_tokens_total", "tokens"),
        ):
            query = f'sum({name}{{otelcol_run="{self.run_id}"}})'
            url = f"http://{self.addr('prometheus')}/api/v1/query?" + urllib.parse.urlencode({"query": query})
            deadline = time.monotonic() + 3 * SCRAPE_INTERVAL_S
            while time.monotonic() < deadline:
                status, body = http_get(url)
                data = json.loads(body or b"{}").get("data", {}).get("result", [])
                if status == 200 and data:
                    values[key] = float(data[0]["value"][1])
                    if close(values[key], expected[key]):
                        break
                time.sleep(0.5)
            else:
                return [f"prometheus {key} {values.get(key)} != {expected[key]} sent"]
        return []

    # The search.
    def search(self, variant: str, signal_name: str, start: float) -> tuple[Step | None, list[Step]]:
        steps, best, failed = [], None, None
        rate = start
        for _ in range(self.args.max_steps):
            step = self.step(variant, signal_name, rate)
            steps.append(step)
            report_step(step)
            if step.ok:
                best = step
                if failed is None:
                    rate *= 2
                    continue
            else:
                failed = rate
                if best is None:
                    rate /= 2
                    continue
            if failed is None or (failed - best.offered) / best.offered <= self.args.precision:
                break
            rate = round((best.offered + failed) / 2, -1)
        if best is not None:
            best.bounded = failed is not None and failed > best.offered
        return best, steps

    # The outage.
    def outage(self, rate: float) -> dict:
        args = self.args
        self.start_loki()
        self.start_collector("stack")
        storage = self.configs["stack"][0].parent.parent / "data" / "file_storage"
        samples: list[tuple] = []

        def sample(since: float) -> None:
            t = self.telemetry()
            queue = total(t, "otelcol_exporter_queue_size", exporter="otlp_http/loki")
            heap = total(t, "otelcol_process_runtime_heap_alloc_bytes")
            refused = total(t, "otelcol_receiver_refused_log_records_total", receiver="otlp")
            mem = self.collector.memory_kib()
            samples.append((since, queue, *dir_bytes(storage), heap, mem["RssAnon"], mem["RssFile"], refused))

        warmup = 5.0
        state = {"next": warmup}

        def tick(elapsed: float) -> None:
            if self.loki is not None and elapsed >= warmup:
                self.stop("loki")
                state["down_at"] = time.monotonic()
            if elapsed >= state["next"]:
                sample(elapsed - warmup)
                state["next"] += args.outage / 6

        try:
            result, cpu, _, _, _ = self.run_load({"logs": rate}, warmup + args.outage, on_tick=tick)
            sent = result["logs"]
            time.sleep(1.5)  # the last batch reaches the queue (batch timeout 1 s)
            sample(time.monotonic() - state["down_at"])
            down_s = time.monotonic() - state["down_at"]
            self.start_loki(fresh=False)
            back = time.monotonic()
            first = drained = None
            deadline = back + args.drain_timeout
            while time.monotonic() < deadline:
                t = self.telemetry()
                stored = self.loki_stored()
                if first is None and stored > 0:
                    first = time.monotonic() - back
                q = total(t, "otelcol_exporter_queue_size", exporter="otlp_http/loki")
                if q == 0 and self.store_lines() == sent["records"]:
                    drained = time.monotonic() - back
                    break
                time.sleep(0.25)
            t = self.telemetry()
            lines = self.store_lines()
            return {
                "rate": rate,
                "sent": sent["records"],
                "achieved": sent["records"] / sent["window"],
                "down_s": down_s,
                "samples": samples,
                "first_s": first,
                "drained_s": drained,
                "stored": lines,
                "accepted": total(t, "otelcol_receiver_accepted_log_records_total", receiver="otlp"),
                "refused": total(t, "otelcol_receiver_refused_log_records_total", receiver="otlp"),
                "send_failed": total(t, "otelcol_exporter_send_failed_log_records_total"),
                "enqueue_failed": total(t, "otelcol_exporter_enqueue_failed_log_records_total"),
                "errors": sent["errors"],
                "rss": self.collector.memory_kib(),
                "cpu": cpu,
            }
        finally:
            self.stop("collector", "loki")

    def store_lines(self) -> int:
        """Records durably in the store's file (the stand-in reloads it at start)."""
        path = self.tmp / "loki" / "data" / "standin" / "records.jsonl"
        try:
            with open(path, "rb") as handle:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        except OSError:
            return 0


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def report_step(step: Step) -> None:
    verdict = "pass" if step.ok else "FAIL: " + "; ".join(step.problems)
    cpu = " ".join(f"{k} {v:.0f}%" for k, v in step.cpu.items())
    unit = "events/s" if step.signal == "logs" else "points/s"
    print(
        f"  {step.variant:7} {step.signal:7} offered {step.offered:8.0f} {unit} achieved {step.achieved:8.0f}"
        f"  drain {step.drain_s:4.1f} s  p99 {step.p99_ms:6.1f} ms  queue max {step.queue_max:6.0f}"
        f"  rss {step.rss_steady_mib:4.0f}/{step.rss_peak_mib:4.0f} MiB (anon {step.anon_steady_mib:.0f})"
        f"  cpu {cpu} (machine {step.machine_busy:.0f}%)"
        f"  {verdict}",
        flush=True,
    )


def row(name: str, signal_name: str, step: Step | None) -> str:
    what = "events" if signal_name == "logs" else "metrics"
    if step is None:
        return f"| {name} | {what} | none passed | | | | |"
    unit = "events/s" if signal_name == "logs" else "points/s"
    cpu = ", ".join(f"{k} {v:.0f}%" for k, v in step.cpu.items())
    return (
        f"| {name} | {what} | {'' if step.bounded else '>= '}{step.offered:,.0f} {unit} "
        f"| {step.rss_steady_mib:.0f} / {step.rss_peak_mib:.0f} "
        f"({step.anon_steady_mib:.0f} + {step.file_steady_mib:.0f}) "
        f"| {step.p50_ms:.1f} / {step.p99_ms:.1f} | {cpu} | {step.machine_busy:.0f}% |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short steps and outage, coarse search (a smoke run)")
    parser.add_argument("--duration", type=float, help="seconds per step (default 20, --quick 5)")
    parser.add_argument("--outage", type=float, help="seconds the store is away (default 60, --quick 10)")
    parser.add_argument("--outage-rate", type=float, help="events/s during the outage (default half the stack's)")
    parser.add_argument("--events-start", type=float, default=2000, help="first offered events/s")
    parser.add_argument("--points-start", type=float, default=4000, help="first offered metric points/s")
    parser.add_argument("--precision", type=float, help="stop bisecting at this relative gap (default 0.1)")
    parser.add_argument("--max-steps", type=int, default=10, help="steps per search at most")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections of the generator")
    parser.add_argument("--sessions", type=int, default=2000, help="distinct sessions (series) in the load")
    parser.add_argument("--users", type=int, default=200, help="distinct users (and machines)")
    parser.add_argument("--sessions-per-request", type=int, default=10, help="sessions' payloads per request")
    parser.add_argument("--drain-timeout", type=float, default=180, help="seconds to wait for the queue to drain")
    parser.add_argument("--only", choices=["ceiling", "stack", "outage"], action="append", help="run only these parts")
    args = parser.parse_args()
    args.duration = args.duration or (5 if args.quick else 20)
    args.outage = args.outage or (10 if args.quick else 60)
    args.precision = args.precision or (0.3 if args.quick else 0.1)
    parts = args.only or ["ceiling", "stack", "outage"]

    if os.getuid() != 0:
        parser.error("run as root: the role's tasks write its files owned by root")
    command = shlex.join(["python", os.path.relpath(__file__), *sys.argv[1:]])
    print(f"command:  {command}")
    print(f"machine:  {os.cpu_count()} CPUs, {os.uname().release}; load average at start {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="stack-throughput-") as tmp_name:
        bench = Bench(args, Path(tmp_name))
        version = subprocess.run(
            [str(bench.bin / "otelcol-contrib"), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        print(f"binaries: {version}; {bench.bin}")
        per_event = bench.bodies["logs"][0]
        per_metric = bench.bodies["metrics"][0]
        print(
            f"load:     OTLP/HTTP protobuf, {args.sessions} sessions of {args.users} users; a logs request holds "
            f"{per_event.records} events ({len(per_event.data)} B), a metrics request {per_metric.records} points "
            f"({len(per_metric.data)} B); {args.duration:.0f} s per step; Prometheus scrapes every "
            f"{SCRAPE_INTERVAL_S} s",
            flush=True,
        )
        found: dict[tuple[str, str], Step | None] = {}
        try:
            for variant in ("ceiling", "stack"):
                if variant not in parts:
                    continue
                if variant == "stack":
                    bench.start_prometheus()
                print(f"{variant}:", flush=True)
                found[variant, "logs"] = bench.search(variant, "logs", args.events_start)[0]
                found[variant, "metrics"] = bench.search(variant, "metrics", args.points_start)[0]
            outage = None
            if "outage" in parts:
                stack_events = found.get(("stack", "logs"))
                rate = args.outage_rate or (stack_events.offered / 2 if stack_events else 500)
                print(f"outage: {rate:.0f} events/s, store away for {args.outage:.0f} s", flush=True)
                outage = bench.outage(rate)
        finally:
            for service in list(Service.running):
                service.stop()
        print_summary(found, outage)
    print(f"load average at end {os.getloadavg()}")
    return 0


def print_summary(found, outage) -> None:
    names = {"ceiling": "collector alone, debug exporter", "stack": "stack: Loki stand-in, Prometheus"}
    if found:
        print()
        print("Sustained rate with zero loss: the highest passing step. Collector RSS steady (median of the")
        print("step's second half) / peak (steady anonymous + file-backed, the queue's mapped file); CPU in % of")
        print("one core over the step (others: the machine's other tenants); machine: all cores, every process.")
        print()
        print("| setup | signal | rate | collector RSS MiB | request p50 / p99 ms | CPU | machine busy |")
        print("|---|---|---|---|---|---|---|")
        for (variant, signal_name), step in found.items():
            print(row(names[variant], signal_name, step))
        print()
        for signal_name, unit in (("logs", "events/s"), ("metrics", "metric points/s")):
            stack, ceiling = found.get(("stack", signal_name)), found.get(("ceiling", signal_name))
            if stack and ceiling:
                ratio = stack.offered / ceiling.offered
                note = "" if stack.bounded and ceiling.bounded else " (no failing step in a search: not a limit)"
                print(f"stack / ceiling, {unit}: {stack.offered:,.0f} / {ceiling.offered:,.0f} = {ratio:.2f}{note}")
        print()
        print("CPU time per record at that step (microseconds of one core):")
        for (variant, signal_name), step in found.items():
            if step is not None:
                per = ", ".join(f"{k} {10_000 * v / step.achieved:.1f}" for k, v in step.cpu.items() if k != "others")
                what = "event" if signal_name == "logs" else "point"
                print(f"  {names[variant]}, per {what}: {per}; others took {step.cpu['others']:.0f}% of a core")
    if outage:
        print()
        print(
            f"Store away for {outage['down_s']:.0f} s at {outage['rate']:.0f} events/s "
            f"(achieved {outage['achieved']:.0f}/s); queue and its directory:"
        )
        print()
        print(
            "| seconds since the store stopped | queue (events) | file_storage bytes (apparent / allocated) "
            "| collector heap MiB | RSS anon + file MiB | refused so far |"
        )
        print("|---|---|---|---|---|---|")
        for t, queue, apparent, allocated, heap, anon, mapped, refused in outage["samples"]:
            print(
                f"| {max(t, 0):.0f} | {queue:,.0f} | {apparent:,} / {allocated:,} | {heap / 2**20:.0f} "
                f"| {anon / 1024:.0f} + {mapped / 1024:.0f} | {refused:,.0f} |"
            )
        last = outage["samples"][-1]
        if last[1]:
            per_event = f"{last[2] / last[1]:,.0f} (apparent), {last[3] / last[1]:,.0f} (allocated)"
            print(f"\nbytes per queued event: {per_event}")
        drained = f"{outage['drained_s']:.1f} s" if outage["drained_s"] is not None else "not within the timeout"
        first = f"{outage['first_s']:.1f} s" if outage["first_s"] is not None else "never"
        print(f"store back: first event stored after {first}, queue drained and every event stored after {drained}")
        lost = outage["sent"] - outage["stored"]
        print(
            f"sent {outage['sent']:,}, accepted {outage['accepted']:,.0f}, stored {outage['stored']:,} "
            f"(lost {lost:,}), refused {outage['refused']:.0f}, send failed {outage['send_failed']:.0f}, "
            f"enqueue failed {outage['enqueue_failed']:.0f}, request errors {outage['errors'] or 0}; "
            f"collector RSS {outage['rss']['VmRSS'] / 1024:.0f} MiB (anon {outage['rss']['RssAnon'] / 1024:.0f}, "
            f"file {outage['rss']['RssFile'] / 1024:.0f}; peak {outage['rss']['VmHWM'] / 1024:.0f} MiB)"
        )


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
