"""The one place that imports Milvus's generated protobuf and gRPC modules.

Every other module asks here for messages and stubs; nothing above the transport sees them.
"""

from __future__ import annotations

from pymilvus.grpc_gen import common_pb2, milvus_pb2, milvus_pb2_grpc, schema_pb2

__all__ = ["common_pb2", "milvus_pb2", "milvus_pb2_grpc", "schema_pb2"]
