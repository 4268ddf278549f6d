"""AsyncClient and connect(): the facade over transport, monitor and tasks."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import anyio
import sniffio

from . import _channel
from ._calls import current_call, user_call
from ._channel import DEFAULT_KEEPALIVE
from ._endpoint import Endpoint, parse_uri
from ._events import EventHub, LoadListener
from ._footprint.estimate import Footprint
from ._footprint.fit import ClusterMemory, Fit, fit_verdict, parse_system_info
from ._footprint.sample import normalize_sample
from ._footprint.source import fetch_footprint
from ._format import target_label
from ._monitor.monitor import LoadMonitor
from ._monitor.policy import PollingConfig
from ._options import LoadOptions
from ._progress import LoadState, Progress
from ._retry import RetryPolicy
from ._schema import CollectionSchema, IndexInfo
from ._servers import embedded as _embedded
from ._tasks import LoadTask
from ._validation import (
    check_collection_name,
    check_flag,
    check_int,
    check_name_list,
    check_replica_number,
    check_timeout,
    show,
    validate_load_fields,
)
from .errors import (
    ClientClosedError,
    CollectionNotFoundError,
    InvalidArgumentError,
    LoadReleasedError,
    NotLoadedError,
    ServerError,
    UnsupportedOperationError,
)

if TYPE_CHECKING:
    import pandas as pd

    from ._tls import TLSConfig
    from ._transport.base import Transport
    from ._transport.milvus import MilvusAPI

__all__ = ["AsyncClient", "ClientState", "ClientStatistics", "connect"]

DEFAULT_TIMEOUT = 30.0
# Milvus codes meaning "not loaded" (collection, partition): a state, not an error, for loading_progress.
_NOT_LOADED_CODES = frozenset({101, 201})


class ClientState(enum.Enum):
    """Lifecycle of an AsyncClient."""

    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class ClientStatistics:
    """Counters for one client: RPCs sent by method, and what the load monitor is following."""

    rpcs: Mapping[str, int]
    #: Progress RPCs of the load monitor and of ``loading_progress``: GetLoadingProgress calls plus
    #: batched ShowCollections(InMemory) calls (each answering several collections).
    progress_polls: int
    watched: int
    polling: int
    waiters: int
    streams: int


def connect(
    uri: str = "./milvus.db",
    *,
    token: str | None = None,
    db_name: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    polling: PollingConfig | None = None,
    retry: RetryPolicy | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    client_cert_file: str | os.PathLike[str] | None = None,
    client_key_file: str | os.PathLike[str] | None = None,
    server_name: str | None = None,
    keepalive: float | None = DEFAULT_KEEPALIVE,
    channel_options: Mapping[str, int | str] | None = None,
) -> AsyncClient:
    """A client for the Milvus at ``uri``; use it as ``async with asyncload.connect(uri) as client:``.

    ``uri`` is ``http://host:port``, ``https://host:port``, ``host:port``, or a local path ending
    in ``.db``, which starts an embedded Milvus Lite in this process (stopped when the client
    closes). Credentials in the URI (``http://user:password@host``, percent-encoded) become the
    token. ``token`` is ``user:password`` or an API key; it never appears in reprs, logs or errors.
    ``db_name`` names the database (printable ASCII). ``timeout`` bounds each call in seconds, its
    retries included (None: unbounded); a caller's cancel scope bounds it too.

    ``keepalive`` is the seconds between gRPC keepalive pings, each to be answered within as long,
    so a server that hangs (stopped, unplugged, black-holed) is detected within about twice that
    even with ``timeout=None`` (at least 5: Milvus refuses faster pings; None turns pings off).
    ``channel_options`` passes gRPC channel arguments (``{"grpc.name": value}``) over asyncload's own.

    TLS (``https://`` URIs only): ``ca_file`` is a PEM bundle of the CAs that may sign the server's
    certificate (default: gRPC's bundled roots); ``client_cert_file`` and ``client_key_file`` (PEM,
    the key unencrypted) are the client's certificate for servers requiring mutual TLS;
    ``server_name`` is the name the server's certificate must carry when it is not the URI's host.
    A certificate that is not trusted or does not match raises :class:`~asyncload.TLSError`,
    never retried.

    Every argument is checked here, and the TLS files read, before anything is started: a bad one
    raises :class:`~asyncload.InvalidArgumentError`.
    """
    endpoint = parse_uri(
        uri,
        token=token,
        db_name=db_name,
        ca_file=ca_file,
        client_cert_file=client_cert_file,
        client_key_file=client_key_file,
        server_name=server_name,
    )
    options = _channel.channel_options(
        _channel.check_keepalive(keepalive), _channel.check_channel_options(channel_options)
    )
    return AsyncClient(
        endpoint,
        timeout=check_timeout(timeout),
        polling=polling or PollingConfig(),
        retry=retry or RetryPolicy(),
        channel_options=options,
    )


class AsyncClient:
    """An open connection to one Milvus, with one load monitor shared by all its tasks.

    Create it with :func:`connect` and use it inside ``async with``; on exit every wait and stream
    still following a load raises :class:`~asyncload.ClientClosedError` (the loads go on on the
    server), background polling stops, and an embedded server is stopped.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout: float | None,
        polling: PollingConfig,
        retry: RetryPolicy,
        channel_options: Sequence[tuple[str, int | str]] | None = None,
    ):
        if not isinstance(polling, PollingConfig):
            raise InvalidArgumentError(f"polling must be an asyncload.PollingConfig, got {show(polling)}")
        if not isinstance(retry, RetryPolicy):
            raise InvalidArgumentError(f"retry must be an asyncload.RetryPolicy, got {show(retry)}")
        self._endpoint = endpoint
        self._timeout = timeout
        self._polling = polling
        self._retry = retry
        self._channel_options = list(channel_options or _channel.channel_options(_channel.DEFAULT_KEEPALIVE, {}))
        self._state = ClientState.UNOPENED
        self._stack: AsyncExitStack | None = None
        #: The task that opened the client: only it can unwind what it entered (the task group).
        self._owner: int | None = None
        self._transport: Transport | None = None
        self._api_: MilvusAPI | None = None
        self._monitor_: LoadMonitor | None = None
        self._events = EventHub()

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """Where the client is in its life: UNOPENED, OPEN or CLOSED."""
        return self._state

    @property
    def embedded(self) -> bool:
        """Whether this client runs an embedded Milvus Lite (a ``.db`` path) in this process."""
        return self._endpoint.embedded

    @property
    def uri(self) -> str:
        """Where this client connects (never with credentials)."""
        return self._endpoint.describe()

    def __repr__(self) -> str:
        return f"<AsyncClient {self.uri} {self._state.value}>"

    async def __aenter__(self) -> AsyncClient:
        if self._state is not ClientState.UNOPENED:
            raise ClientClosedError(f"{self!r} cannot be opened again; call asyncload.connect() for a new client")
        async with AsyncExitStack() as stack:
            endpoint = self._endpoint
            target, tls = endpoint.target, endpoint.tls
            if endpoint.embedded_path is not None:
                path = endpoint.embedded_path
                uri = await _embedded.acquire(path)
                stack.push_async_callback(_embedded.release, path)
                target, tls = uri.removeprefix("http://"), None
            assert target is not None
            # The protocol layer (gRPC, protobuf) is imported here, when a client opens: not by
            # ``import asyncload``.
            from ._transport.milvus import MilvusAPI

            transport = _make_transport(target, tls=tls, metadata=endpoint.metadata(), options=self._channel_options)
            stack.push_async_callback(_shielded_close, transport)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(task_group.cancel_scope.cancel)
            self._api_ = MilvusAPI(transport, timeout=self._timeout, retry=self._retry)
            self._monitor_ = LoadMonitor(self._api_, task_group, self._polling, on_change=self._events.watch_changed)
            self._transport = transport
            self._stack = stack.pop_all()
        self._owner = anyio.get_current_task().id
        self._state = ClientState.OPEN
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client (idempotent). Waiters and streams raise ClientClosedError; loads go on.

        From the task that opened the client (the ``async with`` block's), it closes everything.
        From any other task it closes the connection, stops background polling and ends every wait
        at once; what the opening task entered (the task group, an embedded server) is unwound
        when that task leaves its ``async with`` block, where calls meanwhile raise
        ClientClosedError. Closing is shielded: cancelling this call does not leave the client
        half-closed.
        """
        if self._state is ClientState.OPEN:
            self._state = ClientState.CLOSED
            # Stops the polling loops too (each in a scope of its own: the task group's scope also
            # encloses the opening task's block, which only that task's exit may cancel).
            self._monitor.close(ClientClosedError(f"{self!r} was closed while waiting; the load goes on"))
        self._state = ClientState.CLOSED
        if self._stack is None:
            return
        if anyio.get_current_task().id != self._owner:
            if self._transport is not None:
                await _shielded_close(self._transport)  # closed again by the owner: harmless
            return
        stack, self._stack = self._stack, None
        await stack.aclose()

    @property
    def _api(self) -> MilvusAPI:
        if self._state is not ClientState.OPEN or self._api_ is None:
            raise ClientClosedError(f"{self!r} is not open: use it inside 'async with asyncload.connect(...)'")
        return self._api_

    @property
    def _monitor(self) -> LoadMonitor:
        if self._monitor_ is None:
            raise ClientClosedError(f"{self!r} is not open: use it inside 'async with asyncload.connect(...)'")
        return self._monitor_

    def statistics(self) -> ClientStatistics:
        """RPC and monitor counters (no I/O)."""
        api, monitor = self._api_, self._monitor_
        watches = monitor.watches if monitor else ()
        rpcs = dict(api.calls) if api else {}
        return ClientStatistics(
            rpcs=rpcs,
            progress_polls=rpcs.get("GetLoadingProgress", 0) + (monitor.batched_polls if monitor else 0),
            watched=len(watches),
            polling=sum(1 for w in watches if w.waiters > 0),
            waiters=sum(w.waiters - w.streams for w in watches),
            streams=sum(w.streams for w in watches),
        )

    def subscribe(self, listener: LoadListener) -> Callable[[], None]:
        """Call ``listener(event)`` with a :class:`~asyncload.LoadEvent` for every load and release made
        through this client; returns a function that unsubscribes (calling it twice is harmless).

        Events: a load submitted, a new percentage seen by the load monitor, a load ended (loaded,
        failed or released), a release done. Listeners run synchronously on the event loop and must
        not block; an exception from one is logged and the client goes on. It may be called before
        the client opens; subscriptions outlive ``aclose``.
        """
        return self._events.subscribe(listener)

    # -- loads ----------------------------------------------------------------------------------

    @user_call
    async def load_collection(
        self,
        collection: str,
        *,
        load_fields: Sequence[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int | None = None,
        resource_groups: Sequence[str] | None = None,
        refresh: bool = False,
        load_params: Mapping[str, str] | None = None,
        options: LoadOptions | None = None,
    ) -> LoadTask:
        """Submit a load of ``collection`` and return its :class:`LoadTask` once the server accepted it.

        ``load_fields`` loads only those fields (it must include the primary key and a vector field;
        checked against the schema before the load is sent); ``skip_load_dynamic_field`` skips the
        dynamic ``$meta`` field; the other arguments are Milvus's (see :class:`LoadOptions`). Pass
        them one by one or as one ``options=LoadOptions(...)``, not both. Submission errors raise
        here; await the task for the outcome.

        Cancelling this call may leave the load submitted or not (Milvus ignores a repeated load).
        """
        chosen = _one_options(
            options,
            load_fields=load_fields,
            skip_load_dynamic_field=skip_load_dynamic_field,
            replica_number=replica_number,
            resource_groups=resource_groups,
            refresh=refresh,
            load_params=load_params,
        )
        return await self._submit(check_collection_name(collection), None, chosen)

    @user_call
    async def load_partitions(
        self,
        collection: str,
        partition_names: Sequence[str],
        *,
        load_fields: Sequence[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int | None = None,
        resource_groups: Sequence[str] | None = None,
        refresh: bool = False,
        load_params: Mapping[str, str] | None = None,
        options: LoadOptions | None = None,
    ) -> LoadTask:
        """Submit a load of some partitions; the task follows their combined progress.

        Same arguments as :meth:`load_collection`. Milvus Lite does not load partitions and raises
        :class:`~asyncload.UnsupportedOperationError`.

        Cancelling this call may leave the load submitted or not (Milvus ignores a repeated load).
        """
        collection = check_collection_name(collection)
        partitions = check_name_list(partition_names, what="partition_names", allow_none=False)
        chosen = _one_options(
            options,
            load_fields=load_fields,
            skip_load_dynamic_field=skip_load_dynamic_field,
            replica_number=replica_number,
            resource_groups=resource_groups,
            refresh=refresh,
            load_params=load_params,
        )
        return await self._submit(collection, partitions, chosen)

    @user_call
    async def refresh_load(self, collection: str, partition_names: Sequence[str] | None = None) -> LoadTask:
        """Reload segments added since the load (Milvus's ``refresh=True``); the task follows the refresh.

        Cancelling this call may leave the refresh submitted or not.
        """
        if partition_names is None:
            return await self.load_collection(collection, refresh=True)
        return await self.load_partitions(collection, partition_names, refresh=True)

    async def _submit(self, collection: str, partitions: tuple[str, ...] | None, options: LoadOptions) -> LoadTask:
        api, monitor = self._api, self._monitor
        if options.load_fields:
            schema = await api.describe_collection(collection)
            validate_load_fields(schema, options.load_fields)
        watch = monitor.watch(collection, partitions or ())
        submitted_at = anyio.current_time()
        blocking = self._endpoint.embedded  # Milvus Lite answers only once loaded
        if partitions is None:
            await api.load_collection(collection, options, blocking=blocking)
        else:
            await api.load_partitions(collection, partitions, options, blocking=blocking)
        # Milvus Lite answers a refresh only once done and never reports refresh progress.
        follow_refresh = options.refresh and not self._endpoint.embedded
        first_poll = watch.restart(submitted_at, refresh=follow_refresh)
        task = LoadTask(
            monitor=monitor,
            watch=watch,
            refresh=options.refresh,
            track_refresh=follow_refresh,
            submitted_at=submitted_at,
            first_poll=first_poll,
            release=lambda: self._release(collection, partitions),
        )
        watch.add_task(task)
        self._events.submitted(task, watch.key)
        await monitor.poll(watch)  # the first poll, at once: a fast load is already done here
        return task

    @user_call
    async def follow_load(self, collection: str, partition_names: Sequence[str] | None = None) -> LoadTask:
        """A :class:`LoadTask` for a load already under way on the server, started elsewhere (another
        client or process, a kernel before a restart, Attu); like pymilvus's
        ``utility.wait_for_loading_complete`` but without blocking: await it, stream its progress, or
        release it, like any task. No load is sent.

        With ``partition_names`` it follows those partitions together. A target that is already
        loaded gives a task that is done at once. One that is neither loading nor loaded raises
        :class:`~asyncload.NotLoadedError` (naming its state); a missing collection raises
        :class:`~asyncload.CollectionNotFoundError`. If the load is released meanwhile (here or
        elsewhere), the task ends with :class:`~asyncload.LoadReleasedError`. The task's ``elapsed``
        counts from now, and its ETA stays unknown until the load has been seen moving.
        Cancelling this call sends nothing that could change the load.
        """
        collection = check_collection_name(collection)
        partitions = check_name_list(partition_names, what="partition_names")
        api, monitor = self._api, self._monitor
        state = await api.get_load_state(collection, partitions)
        call = current_call() or "follow_load"
        if state is LoadState.NOT_EXIST:
            raise CollectionNotFoundError(collection, operation=call)
        if state is LoadState.NOT_LOAD:
            raise NotLoadedError(collection, partitions, state, operation=call)
        watch = monitor.watch(collection, partitions)
        now = anyio.current_time()
        if watch.waiters and not watch.outcome.verdict().ended:
            first_poll = watch.polls_sent  # already followed by a waiter of this client: share its schedule
        else:
            first_poll = watch.restart(now, followed=True)
        task = LoadTask(
            monitor=monitor,
            watch=watch,
            refresh=False,
            track_refresh=False,
            submitted_at=now,
            first_poll=first_poll,
            release=lambda: self._release(collection, partitions or None),
            followed=True,
        )
        watch.add_task(task)
        await monitor.poll(watch)  # at once: an already loaded target is done here
        return task

    # -- release --------------------------------------------------------------------------------

    @user_call
    async def release_collection(self, collection: str) -> None:
        """Release the collection (stopping any load in progress); its tasks end with LoadReleasedError.

        Cancelling this call may leave the release sent or not; releasing twice is harmless.
        """
        await self._release(check_collection_name(collection), None)

    @user_call
    async def release_partitions(self, collection: str, partition_names: Sequence[str]) -> None:
        """Release some partitions; tasks loading any of them end with LoadReleasedError.

        Cancelling this call may leave the release sent or not; releasing twice is harmless.
        """
        partitions = check_name_list(partition_names, what="partition_names", allow_none=False)
        await self._release(check_collection_name(collection), partitions)

    async def _release(self, collection: str, partitions: tuple[str, ...] | None) -> None:
        api, monitor = self._api, self._monitor
        target = target_label(collection, partitions or ())
        error = LoadReleasedError(
            f"{target} was released before it finished loading", code=0, operation=current_call() or "release()"
        )
        monitor.releasing(collection, partitions, error)
        try:
            if partitions is None:
                await api.release_collection(collection)
            else:
                await api.release_partitions(collection, partitions)
        except BaseException:
            monitor.release_failed(collection, partitions)
            raise
        monitor.released(collection, partitions, error)
        self._events.released(collection, partitions)

    # -- state ----------------------------------------------------------------------------------

    @user_call
    async def get_load_state(self, collection: str, partition_name: str | None = None) -> LoadState:
        """The load state of the collection, or of one partition. A missing collection is NOT_EXIST.

        One RPC (retried only when transient); cancelling this call abandons it and changes nothing.
        """
        collection = check_collection_name(collection)
        partitions = () if partition_name is None else check_name_list([partition_name], what="partition_name")
        return await self._api.get_load_state(collection, partitions)

    @user_call
    async def loading_progress(self, collection: str, partition_names: Sequence[str] | None = None) -> Progress:
        """One snapshot of the loading progress of the collection, or of the named partitions together.

        A target that is not loaded (never loaded, released, or any named partition released)
        answers state NOT_LOAD with 0%; a missing collection or partition raises the NotFound error.
        Cancelling this call abandons the RPC and changes nothing.
        """
        collection = check_collection_name(collection)
        partitions = check_name_list(partition_names, what="partition_names")
        api = self._api
        try:
            answer = await api.get_loading_progress(collection, partitions)
        except ServerError as exc:
            if exc.code in _NOT_LOADED_CODES:
                return Progress(collection, partitions, 0, LoadState.NOT_LOAD)
            raise
        if answer.percent >= 100:
            state = LoadState.LOADED
        else:  # some servers answer 0% for a collection that is not loaded at all: ask which
            state = await api.get_load_state(collection, partitions)
            if state is LoadState.LOADED:
                state = LoadState.LOADING
        return Progress(collection, partitions, answer.percent, state, answer.refresh_percent)

    # -- footprints -----------------------------------------------------------------------------

    @user_call
    async def footprint_estimate(
        self,
        collection: str,
        *,
        load_fields: Sequence[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int = 1,
        partition_names: Sequence[str] | None = None,
        sample_rows: int = 256,
        sample: object = None,
    ) -> Footprint:
        """Estimate the memory a load would cost, per field, as an :class:`~asyncload.footprint.Footprint`.

        A fixed handful of RPCs: describe, statistics, indexes, load state, sealed segments, and,
        when the collection is loaded, one Query sampling at most ``sample_rows`` rows of the
        variable-length fields. Without a sample a variable-length field gets a schema range
        (``low_bytes`` .. ``high_bytes``, basis "schema range"), never a single number passed off as
        measured. ``sample`` is your own sample of the rows you are about to insert: a pandas
        DataFrame, a dict of column -> list of values, a list of row dicts, or the path of a parquet
        file; it gives the fields it covers a point estimate before anything is loaded (basis "your
        sample, N rows"). It is checked (and a parquet file read) before any RPC. The selection is
        checked like ``load_collection``'s.
        Read-only: cancelling this call abandons its RPCs and changes nothing.
        """
        collection = check_collection_name(collection)
        fields = check_name_list(load_fields, what="load_fields", allow_empty=True)
        skip = check_flag(skip_load_dynamic_field, what="skip_load_dynamic_field")
        replicas = check_replica_number(replica_number) or 1
        partitions = check_name_list(partition_names, what="partition_names")
        rows = check_int(sample_rows, what="sample_rows", minimum=1, maximum=16384)
        columns = None if sample is None else normalize_sample(sample)
        return await fetch_footprint(
            self._api,
            collection,
            load_fields=fields,
            skip_load_dynamic_field=skip,
            replica_number=replicas,
            partitions=partitions,
            sample_rows=rows,
            user_columns=columns,
        )

    @user_call
    async def query_node_memory(self) -> ClusterMemory:
        """The query nodes' memory (total, used, free; per node) from GetMetrics ``system_info``.

        A server that does not answer it (Milvus Lite: UNIMPLEMENTED) gives a ClusterMemory with
        ``known=False`` and the reason, never a guess. Cancelling the call cancels the RPC.
        """
        try:
            answer = await self._api.system_info()
        except UnsupportedOperationError:
            return ClusterMemory.unknown("the server does not report its memory (GetMetrics unimplemented)")
        return parse_system_info(answer)

    @user_call
    async def footprint_fit(self, footprint: Footprint) -> Fit:
        """Does ``footprint`` fit the query nodes' memory? fits / tight / does not fit / unknown.

        Reads :meth:`query_node_memory` and compares the footprint's loading peak (replicas
        included) with what the nodes can still take before refusing a load (90 % of their memory,
        minus what is used). Cancelling the call cancels the RPC.
        """
        if not isinstance(footprint, Footprint):
            raise InvalidArgumentError(
                "footprint must be an asyncload.footprint.Footprint (from client.footprint_estimate(...)), "
                f"not {type(footprint).__name__}"
            )
        return fit_verdict(footprint, await self.query_node_memory())

    @user_call
    async def footprint(
        self,
        collection: str,
        *,
        load_fields: Sequence[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int = 1,
        partition_names: Sequence[str] | None = None,
        sample_rows: int = 256,
        sample: object = None,
    ) -> pd.DataFrame:
        """The per-field memory estimate as a pandas DataFrame indexed by field name.

        Columns: dtype, dim, rows, raw_bytes, index_type, index_bytes, bytes, low_bytes, high_bytes,
        share, is_primary, is_vector, selected, mmap, peak_bytes, disk_bytes, basis; ``df.attrs``
        holds the totals (with their schema ranges), the assumptions, the query nodes' memory
        (``memory``) and the verdict (``fit``: fits / tight / does not fit / unknown). Same
        arguments (and cancellation) as :meth:`footprint_estimate`.
        """
        from ._footprint.frame import footprint_frame

        estimate = await self.footprint_estimate(
            collection,
            load_fields=load_fields,
            skip_load_dynamic_field=skip_load_dynamic_field,
            replica_number=replica_number,
            partition_names=partition_names,
            sample_rows=sample_rows,
            sample=sample,
        )
        memory = await self.query_node_memory()
        return footprint_frame(estimate, memory=memory, fit=fit_verdict(estimate, memory))

    # -- descriptions ---------------------------------------------------------------------------

    @user_call
    async def list_collections(self) -> list[str]:
        """The names of the database's collections. Cancelling this call abandons the RPC."""
        return await self._api.list_collections()

    @user_call
    async def describe_collection(self, collection: str) -> CollectionSchema:
        """The collection's schema: its fields with their types, dimensions and lengths.

        Raises CollectionNotFoundError for an unknown name. Cancelling this call abandons the RPC.
        """
        return await self._api.describe_collection(check_collection_name(collection))

    @user_call
    async def list_partitions(self, collection: str) -> list[str]:
        """The names of the collection's partitions (``_default`` included). Cancelling this call
        abandons the RPC."""
        return await self._api.list_partitions(check_collection_name(collection))

    @user_call
    async def describe_indexes(self, collection: str) -> list[IndexInfo]:
        """The collection's indexes, one per indexed field (an empty list when it has none).
        Cancelling this call abandons the RPC."""
        return await self._api.describe_indexes(check_collection_name(collection))

    @user_call
    async def row_count(self, collection: str) -> int:
        """The number of rows the server counts for the collection (its statistics: flushed and
        growing segments, deleted rows included until compaction). Cancelling this call abandons the RPC."""
        return await self._api.row_count(check_collection_name(collection))


def _make_transport(
    target: str,
    *,
    tls: TLSConfig | None,
    metadata: Sequence[tuple[str, str]],
    options: Sequence[tuple[str, int | str]] | None = None,
) -> Transport:
    """The transport of this event loop's kind, with the channel options of :mod:`asyncload._channel`
    (its defaults when ``options`` is None)."""
    if options is None:
        options = _channel.channel_options(_channel.DEFAULT_KEEPALIVE, {})
    if sniffio.current_async_library() == "asyncio":
        from ._transport.aio import AioTransport

        return AioTransport(target, tls=tls, metadata=metadata, options=options)
    from ._transport.threaded import ThreadedTransport

    return ThreadedTransport(target, tls=tls, metadata=metadata, options=options)


async def _shielded_close(transport: Transport) -> None:
    with anyio.CancelScope(shield=True):
        await transport.aclose()


def _one_options(options: LoadOptions | None, **arguments: object) -> LoadOptions:
    """``options`` when given (then every keyword argument must be left at its default), else
    a LoadOptions built, and so checked, from the keyword arguments."""
    if options is None:
        return LoadOptions(**arguments)  # type: ignore[arg-type]
    if not isinstance(options, LoadOptions):
        raise InvalidArgumentError(f"options must be an asyncload.LoadOptions, got {type(options).__name__}")
    given = [name for name, value in arguments.items() if value is not None and value is not False]
    if given:
        raise InvalidArgumentError(
            f"pass either options=LoadOptions(...) or keyword arguments, not both (also got {', '.join(given)})"
        )
    return options
