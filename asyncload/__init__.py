"""asyncload: await, watch and cost Milvus collection loads from asyncio and trio.

>>> async with asyncload.connect("./demo.db") as client:      # doctest: +SKIP
...     task = await client.load_collection("c")
...     async for p in task.progress():
...         print(p.percent)
...     await task

Where things are. The engine: ``_client`` (AsyncClient, connect: the facade), ``_tasks`` /
``_stream`` / ``_progress`` (LoadTask, its progress streams, Progress), ``_options`` (LoadOptions),
``_events`` (LoadEvent: what ``client.subscribe`` listeners are told), ``_monitor/`` (one load
monitor per client; its pure polling policy), ``_footprint/`` (the pure estimator and the RPCs it
needs), ``_transport/`` (gRPC on asyncio and trio, error mapping, the one
protobuf import), ``_servers/`` (Milvus Lite and standalone launchers), ``errors`` (the whole
hierarchy). The front-ends import the engine, never the reverse: ``footprint`` (pandas tables,
notebook views), ``widgets/`` (ipywidgets), ``cli/`` (the ``asyncload`` command), ``testing``
(pytest fixtures). ``import asyncload`` imports neither gRPC nor pandas: the protocol layer loads
when a client opens.
"""

from ._client import AsyncClient as AsyncClient
from ._client import ClientState as ClientState
from ._client import ClientStatistics as ClientStatistics
from ._client import connect as connect
from ._events import LoadEvent as LoadEvent
from ._events import LoadEventKind as LoadEventKind
from ._monitor.policy import PollingConfig as PollingConfig
from ._options import LoadOptions as LoadOptions
from ._progress import LoadState as LoadState
from ._progress import Progress as Progress
from ._public import publish as _publish
from ._retry import RetryPolicy as RetryPolicy
from ._schema import CollectionSchema as CollectionSchema
from ._schema import DataType as DataType
from ._schema import FieldSchema as FieldSchema
from ._schema import IndexInfo as IndexInfo
from ._stream import ProgressStream as ProgressStream
from ._tasks import LoadTask as LoadTask
from .errors import AsyncLoadError as AsyncLoadError
from .errors import AuthenticationError as AuthenticationError
from .errors import ClientClosedError as ClientClosedError
from .errors import CollectionNotFoundError as CollectionNotFoundError
from .errors import ConnectionFailedError as ConnectionFailedError
from .errors import DatabaseLockedError as DatabaseLockedError
from .errors import DeadlineExceededError as DeadlineExceededError
from .errors import InvalidArgumentError as InvalidArgumentError
from .errors import InvalidLoadFieldsError as InvalidLoadFieldsError
from .errors import LoadFailedError as LoadFailedError
from .errors import LoadReleasedError as LoadReleasedError
from .errors import LoadStalledError as LoadStalledError
from .errors import NotFoundError as NotFoundError
from .errors import NotLoadedError as NotLoadedError
from .errors import PartitionNotFoundError as PartitionNotFoundError
from .errors import PermissionDeniedError as PermissionDeniedError
from .errors import ServerError as ServerError
from .errors import ServerUnavailableError as ServerUnavailableError
from .errors import TLSError as TLSError
from .errors import TransportError as TransportError
from .errors import UnsupportedOperationError as UnsupportedOperationError

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "AsyncLoadError",
    "AuthenticationError",
    "ClientClosedError",
    "ClientState",
    "ClientStatistics",
    "CollectionNotFoundError",
    "CollectionSchema",
    "ConnectionFailedError",
    "DataType",
    "DatabaseLockedError",
    "DeadlineExceededError",
    "FieldSchema",
    "IndexInfo",
    "InvalidArgumentError",
    "InvalidLoadFieldsError",
    "LoadEvent",
    "LoadEventKind",
    "LoadFailedError",
    "LoadOptions",
    "LoadReleasedError",
    "LoadStalledError",
    "LoadState",
    "LoadTask",
    "NotFoundError",
    "NotLoadedError",
    "PartitionNotFoundError",
    "PermissionDeniedError",
    "PollingConfig",
    "Progress",
    "ProgressStream",
    "RetryPolicy",
    "ServerError",
    "ServerUnavailableError",
    "TLSError",
    "TransportError",
    "UnsupportedOperationError",
    "connect",
]

_publish(globals(), __all__, __name__)
