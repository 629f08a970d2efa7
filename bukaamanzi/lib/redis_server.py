"""Start a private redis-server on a unix socket: the embedded site's channel layer, and the tests' and benchmarks'.

One place for the command line, so every private Redis is the same: no TCP port, no persistence, quiet logs.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


class RedisStartError(RuntimeError):
    pass


def start_private_redis(socket: Path, *, new_session: bool = False, timeout: float = 10.0) -> subprocess.Popen[bytes]:
    """Start redis-server listening only on `socket` and wait until it accepts connections there."""
    socket.unlink(missing_ok=True)
    process = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(socket.parent), "--loglevel", "warning"],
        cwd=socket.parent,
        stdout=subprocess.DEVNULL,
        start_new_session=new_session,
    )
    deadline = time.monotonic() + timeout
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RedisStartError(f"redis-server did not open {socket} within {timeout:.0f}s")
        time.sleep(0.02)
    return process
