#!/usr/bin/python3
"""Accept TCP connections on the given ports (IPv4 and IPv6) and close them."""

import selectors
import socket
import sys

sel = selectors.DefaultSelector()
for port in sys.argv[1:]:
    srv = socket.create_server(("::", int(port)), family=socket.AF_INET6, dualstack_ipv6=True, backlog=64)
    srv.setblocking(False)
    sel.register(srv, selectors.EVENT_READ)

while True:
    for key, _ in sel.select():
        try:
            conn, _ = key.fileobj.accept()
            conn.close()
        except OSError:
            pass
