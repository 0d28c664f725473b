#!/usr/bin/python3
"""Accept TCP connections on the given ports (IPv4 and IPv6) and close them;
answer UDP datagrams on the ports given as u<port> with the same bytes."""

import selectors
import socket
import sys

sel = selectors.DefaultSelector()
for arg in sys.argv[1:]:
    udp = arg.startswith("u")
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    srv = socket.socket(socket.AF_INET6, kind)
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("::", int(arg.lstrip("u"))))
    if not udp:
        srv.listen(64)
    srv.setblocking(False)
    sel.register(srv, selectors.EVENT_READ, udp)

while True:
    for key, _ in sel.select():
        try:
            if key.data:
                data, peer = key.fileobj.recvfrom(512)
                key.fileobj.sendto(data, peer)
            else:
                conn, _ = key.fileobj.accept()
                conn.close()
        except OSError:
            pass
