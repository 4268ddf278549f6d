"""How long client.footprint() takes, and how many RPCs, as the number of fields grows.

On Milvus Lite (always) and a Milvus 2.3.5 standalone (started here when the `milvus` package is
installed): collections with 4 and 64 fields, loaded (so the sample query runs) and not loaded.
The reference is pymilvus's MilvusClient.describe_collection on the same collection, measured in the
same run: the ratio says how many "describes" a whole footprint costs.

Run: python benchmarks/bench_footprint.py [--reps 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncload
from asyncload._servers.standalone import MilvusStandalone, standalone_available


def make_wide(uri: str, token: str | None, name: str, extra_fields: int, rows: int) -> None:
    """id, vec(32) with FLAT, then extra VARCHAR/JSON/INT fields round-robin; rows of known data."""
    from pymilvus import DataType, MilvusClient

    client = MilvusClient(uri=uri, token=token or "")
    schema = client.create_schema(enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=32)
    kinds = [(DataType.VARCHAR, {"max_length": 128}), (DataType.JSON, {}), (DataType.INT32, {})]
    for i in range(extra_fields):
        kind, params = kinds[i % 3]
        schema.add_field(f"f{i}", kind, **params)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)
    data = [
        {
            "id": r,
            "vec": [float(r % 7)] * 32,
            **{f"f{i}": (f"text {r}" if i % 3 == 0 else {"k": r} if i % 3 == 1 else r) for i in range(extra_fields)},
        }
        for r in range(rows)
    ]
    client.insert(name, data)
    client.flush(name)
    client.release_collection(name)
    client.close()


async def time_footprints(uri: str, token: str | None, name: str, reps: int, loaded: bool) -> tuple[float, int]:
    async with asyncload.connect(uri, token=token) as client:
        if loaded:
            await (await client.load_collection(name)).wait(timeout=120)
        else:
            await client.release_collection(name)
        before = sum(client.statistics().rpcs.values())
        durations = []
        for _ in range(reps):
            started = time.perf_counter()
            await client.footprint(name)
            durations.append(time.perf_counter() - started)
        rpcs = (sum(client.statistics().rpcs.values()) - before) // reps
    return statistics.median(durations), rpcs


def time_describe(uri: str, token: str | None, name: str, reps: int) -> float:
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri, token=token or "")
    durations = []
    for _ in range(reps):
        started = time.perf_counter()
        client.describe_collection(name)
        durations.append(time.perf_counter() - started)
    client.close()
    return statistics.median(durations)


def run(server: str, uri: str, token: str | None, reps: int) -> None:
    print(f"\n{server}")
    print(f"{'fields':>6} {'loaded':>6} {'footprint ms':>12} {'RPCs':>5} {'describe ms':>11} {'x describe':>10}")
    for extra in (2, 62):
        name = f"wide{extra + 2}"
        make_wide(uri, token, name, extra, rows=2_000)
        for loaded in (False, True):
            seconds, rpcs = anyio.run(time_footprints, uri, token, name, reps, loaded)
            describe = time_describe(uri, token, name, reps)
            print(
                f"{extra + 2:>6} {'yes' if loaded else 'no':>6} {seconds * 1000:>12.2f} {rpcs:>5} "
                f"{describe * 1000:>11.2f} {seconds / describe:>10.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        from milvus_lite.server_manager import server_manager_instance

        path = str(Path(tmp) / "bench.db")
        uri = server_manager_instance.start_and_get_uri(path)
        run("Milvus Lite (asyncload embedded; pymilvus on the same server)", uri, None, args.reps)
        server_manager_instance.release_server(path)
    reason = standalone_available()
    if reason:
        print(f"\nMilvus 2.3.5 standalone skipped: {reason}")
        return
    with MilvusStandalone() as standalone:
        run("Milvus 2.3.5 standalone", standalone.uri, None, args.reps)


if __name__ == "__main__":
    main()
