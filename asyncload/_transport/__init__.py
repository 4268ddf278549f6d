"""Transports: how asyncload reaches Milvus (grpc.aio on asyncio, thread-bridged sync gRPC on trio)."""
