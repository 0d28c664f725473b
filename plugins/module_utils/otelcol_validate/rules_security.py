# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule family: extension references, listeners and ports, and security warnings."""

from __future__ import annotations

from dataclasses import dataclass

from .components import (
    KINDS,
    LISTENER_DEFAULT_PORTS,
    LOCALHOST_DEFAULT_SINCE,
    OTLP_DEFAULT_PORTS,
    SECRET_HEADER_RE,
    SECRET_KEYS,
    TELEMETRY_ADDRESS_REMOVED,
)
from .findings import Unresolved
from .values import (
    _dig,
    _fmt_version,
    _host_port,
    _id_parts,
    _is_loopback,
    _is_set,
    _number,
    _walk,
    normalise_host,
)


@dataclass
class _Listener:
    path: tuple
    host: str  # normalised
    port: int
    label: str
    implicit: bool  # bound by default, not written in the file


class SecurityRules:
    """Extension references, listeners and security warnings (a _Checker mixin)."""

    def component_configs(self, used_only=True):
        """(kind, id, config) for declared components, used ones only by default."""
        for kind in KINDS:
            for cid, cfg in self.declared[kind].items():
                if (cfg is None or isinstance(cfg, dict)) and (not used_only or cid in self.used[kind]):
                    yield kind, cid, cfg or {}

    def extension_refs(self, used_only=True):
        """(path, extension id, what) for auth.authenticator and sending_queue.storage."""
        for kind, cid, cfg in self.component_configs(used_only):
            for path, value in _walk(cfg, (kind, cid)):
                if len(path) >= 2 and path[-2:] == ("auth", "authenticator"):
                    yield path, value, "authenticator"
                elif len(path) >= 2 and path[-2:] == ("sending_queue", "storage"):
                    yield path, value, "storage"

    def referenced_extensions(self) -> set:
        return {ref for _path, ref, _what in self.extension_refs() if isinstance(ref, str)}

    def check_extension_refs(self):
        for path, ref, what in self.extension_refs():
            if not isinstance(ref, str) or isinstance(ref, Unresolved):
                continue
            if ref not in self.declared["extensions"]:
                self.add(
                    "extension-undeclared",
                    path,
                    f"{what} {ref!r} is not declared under extensions; declare it and list it in service::extensions",
                )
            elif ref not in self.enabled_extensions:
                self.add(
                    "extension-not-enabled",
                    path,
                    f"{what} {ref!r} is declared but not listed in service::extensions, so the collector fails at "
                    f"start; add {ref} to service::extensions",
                )

    # listeners
    def default_host(self) -> str:
        return "localhost" if self.version is None or self.version >= LOCALHOST_DEFAULT_SINCE else "0.0.0.0"

    def listeners(self) -> list:
        found: list[_Listener] = []

        def add(path, endpoint, label, default_port=None):
            if isinstance(endpoint, Unresolved):
                return
            implicit = endpoint is None or endpoint == ""
            if implicit:
                if default_port is None:
                    return
                endpoint = f"{self.default_host()}:{default_port}"
            if isinstance(endpoint, str) and "://" in endpoint:
                self.add(
                    "endpoint-scheme",
                    path,
                    f"{label} listens on {endpoint!r}; a listening endpoint is host:port without a URL scheme "
                    f"(e.g. {endpoint.split('://', 1)[1].split('/')[0]})",
                )
                return
            hp = _host_port(endpoint)
            if hp is None:
                self.add(
                    "endpoint-syntax", path, f"{label}: endpoint {endpoint!r} is not host:port (e.g. 0.0.0.0:4317)"
                )
                return
            if hp[1] != 0:
                found.append(_Listener(path, normalise_host(hp[0]), hp[1], label, implicit))

        for kind, cid, cfg in self.component_configs():
            type_ = self.canonical(kind, _id_parts(cid)[0])
            if kind == "extensions" and cid not in self.enabled_extensions:
                continue
            if (kind, type_) == ("receivers", "otlp"):
                protocols = cfg.get("protocols")
                if not isinstance(protocols, dict):
                    continue
                for proto, port in OTLP_DEFAULT_PORTS.items():
                    if proto not in protocols:
                        continue
                    server = protocols[proto] if isinstance(protocols[proto], dict) else {}
                    if server.get("transport") == "unix":
                        continue
                    ppath = ("receivers", cid, "protocols", proto)
                    has_ep = "endpoint" in server
                    add((*ppath, "endpoint") if has_ep else ppath, server.get("endpoint"), f"{cid} ({proto})", port)
            elif (kind, type_) == ("exporters", "prometheus"):
                add((kind, cid, "endpoint"), cfg.get("endpoint"), cid)  # missing: missing-required-key
            elif (kind, type_) in LISTENER_DEFAULT_PORTS:
                has_ep = "endpoint" in cfg
                add(
                    (kind, cid, "endpoint") if has_ep else (kind, cid),
                    cfg.get("endpoint"),
                    cid,
                    LISTENER_DEFAULT_PORTS[(kind, type_)],
                )
        self.telemetry_listeners(add)
        return found

    def telemetry_listeners(self, add):
        service = self.data.get("service")
        telemetry = service.get("telemetry") if isinstance(service, dict) else None
        metrics = telemetry.get("metrics") if isinstance(telemetry, dict) else None
        base = ("service", "telemetry", "metrics")
        if not isinstance(metrics, dict):
            add(
                ("service",) if not isinstance(telemetry, dict) else ("service", "telemetry"),
                None,
                "service telemetry (default)",
                8888,
            )
            return
        if str(metrics.get("level", "")).lower() == "none":
            return
        if "address" in metrics:
            if self.version is None or self.version >= TELEMETRY_ADDRESS_REMOVED:
                self.add(
                    "removed-setting",
                    (*base, "address"),
                    f"service::telemetry::metrics::address is ignored since {_fmt_version(TELEMETRY_ADDRESS_REMOVED)} "
                    "and rejected by current collectors; use readers: [{pull: {exporter: {prometheus: "
                    "{host: <host>, port: <port>}}}}]",
                )
            else:
                add((*base, "address"), metrics.get("address"), "service telemetry")
            return
        readers = metrics.get("readers")
        if not isinstance(readers, list):
            add(base, None, "service telemetry (default)", 8888)
            return
        for i, reader in enumerate(readers):
            prom = _dig(reader, "pull", "exporter", "prometheus")
            if not isinstance(prom, dict):
                continue
            host, port = prom.get("host", "localhost"), prom.get("port")
            if isinstance(host, Unresolved) or isinstance(port, Unresolved) or _number(port) is None:
                continue
            host = str(host)
            endpoint = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            add((*base, "readers", i, "pull", "exporter", "prometheus"), endpoint, "service telemetry")

    def check_listeners(self):
        seen: list[_Listener] = []
        for lst in self.listeners():
            for other in seen:
                if other.port == lst.port and ("*" in (other.host, lst.host) or other.host == lst.host):
                    # Report on the listener written in the file, the later one if both are.
                    here, there = (other, lst) if lst.implicit and not other.implicit else (lst, other)
                    default = " by default" if there.implicit else ""
                    self.add(
                        "port-conflict",
                        here.path,
                        f"{here.label} and {there.label} (line {self.line_of(there.path)}) both listen on port "
                        f"{here.port}{default}; give one of them another port",
                    )
                    break
            seen.append(lst)
        self._listeners = seen

    # security
    def check_security(self):
        for lst in self._listeners:
            if _is_loopback(lst.host):
                continue
            kind, cid = lst.path[0], lst.path[1] if len(lst.path) > 1 else ""
            type_ = _id_parts(str(cid))[0]
            if kind == "extensions" and type_ in ("pprof", "zpages"):
                self.add(
                    "debug-endpoint-exposed",
                    lst.path,
                    f"{cid} exposes debugging data on {lst.host if lst.host != '*' else 'all interfaces'}; "
                    "bind it to 127.0.0.1",
                )
            if kind == "receivers" and len(lst.path) >= 4 and lst.path[2] == "protocols":
                server = _dig(self.data, "receivers", cid, "protocols", lst.path[3])
                server = server if isinstance(server, dict) else {}
                where = "all interfaces" if lst.host == "*" else lst.host
                if not _is_set(server.get("tls")):
                    self.add(
                        "receiver-no-tls",
                        lst.path,
                        f"{lst.label} listens on {where} without tls; add tls::cert_file/key_file or bind to "
                        "127.0.0.1 behind a TLS proxy",
                    )
                if not _is_set(server.get("auth")):
                    self.add(
                        "receiver-no-auth",
                        lst.path,
                        f"{lst.label} listens on {where} without auth; add auth::authenticator "
                        "(e.g. bearertokenauth) or bind to 127.0.0.1",
                    )
        for kind, cid, _cfg in self.component_configs(used_only=False):
            for path, value in _walk(_dig(self.raw, kind, cid), (kind, cid)):
                if path[-1] in ("insecure", "insecure_skip_verify") and len(path) >= 2 and path[-2] == "tls":
                    if value is True or (isinstance(value, str) and value.lower() == "true"):
                        self.add(
                            "tls-insecure",
                            path,
                            f"{cid}: tls::{path[-1]} turns off transport security; use TLS with a CA (tls::ca_file)",
                        )
                elif _is_literal_secret(path, value):
                    self.add(
                        "literal-secret",
                        path,
                        f"{cid}: {'::'.join(map(str, path[2:]))} holds a literal secret; use ${{env:NAME}} or "
                        "${file:/path} and keep the value out of the file",
                    )


def _is_literal_secret(path, value) -> bool:
    if not isinstance(value, str) or not value or "${" in value:
        return False
    keys = [p for p in path if isinstance(p, str)]
    last = keys[-1] if keys else ""
    if last in SECRET_KEYS:
        return True
    # headers: {Authorization: ...} or headers: [{name: Authorization, value: ...}]
    return bool("headers" in keys[:-1] and keys.index("headers") == len(keys) - 2 and SECRET_HEADER_RE.search(last))
