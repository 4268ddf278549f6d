"""gRPC channel options: reconnect backoff, keepalive (hang detection), and the caller's own options.

Pure: builds the option list the transports hand to gRPC, and validates what ``connect()`` takes.

- **Reconnect backoff.** After a dropped connection gRPC waits before reconnecting (by default ~1 s,
  growing to 120 s), and every call made meanwhile fails at once with UNAVAILABLE: asyncload's
  retries (~0.8-1.6 s in all) would mostly never reach the network, so a sub-second blip failed
  calls. Reconnecting after 0.1 s, growing by 1.6x to at most 1 s, puts a fresh connection within
  reach of the retries. Connection attempts themselves still get at least 5 s to complete.
- **Keepalive.** A server that stops answering without closing the connection (SIGSTOP, a dead host,
  a black-holed route) leaves a call waiting forever when nothing else bounds it (``timeout=None``).
  A ping every ``keepalive`` seconds, which must be answered within ``keepalive`` seconds, detects a
  dead peer within about twice that: the call fails with UNAVAILABLE and the wait rides it out like
  any outage. Milvus's proxy allows a ping every 5 s at most (``EnforcementPolicy{MinTime: 5s,
  PermitWithoutStream: true}``; pinging faster gets the connection closed with "too_many_pings"),
  so ``keepalive`` must be at least 5.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .errors import InvalidArgumentError

__all__ = ["DEFAULT_KEEPALIVE", "MIN_KEEPALIVE", "channel_options", "check_channel_options", "check_keepalive"]

#: Seconds between keepalive pings (and to wait for each answer) unless connect() says otherwise.
DEFAULT_KEEPALIVE = 10.0
#: Milvus closes connections that ping more often than every 5 s.
MIN_KEEPALIVE = 5.0

_BASE_OPTIONS: tuple[tuple[str, int | str], ...] = (
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 0),  # asyncload retries itself, inside the caller's deadline
    # Own subchannels: closing the client closes its connections, so no late event (a GOAWAY from a
    # server stopping later) reaches an event loop that has ended.
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.min_reconnect_backoff_ms", 5000),  # gRPC core's minimum time for one connection attempt
)


def check_keepalive(keepalive: object) -> float | None:
    """``keepalive`` seconds (a number >= 5, or None to turn keepalive pings off)."""
    if keepalive is None:
        return None
    if isinstance(keepalive, bool) or not isinstance(keepalive, int | float):
        raise InvalidArgumentError(
            f"keepalive must be seconds between pings (a number >= {MIN_KEEPALIVE:g}) or None, "
            f"not {type(keepalive).__name__}"
        )
    value = float(keepalive)
    if not (math.isfinite(value) and MIN_KEEPALIVE <= value <= 86400):
        raise InvalidArgumentError(
            f"keepalive must be between {MIN_KEEPALIVE:g} and 86400 seconds (Milvus refuses pings more "
            f"often than every {MIN_KEEPALIVE:g} s), or None to turn pings off; got {keepalive!r}"
        )
    return value


def check_channel_options(options: object) -> dict[str, int | str]:
    """``channel_options``: a mapping of gRPC channel argument names (``"grpc.*"``) to int or str."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidArgumentError(
            "channel_options must be a dict of gRPC channel arguments such as "
            f"{{'grpc.keepalive_time_ms': 20000}}, not {type(options).__name__}"
        )
    checked: dict[str, int | str] = {}
    for key, value in options.items():
        if not isinstance(key, str) or not key.startswith("grpc.") or not key.isascii() or not key.isprintable():
            raise InvalidArgumentError(
                f"channel_options keys must be gRPC channel argument names starting with 'grpc.', got {key!r}"
            )
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidArgumentError(f"channel_options[{key!r}] must be an int or a str, not {type(value).__name__}")
        if isinstance(value, int) and not -(2**31) <= value < 2**31:
            raise InvalidArgumentError(f"channel_options[{key!r}] must fit in 32 bits, got {value}")
        checked[key] = value
    return checked


def channel_options(keepalive: float | None, extra: Mapping[str, int | str]) -> list[tuple[str, int | str]]:
    """Every option for a client's channel: asyncload's, then keepalive, then ``extra`` (which wins)."""
    options: dict[str, int | str] = dict(_BASE_OPTIONS)
    if keepalive is not None:
        millis = int(keepalive * 1000)
        options.update(
            {
                "grpc.keepalive_time_ms": millis,
                "grpc.keepalive_timeout_ms": millis,
                # gRPC core waits this long for a ping's ack (60 s by default), whatever
                # keepalive_timeout_ms says: measured, a black-holed call ended after 60 s without it.
                "grpc.http2.ping_timeout_ms": millis,
                "grpc.keepalive_permit_without_calls": 1,
                "grpc.http2.max_pings_without_data": 0,  # keep pinging while a call waits for its answer
            }
        )
    options.update(extra)
    return list(options.items())
