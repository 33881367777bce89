"""Free TCP ports on loopback, so that parallel runs and other local services never collide."""

from __future__ import annotations

import socket


def free_port() -> int:
    # The port is released before the component binds it; a collision in that instant is unlikely and
    # shows up as a component that fails to start, with its log attached to the failure.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
