# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small value helpers: versions, durations, numbers, ids, endpoints, YAML type names."""

from __future__ import annotations

import re
import unicodedata

from .components import TYPE_RE
from .findings import Unresolved


def parse_version(version) -> tuple[int, int, int] | None:
    if version is None or version == "":
        return None
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$", str(version).strip())
    if not match:
        raise ValueError(f"version {version!r} is not MAJOR.MINOR[.PATCH]")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def _fmt_version(v) -> str:
    return "v" + ".".join(map(str, v))


_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value) -> float | None:
    """Seconds for a Go duration ("1s", "1m30s", integers are nanoseconds);
    None when it cannot be read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return value * 1e-9
        except OverflowError:  # an integer beyond a float64: no duration
            return None
    if not isinstance(value, str) or isinstance(value, Unresolved):
        return None
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-")
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    return sign * total if pos == len(text) and pos else None


def _number(value):
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and not isinstance(value, Unresolved):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _is_set(value) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _id_parts(text: str) -> tuple[str, str | None]:
    type_, sep, name = text.partition("/")
    return type_, (name if sep else None)


def _id_error(text) -> str | None:
    """Why ``text`` is not a valid type[/name] id, or None."""
    if not isinstance(text, str) or not text:
        return "an id must be a non-empty string of the form type[/name]"
    type_, name = _id_parts(text)
    if not type_:
        return f"in {text!r}: the part before / must not be empty"
    if not TYPE_RE.match(type_):
        return f"invalid character(s) in type {type_!r}: a type is a letter followed by up to 62 letters, digits or _"
    if name is not None:
        if not name:
            return f"in {text!r}: the part after / must not be empty"
        if len(name) > 1024:
            return f"name in {text!r} is longer than 1024 characters"
        if any(unicodedata.category(ch)[0] in "ZCS" for ch in name):
            return f"invalid character(s) in name {name!r}: no spaces, control characters or symbols"
    return None


_PORT_RE = re.compile(r"[0-9]+")


def _host_port(endpoint) -> tuple[str, int] | None:
    """Split a listening endpoint; None when it is not host:port."""
    if isinstance(endpoint, bool) or not isinstance(endpoint, (str, int)):
        return None
    text = str(endpoint).strip()
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        if not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, sep, port = text.rpartition(":")
        if not sep or ":" in host:
            return None
    # ASCII digits only (str.isdigit() also takes "²" and other scripts' digits), and no more than
    # five after leading zeros, so int() never meets a number of thousands of digits.
    if not _PORT_RE.fullmatch(port) or len(port.lstrip("0")) > 5 or int(port) > 65535:
        return None
    return host, int(port)


def normalise_host(host: str) -> str:
    host = host.strip().lower().strip("[]")
    if host in ("", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"):
        return "*"
    if host == "localhost":
        return "127.0.0.1"
    if host in ("0:0:0:0:0:0:0:1",):
        return "::1"
    return host


def _is_loopback(norm_host: str) -> bool:
    return norm_host == "::1" or norm_host.startswith("127.")


def _walk(value, path):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if (
                isinstance(v, dict)
                and path
                and path[-1] == "headers"
                and isinstance(v.get("name"), str)
                and "value" in v
            ):
                yield (*path, v["name"]), v["value"]
            else:
                yield from _walk(v, (*path, i))
    else:
        yield path, value


def _dig(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _tname(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"the string {str(value)[:40]!r}"
