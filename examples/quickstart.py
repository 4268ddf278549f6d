"""The Milvus docs' Load & Release workflow, in asyncload, on an embedded Milvus Lite.

Run: python examples/quickstart.py [--dir DIR] [--backend trio]
(nothing to install beyond asyncload; trio needs the extra: pip install "asyncload-milvus[trio]")
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import anyio
import numpy as np
import sniffio
from pymilvus import DataType, MilvusClient  # only to create sample data; asyncload does the loading

import asyncload

ROWS, DIM = 5_000, 64


def create_sample(path: str) -> None:
    """A 'books' collection: id, vec (FLAT index), title, score, and the dynamic field."""
    data = MilvusClient(path)
    if data.has_collection("books"):
        data.drop_collection("books")
    schema = data.create_schema(enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("title", DataType.VARCHAR, max_length=256)
    schema.add_field("score", DataType.FLOAT)
    index = data.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    data.create_collection("books", schema=schema, index_params=index)
    rng = np.random.default_rng(0)
    vectors = rng.random((ROWS, DIM), dtype=np.float32)
    rows = [
        {"id": i, "vec": vectors[i].tolist(), "title": f"book {i}", "score": float(i % 5), "genre": f"g{i % 7}"}
        for i in range(ROWS)
    ]
    data.insert("books", rows)
    data.release_collection("books")
    data.close()


async def main(directory: Path) -> None:
    path = str(directory / "quickstart.db")
    create_sample(path)
    async with asyncload.connect(path) as client:
        print("connected to", client.uri, "running on", sniffio.current_async_library())
        print("load state before:", await client.get_load_state("books"))

        footprint = await client.footprint("books", load_fields=["id", "vec"], skip_load_dynamic_field=True)
        print("\nestimated memory per field (selected = loaded by a partial load):")
        print(footprint[["dtype", "dim", "rows", "bytes", "selected"]].to_string())
        total, everything = footprint.attrs["total_selected"], footprint.attrs["total_all"]
        print(f"partial load: {total:,} B of {everything:,} B for every field\n")

        task = await client.load_collection("books", load_fields=["id", "vec"], skip_load_dynamic_field=True)
        async for snapshot in task.progress():
            print("progress:", snapshot)
        final = await task
        print("loaded:", final.percent, "%, state", await client.get_load_state("books"))
        print("loading_progress:", await client.loading_progress("books"))

        await task.release()
        print("released; state:", await client.get_load_state("books"))
        print("RPCs sent:", dict(client.statistics().rpcs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=None, help="where to keep the Milvus Lite database")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio", help="async library to run on")
    args = parser.parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        anyio.run(main, args.dir, backend=args.backend)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            anyio.run(main, Path(tmp), backend=args.backend)
