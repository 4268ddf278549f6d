"""A loopback TCP fault proxy to put in front of a real Milvus: faults on the wire, on demand.

``FaultProxy(upstream_port)`` listens on a free 127.0.0.1 port and forwards every byte both ways,
one thread per connection. Controls (any thread, take effect at once):

- :meth:`drop_all`: reset every open connection (the server vanished, a NAT forgot the flow);
- ``mode = "refuse"``: accept new connections and reset them at once (nothing listens);
- ``mode = "blackhole"``: accept and hold connections, forward nothing, never close (a SIGSTOPped
  server, a dead host, a route black-holed: only keepalive or a deadline notices);
- :meth:`blackhole_all`: existing connections stop forwarding too;
- :meth:`drop_next_answer`: reset the connection that carries the next bytes from the server (the
  answer of one call is lost mid-response);
- ``delay``: seconds added before forwarding each chunk, both ways.

Only loopback: the proxy never connects anywhere but ``127.0.0.1:upstream_port``.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from types import TracebackType

__all__ = ["FaultProxy"]

_CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed peer or a middlebox dropping the flow does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = False
        self.blackholed = upstream is None

    def reset(self) -> None:
        self.closed = True
        _reset(self.client)
        if self.upstream is not None:
            _reset(self.upstream)


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode = "forward"  # or "refuse", "blackhole"
        self.delay = 0.0
        self.connections_accepted = 0
        self.answers_dropped = 0
        self._drop_answers = 0
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)
        self._acceptor.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- controls -----------------------------------------------------------------------------------

    def drop_all(self) -> int:
        """Reset every open connection; returns how many."""
        with self._lock:
            pairs = list(self._pairs)
            self._pairs.clear()
        for pair in pairs:
            pair.reset()
        return len(pairs)

    def blackhole_all(self) -> None:
        """Existing connections stop forwarding (and stay open)."""
        with self._lock:
            for pair in self._pairs:
                pair.blackholed = True

    def drop_next_answer(self, count: int = 1) -> None:
        """Reset the connection carrying the next ``count`` server answers, mid-response."""
        with self._lock:
            self._drop_answers += count

    def close(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self.drop_all()
        self._acceptor.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections_accepted += 1
            if self.mode == "refuse":
                _reset(client)
                continue
            upstream: socket.socket | None = None
            if self.mode != "blackhole":
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                    upstream.settimeout(None)
                except OSError:
                    _reset(client)  # the server is down: the client sees the connection refused
                    continue
            pair = _Pair(client, upstream)
            with self._lock:
                self._pairs.add(pair)
            thread = threading.Thread(target=self._pump, args=(pair,), name="fault-proxy-pump", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _pump(self, pair: _Pair) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(pair.client, selectors.EVENT_READ, "up")
            if pair.upstream is not None:
                selector.register(pair.upstream, selectors.EVENT_READ, "down")
            while not pair.closed and not self._stopping.is_set():
                for key, _ in selector.select(timeout=0.1):
                    try:
                        data = key.fileobj.recv(_CHUNK)  # type: ignore[union-attr]
                    except OSError:
                        data = b""
                    if not data:
                        self._forget(pair)
                        return
                    if pair.blackholed or pair.upstream is None:
                        continue  # swallowed: nothing is forwarded, nothing answered
                    if key.data == "down" and self._take_drop():
                        self.answers_dropped += 1
                        self._forget(pair)
                        return
                    if self.delay:
                        self._stopping.wait(self.delay)
                    target = pair.upstream if key.data == "up" else pair.client
                    try:
                        target.sendall(data)
                    except OSError:
                        self._forget(pair)
                        return
        except (OSError, ValueError):
            self._forget(pair)
        finally:
            selector.close()

    def _take_drop(self) -> bool:
        with self._lock:
            if self._drop_answers > 0:
                self._drop_answers -= 1
                return True
            return False

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            self._pairs.discard(pair)
        pair.reset()
