"""The one place that imports Milvus's generated protobuf and gRPC modules.

Every other module asks here for messages and stubs; nothing above the transport sees them.
"""

from __future__ import annotations

import os

# Importing anything from pymilvus runs pymilvus/__init__.py, which parses $MILVUS_URI at import time
# and raises for forms it does not know (a Milvus Lite path like ./x.db, or host:port without a
# scheme). asyncload accepts those forms, so hide the variable from pymilvus while importing.
_milvus_uri = os.environ.pop("MILVUS_URI", None)
try:
    from pymilvus.grpc_gen import common_pb2, milvus_pb2, milvus_pb2_grpc, schema_pb2
finally:
    if _milvus_uri is not None:
        os.environ["MILVUS_URI"] = _milvus_uri

__all__ = ["common_pb2", "milvus_pb2", "milvus_pb2_grpc", "schema_pb2"]
