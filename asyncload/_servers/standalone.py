"""A throw-away Milvus 2.3.5 standalone server (the PyPI ``milvus`` package) on free loopback ports.

Used by ``asyncload.testing`` (pytest fixtures), the benchmarks and ``asyncload demo --standalone``;
it needs no pytest. See :class:`MilvusStandalone`. This is sync code: it starts and waits for a
process, outside any event loop.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import importlib.util
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

__all__ = [
    "MILVUS_VERSION",
    "ROOT_TOKEN",
    "MilvusStandalone",
    "MilvusStandaloneError",
    "StandaloneTLS",
    "standalone_available",
]

MILVUS_VERSION = "2.3.5"
ROOT_TOKEN = "root:Milvus"

# milvus-server's template keys for every component port, in the order we assign free ports.
_PORT_KEYS = (
    "proxy_port",
    "proxy_internal_port",
    "root_coord_port",
    "query_coord_port",
    "query_node_port",
    "index_coord_port",
    "index_node_port",
    "data_coord_port",
    "data_node_port",
)
# Bind every component's advertised address to loopback (else they talk over the machine's address).
_LOOPBACK_COMPONENTS = ("rootCoord", "proxy", "queryCoord", "queryNode", "indexNode", "dataCoord", "dataNode")
_START_ATTEMPTS = 3  # a free port can be taken between picking it and the server binding it: retry
_PORT_CLASH = b"address already in use"
_ERROR_LINE = re.compile(rb"^panic:|^fatal error:|\[(?:ERROR|FATAL)\]|address already in use")


@dataclass(frozen=True)
class StandaloneTLS:
    """TLS on the server's proxy port (Milvus ``common.security.tlsMode`` and the ``tls.*`` paths).

    ``mode`` 1 is one-way TLS (``server_cert_file`` and ``server_key_file``, PEM); ``mode`` 2 is
    mutual TLS: the server also requires a client certificate signed by ``ca_file``. ``ca_file``
    also verifies the server's certificate when :meth:`MilvusStandalone.start` checks that the
    server answers; that check sends ``client_cert_file``/``client_key_file`` (needed with mode 2)
    and expects the certificate to name ``server_name`` (default: ``127.0.0.1``).
    """

    mode: int
    server_cert_file: str | os.PathLike[str]
    server_key_file: str | os.PathLike[str]
    ca_file: str | os.PathLike[str]
    client_cert_file: str | os.PathLike[str] | None = None
    client_key_file: str | os.PathLike[str] | None = None
    server_name: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in (1, 2):
            raise ValueError(f"TLS mode must be 1 (one-way) or 2 (mutual), got {self.mode!r}")
        if self.mode == 2 and (self.client_cert_file is None or self.client_key_file is None):
            raise ValueError("mutual TLS (mode 2) needs client_cert_file and client_key_file for the start check")

    def credentials(self) -> Any:
        """gRPC channel credentials for the start check."""
        import grpc

        def read(path: str | os.PathLike[str] | None) -> bytes | None:
            return None if path is None else Path(path).read_bytes()

        return grpc.ssl_channel_credentials(
            root_certificates=read(self.ca_file),
            private_key=read(self.client_key_file),
            certificate_chain=read(self.client_cert_file),
        )


class MilvusStandaloneError(RuntimeError):
    """The standalone server could not be started (the message carries the end of its log)."""


def standalone_available() -> str | None:
    """Return ``None`` when :class:`MilvusStandalone` can run here, else the reason it cannot."""
    if not sys.platform.startswith("linux"):
        return f"Milvus {MILVUS_VERSION} standalone needs Linux (this is {sys.platform})"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"Milvus {MILVUS_VERSION} standalone needs x86_64 (this is {platform.machine()})"
    if importlib.util.find_spec("milvus") is None:
        return f'the "milvus" package is not installed: pip install "milvus=={MILVUS_VERSION}"'
    try:
        module = _milvus_module()
    except Exception as exc:  # a broken install: say why
        return f'the "milvus" package cannot be imported: {exc!r}'
    version = getattr(module, "__version__", "?")
    if version != MILVUS_VERSION:
        return f'the "milvus" package is version {version}, asyncload tests need {MILVUS_VERSION}'
    return None


def _milvus_module() -> ModuleType:
    # Imported by name: the package ships no type information.
    return importlib.import_module("milvus")


def _free_ports(count: int) -> list[int]:
    """Ask the kernel for ``count`` distinct free TCP ports (all held open together, then released)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def _default_cache_dir() -> Path:
    env = os.environ.get("ASYNCLOAD_MILVUS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asyncload"


def _unpacked_binaries(cache_dir: Path) -> Path:
    """Unpack the server binaries (about 250 MB, ~4 s) once into the cache; return the directory."""
    import fcntl  # Linux only, like the server

    root = cache_dir / f"milvus-{MILVUS_VERSION}"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent sessions (xdist workers) unpack one at a time
        # Writes <root>/bin/*, skipping files whose checksum marker is already up to date.
        _milvus_module()._initialize_data_files(str(root))
    return root / "bin"


def _kill_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the process group of ``proc``, then SIGKILL it if ``proc`` has not exited after ``grace``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    # Whatever is left of the group (children, or the server ignoring SIGTERM).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def _cleanup(proc: subprocess.Popen[bytes] | None, data_dir: Path | None, grace: float) -> None:
    if proc is not None:
        _kill_group(proc, grace)
    if data_dir is not None:
        shutil.rmtree(data_dir, ignore_errors=True)


class MilvusStandalone:
    """A Milvus 2.3.5 standalone server in its own process group, on free ports, in a fresh data dir.

    ``authorization=True`` turns on authentication (user ``root``, password ``Milvus``; :attr:`token`
    is then ``"root:Milvus"``). ``extra_config`` sets more ``milvus.yaml`` keys that the packaged
    template has (e.g. ``{"queryCoord.loadTimeoutSeconds": 30}``). :meth:`start` returns once a real
    RPC has succeeded, or raises :class:`MilvusStandaloneError` with the end of the server log when
    the server exits or is not up within ``startup_timeout`` seconds. :meth:`stop` kills the process
    group (SIGTERM, then SIGKILL after ``stop_grace`` seconds) and removes the data directory, unless
    ``keep_data_dir=True``. ``tls`` (a :class:`StandaloneTLS`) serves the proxy port over TLS; then
    :attr:`uri` is ``https://...``. Also a context manager: ``with MilvusStandalone() as server: ...``.
    """

    def __init__(
        self,
        *,
        authorization: bool = False,
        startup_timeout: float = 120.0,
        stop_grace: float = 10.0,
        extra_config: Mapping[str, str | int | float | bool] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        keep_data_dir: bool = False,
        tls: StandaloneTLS | None = None,
    ) -> None:
        self._authorization = authorization
        self._tls = tls
        self._startup_timeout = startup_timeout
        self._stop_grace = stop_grace
        self._extra_config = dict(extra_config or {})
        self._base_dir = None if base_dir is None else Path(base_dir)
        self._cache_dir = _default_cache_dir() if cache_dir is None else Path(cache_dir)
        self._keep_data_dir = keep_data_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self._data_dir: Path | None = None
        self._ports: dict[str, int] = {}
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._command: tuple[list[str], dict[str, str]] | None = None
        self.startup_seconds: float | None = None
        """How long the last :meth:`start` took (unpacking, process start, first successful RPC)."""

    # ----------------------------------------------------------------------------------------- info
    @property
    def uri(self) -> str:
        """``http://127.0.0.1:PORT`` of the gRPC proxy (``https://`` with TLS)."""
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        """The proxy (client) port."""
        if "proxy_port" not in self._ports:
            raise MilvusStandaloneError("the server has not been started")
        return self._ports["proxy_port"]

    @property
    def ports(self) -> dict[str, int]:
        """Every port of this instance by role (``proxy_port``, ``etcd_client_port``, ``metrics_port``...)."""
        return dict(self._ports)

    @property
    def token(self) -> str | None:
        """``"root:Milvus"`` when authorization is on, else ``None``."""
        return ROOT_TOKEN if self._authorization else None

    @property
    def authorization(self) -> bool:
        """Whether the server requires a token (user ``root``, password ``Milvus``)."""
        return self._authorization

    @property
    def tls(self) -> StandaloneTLS | None:
        """The TLS settings of the proxy port (None: plaintext)."""
        return self._tls

    @property
    def data_dir(self) -> Path:
        """The server's data directory (removed by :meth:`stop`)."""
        if self._data_dir is None:
            raise MilvusStandaloneError("the server has not been started")
        return self._data_dir

    @property
    def log_path(self) -> Path:
        """The server's stdout and stderr (the Go components log here)."""
        return self.data_dir / "milvus.log"

    @property
    def pid(self) -> int | None:
        """Process id (and process group id) of the server, while it runs."""
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def metadata(self) -> list[tuple[str, str]]:
        """gRPC call metadata for this server: ``authorization`` when authorization is on."""
        if self.token is None:
            return []
        return [("authorization", base64.b64encode(self.token.encode()).decode())]

    def log_tail(self, max_bytes: int = 6000) -> str:
        """The end of the server log (empty when there is none)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(0, os.SEEK_END)
                size = log.tell()
                log.seek(max(0, size - max_bytes))
                return log.read().decode("utf-8", "replace")
        except (OSError, MilvusStandaloneError):
            return ""

    def log_digest(self, max_lines: int = 12, tail_bytes: int = 3000) -> str:
        """Error lines found anywhere in the server log, then its end (a Go panic buries the cause)."""
        lines: list[str] = []
        try:
            with open(self.log_path, "rb") as log:
                for raw in log:
                    if _ERROR_LINE.search(raw):
                        lines.append(raw.decode("utf-8", "replace").rstrip()[:600])
                        del lines[:-max_lines]
        except (OSError, MilvusStandaloneError):
            pass
        errors = "\n".join(lines) or "(none)"
        return (
            f"--- error lines in {self.log_path} ---\n{errors}\n"
            f"--- end of {self.log_path} ---\n{self.log_tail(tail_bytes)}"
        )

    # -------------------------------------------------------------------------------- start / stop
    def start(self) -> MilvusStandalone:
        """Start the server and wait until it answers an RPC. Returns ``self``."""
        if self._proc is not None:
            raise MilvusStandaloneError("already started")
        reason = standalone_available()
        if reason is not None:
            raise MilvusStandaloneError(reason)
        began = time.monotonic()
        bin_dir = _unpacked_binaries(self._cache_dir)
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._launch(bin_dir)
                self._wait_ready(began + self._startup_timeout)
            except BaseException as exc:
                if not isinstance(exc, MilvusStandaloneError):
                    self.stop()
                    raise
                port_clash = "address already in use" in str(exc).lower()
                time_left = time.monotonic() < began + self._startup_timeout
                if port_clash and attempt < _START_ATTEMPTS and time_left:
                    self.stop()
                    continue
                kept = self._keep_log()
                self.stop()
                if kept is None:
                    raise
                raise MilvusStandaloneError(f"{exc}\n(the whole server log is kept at {kept})") from exc
            break
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Kill the server's process group and remove its data directory. Safe to call twice."""
        proc, data_dir = self._proc, self._data_dir
        self._proc = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        _cleanup(proc, None if self._keep_data_dir else data_dir, self._stop_grace)

    # ------------------------------------------------------------------------------------- faults
    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (SIGKILL by default) to the server's process group; with SIGKILL, also reap
        it. The data directory and ports stay: :meth:`restart` brings the same server back."""
        if self._proc is None:
            raise MilvusStandaloneError("the server has not been started")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)
        if sig == signal.SIGKILL:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=self._stop_grace)

    def pause(self) -> None:
        """SIGSTOP the server: it keeps its connections open and answers nothing (a hung server).

        Keep pauses shorter than the etcd session TTL (~10 s): Milvus 2.3.5 panics on SIGCONT
        after a longer one."""
        self.kill(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        self.kill(signal.SIGCONT)

    def restart(self) -> MilvusStandalone:
        """SIGKILL the server if it runs, and start it again on the same ports and data; returns once
        an RPC succeeds again (like :meth:`start`). Loads it had accepted resume; for the first
        ~15 s some calls answer Milvus's 65535 while the old query node's session expires."""
        if self._command is None or self._data_dir is None:
            raise MilvusStandaloneError("the server has not been started")
        if self._proc is not None and self._proc.poll() is None:
            self.kill(signal.SIGCONT)  # a paused server cannot die before it runs again
            self.kill(signal.SIGKILL)
        began = time.monotonic()
        self._spawn(append_log=True)
        self._wait_ready(began + self._startup_timeout)
        self.startup_seconds = time.monotonic() - began
        return self

    def __enter__(self) -> MilvusStandalone:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"uri={self.uri!r}" if self.running else "stopped"
        tls = f" tls_mode={self._tls.mode}" if self._tls else ""
        return f"<MilvusStandalone {MILVUS_VERSION} {state} auth={self._authorization}{tls}>"

    # ------------------------------------------------------------------------------------ internals
    def _launch(self, bin_dir: Path) -> None:
        if self._base_dir is not None:
            self._base_dir.mkdir(parents=True, exist_ok=True)
        data_dir = Path(tempfile.mkdtemp(prefix="asyncload-milvus-", dir=self._base_dir))
        self._data_dir = data_dir
        ports = _free_ports(len(_PORT_KEYS) + 3)
        self._ports = dict(zip(_PORT_KEYS, ports, strict=False))
        etcd_client, etcd_peer, metrics = ports[len(_PORT_KEYS) :]
        self._ports.update(etcd_client_port=etcd_client, etcd_peer_port=etcd_peer, metrics_port=metrics)

        # The embedded etcd ignores milvus.yaml's endpoint port: its listen addresses come from its own
        # config file, named by etcd.config.path (set through the environment: the template lacks the key).
        etcd_config = data_dir / "etcd.yaml"
        etcd_config.write_text(
            "name: default\n"
            f"listen-client-urls: http://127.0.0.1:{etcd_client}\n"
            f"advertise-client-urls: http://127.0.0.1:{etcd_client}\n"
            f"listen-peer-urls: http://127.0.0.1:{etcd_peer}\n"
            f"initial-advertise-peer-urls: http://127.0.0.1:{etcd_peer}\n"
            f"initial-cluster: default=http://127.0.0.1:{etcd_peer}\n"
        )

        # Render configs/milvus.yaml with the package's own template engine (what milvus-server does).
        config = _milvus_module().MilvusServerConfig(
            data_dir=str(data_dir), etcd_port=etcd_client, **{k: self._ports[k] for k in _PORT_KEYS}
        )
        config.set("authorization_enabled", self._authorization)
        config.set("etcd_log_level", "warn")
        if self._tls is not None:
            config.set("tls_mode", self._tls.mode)
            config.set("server_pem_path", str(Path(self._tls.server_cert_file).absolute()))
            config.set("server_key_path", str(Path(self._tls.server_key_file).absolute()))
            config.set("ca_pem_path", str(Path(self._tls.ca_file).absolute()))
        for component in _LOOPBACK_COMPONENTS:
            config.set(f"{component}.ip", "127.0.0.1")
        for key, value in self._extra_config.items():
            config.set(key, value if not isinstance(value, bool) else str(value).lower())
        try:
            config.resolve()  # checks that every port can be bound, writes the config file
        except RuntimeError as exc:  # "set X=PORT, but bind failed": taken since we picked it
            raise MilvusStandaloneError(f"port clash, address already in use: {exc}") from exc

        env = dict(os.environ)
        env.update(
            DEPLOY_MODE="STANDALONE",
            METRICS_PORT=str(metrics),
            MILVUS_RUN_DIR=str(data_dir / "run"),
            ETCD_CONFIG_PATH=str(etcd_config),
            LD_LIBRARY_PATH=os.pathsep.join(filter(None, (str(bin_dir), os.environ.get("LD_LIBRARY_PATH")))),
        )
        self._command = ([str(bin_dir / "milvus"), "run", "standalone"], env)
        self._spawn(append_log=False)

    def _spawn(self, *, append_log: bool) -> None:
        assert self._command is not None
        assert self._data_dir is not None
        command, env = self._command
        data_dir = self._data_dir
        with open(data_dir / "milvus.log", "ab" if append_log else "wb") as log:
            # Run the server binary itself (milvus-server is only a Python launcher around it), in a new
            # session so that stop() can kill the whole process group.
            self._proc = subprocess.Popen(
                command,
                cwd=data_dir,  # the server reads ./configs/milvus.yaml
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self._finalizer is not None:
            self._finalizer.detach()
        self._finalizer = weakref.finalize(
            self, _cleanup, self._proc, None if self._keep_data_dir else data_dir, self._stop_grace
        )

    def _keep_log(self) -> Path | None:
        """Move the log of a failed start out of the data directory (which stop() removes)."""
        if self._keep_data_dir or self._data_dir is None:
            return None
        kept = self._data_dir.with_name(self._data_dir.name + ".log")
        try:
            shutil.move(self.log_path, kept)
        except OSError:
            return None
        return kept

    def _scan_log(self, offset: int) -> tuple[int, str | None]:
        """Look for a port clash in the log written since ``offset``; return the new offset and the line."""
        start_at = max(0, offset - len(_PORT_CLASH))  # overlap: a match may straddle two reads
        try:
            with open(self.log_path, "rb") as log:
                log.seek(start_at)
                chunk = log.read()
        except OSError:
            return offset, None
        at = chunk.find(_PORT_CLASH)
        if at < 0:
            return start_at + len(chunk), None
        start = chunk.rfind(b"\n", 0, at) + 1
        end = chunk.find(b"\n", at)
        line = chunk[start : end if end >= 0 else len(chunk)]
        return start_at + len(chunk), line.decode("utf-8", "replace")[:600]

    def _wait_ready(self, deadline: float) -> None:
        """Poll until the health endpoint says OK and a ShowCollections RPC succeeds."""
        import grpc

        from asyncload._transport.proto import milvus_pb2, milvus_pb2_grpc

        assert self._proc is not None
        health_url = f"http://127.0.0.1:{self._ports['metrics_port']}/healthz"
        target = f"127.0.0.1:{self.port}"
        if self._tls is None:
            channel = grpc.insecure_channel(target)
        else:
            name = self._tls.server_name
            options = [("grpc.ssl_target_name_override", name)] if name else []
            channel = grpc.secure_channel(target, self._tls.credentials(), options=options)
        stub = milvus_pb2_grpc.MilvusServiceStub(channel)
        last_error = "no answer yet"
        healthy = False
        log_offset = 0
        try:
            while True:
                code = self._proc.poll()
                if code is not None:
                    raise MilvusStandaloneError(
                        f"Milvus standalone exited with code {code} while starting; "
                        f"last error: {last_error}\n{self.log_digest()}"
                    )
                if time.monotonic() >= deadline:
                    raise MilvusStandaloneError(
                        f"Milvus standalone not up within {self._startup_timeout:g} s; "
                        f"last error: {last_error}\n{self.log_digest()}"
                    )
                # A port taken since we picked it: some components die, others (metrics) only log it.
                log_offset, clash = self._scan_log(log_offset)
                if clash is not None:
                    raise MilvusStandaloneError(f"port clash: {clash}\n{self.log_digest()}")
                if not healthy:
                    try:
                        with urllib.request.urlopen(health_url, timeout=2) as resp:
                            body = resp.read().decode("utf-8", "replace")
                        healthy = "OK" in body
                        last_error = f"healthz: {body.strip()[:200]}"
                    except (OSError, urllib.error.URLError) as exc:
                        last_error = f"healthz: {exc}"
                if healthy:
                    try:
                        reply = stub.ShowCollections(
                            milvus_pb2.ShowCollectionsRequest(), metadata=self.metadata(), timeout=5
                        )
                    except grpc.RpcError as exc:
                        last_error = f"ShowCollections: {exc.code()} {exc.details()}"
                    else:
                        if reply.status.error_code == 0 and reply.status.code == 0:
                            return
                        last_error = f"ShowCollections: {reply.status.code} {reply.status.reason}"
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=0.1)  # the next check, or at once if the server died
        finally:
            channel.close()


# --------------------------------------------------------------------------------------- fixtures
