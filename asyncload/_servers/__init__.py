"""Milvus servers asyncload starts itself: ``embedded`` (Milvus Lite in this process, for ``.db`` paths)
and ``standalone`` (a throw-away Milvus 2.3.5 standalone process, for tests, benchmarks and the demo)."""
