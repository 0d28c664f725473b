#!/usr/bin/python3
"""Probe targets (host:port, [v6]:port, udp:host:port) in parallel; print one JSON object.

A TCP target maps to "open" (connected), "refused" (RST: the port is closed),
"timeout" (no answer: dropped) or "error: ...". A UDP target sends a datagram
to an echo listener: "open" when the echo comes back, "timeout" when not.
"""

import concurrent.futures
import json
import socket
import sys

TIMEOUT = float(sys.argv[1])


def probe(target):
    udp = target.startswith("udp:")
    host, _, port = target.removeprefix("udp:").rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        try:
            sock.connect((host, int(port)))
            if udp:
                sock.send(b"probe")
                return "open" if sock.recv(512) == b"probe" else "error: wrong echo"
        except TimeoutError:
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
        except OSError as exc:
            return f"error: {exc}"
    return "open"


targets = sys.argv[2:]
with concurrent.futures.ThreadPoolExecutor(max_workers=len(targets) or 1) as pool:
    print(json.dumps(dict(zip(targets, pool.map(probe, targets), strict=True))))
