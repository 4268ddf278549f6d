"""Regenerate asyncload's own Milvus wire messages (asyncload/_transport/wire/*_pb2.py).

Why asyncload carries its own copy: importing ``pymilvus.grpc_gen`` runs pymilvus/__init__.py, which
imports pandas and the whole pymilvus client (~330 ms, most of ``import asyncload``'s old cost), just
to reach a few generated messages. On the wire only field numbers and method paths matter, so this
script copies the canonical descriptors shipped in pymilvus (the Milvus project's own .proto files),
keeps only the RPCs asyncload and its tests use plus every message they reach, and renames the
protobuf packages (``milvus.proto.*`` -> ``asyncload.wire.*``) so both sets live in one process
without clashing in protobuf's descriptor pool. The gRPC method paths stay Milvus's.

Run from a checkout with pymilvus installed (a dev tool, not a runtime dependency)::

    python scripts/generate_wire.py

Add an RPC to ``METHODS`` and rerun to use more of the service.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import version
from pathlib import Path

from google.protobuf import descriptor_pb2

os.environ.pop("MILVUS_URI", None)  # pymilvus/__init__ parses it at import time
from pymilvus.grpc_gen import milvus_pb2

#: The MilvusService RPCs asyncload (library, tests, benchmarks) sends.
METHODS = (
    "CheckHealth",
    "Connect",
    "CreateCollection",
    "CreateIndex",
    "CreatePartition",
    "DescribeCollection",
    "DescribeIndex",
    "DropCollection",
    "DropIndex",
    "DropPartition",
    "Flush",
    "GetCollectionStatistics",
    "GetComponentStates",
    "GetFlushState",
    "GetLoadState",
    "GetLoadingProgress",
    "GetMetrics",
    "GetPartitionStatistics",
    "GetPersistentSegmentInfo",
    "GetQuerySegmentInfo",
    "GetReplicas",
    "GetVersion",
    "HasCollection",
    "Insert",
    "LoadCollection",
    "LoadPartitions",
    "Query",
    "ReleaseCollection",
    "ReleasePartitions",
    "ShowCollections",
    "ShowPartitions",
)

SERVICE = "milvus.proto.milvus.MilvusService"
OLD_PREFIX, NEW_PREFIX = "milvus.proto.", "asyncload.wire."
OUT = Path(__file__).resolve().parent.parent / "asyncload" / "_transport" / "wire"
#: Canonical file name -> the module asyncload generates for it (files none of whose types are
#: reached are skipped).
FILES = {"common.proto": "common", "schema.proto": "schema", "msg.proto": "msg", "milvus.proto": "milvus"}


def _file_protos() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    protos: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    pending = [milvus_pb2.DESCRIPTOR]
    while pending:
        fd = pending.pop()
        if fd.name in protos:
            continue
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        protos[fd.name] = proto
        pending.extend(fd.dependencies)
    return protos


def _index(protos: dict[str, descriptor_pb2.FileDescriptorProto]) -> dict[str, tuple[str, object]]:
    """Fully qualified type name ('.milvus.proto.common.Status') -> (file name, message/enum proto)."""
    types: dict[str, tuple[str, object]] = {}

    def add_message(file: str, prefix: str, message: descriptor_pb2.DescriptorProto) -> None:
        name = f"{prefix}.{message.name}"
        types[name] = (file, message)
        for nested in message.nested_type:
            add_message(file, name, nested)
        for enum in message.enum_type:
            types[f"{name}.{enum.name}"] = (file, enum)

    for file, proto in protos.items():
        prefix = f".{proto.package}"
        for message in proto.message_type:
            add_message(file, prefix, message)
        for enum in proto.enum_type:
            types[f"{prefix}.{enum.name}"] = (file, enum)
    return types


def _top_level(
    name: str, types: dict[str, tuple[str, object]], protos: dict[str, descriptor_pb2.FileDescriptorProto]
) -> str:
    """The top-level type containing ``name`` (nested types travel with their parent)."""
    file, _ = types[name]
    package = f".{protos[file].package}"
    first = name[len(package) + 1 :].split(".")[0]
    return f"{package}.{first}"


def main() -> int:
    protos = _file_protos()
    types = _index(protos)
    service = next(s for s in protos["milvus.proto"].service if s.name == "MilvusService")
    methods = [m for m in service.method if m.name in METHODS]
    missing = set(METHODS) - {m.name for m in methods}
    if missing:
        print(f"not in pymilvus {version('pymilvus')}'s MilvusService: {sorted(missing)}", file=sys.stderr)
        return 1

    keep: set[str] = set()
    pending = [t for m in methods for t in (m.input_type, m.output_type)]
    while pending:
        top = _top_level(pending.pop(), types, protos)
        if top in keep:
            continue
        keep.add(top)
        _, node = types[top]
        stack = [node]
        while stack:  # every field type of this message and its nested messages
            current = stack.pop()
            if isinstance(current, descriptor_pb2.DescriptorProto):
                stack.extend(current.nested_type)
                pending.extend(f.type_name for f in current.field if f.type_name)

    OUT.mkdir(exist_ok=True)
    for file, module in FILES.items():
        source = protos[file]
        out = descriptor_pb2.FileDescriptorProto(
            name=f"asyncload/wire/{module}.proto",
            package=source.package.replace(OLD_PREFIX, NEW_PREFIX, 1),
            syntax=source.syntax or "proto3",
        )
        prefix = f".{source.package}"
        kept_messages = [m for m in source.message_type if f"{prefix}.{m.name}" in keep]
        kept_enums = [e for e in source.enum_type if f"{prefix}.{e.name}" in keep]
        if not kept_messages and not kept_enums:
            continue
        deps = sorted(
            {
                types[f.type_name][0]
                for m in kept_messages
                for f in _all_fields(m)
                if f.type_name and types[f.type_name][0] != file
            }
        )
        out.dependency.extend(f"asyncload/wire/{FILES[d]}.proto" for d in deps)
        for message in kept_messages:
            copy = out.message_type.add()
            copy.CopyFrom(message)
            _clean(copy)
        for enum in kept_enums:
            copy_enum = out.enum_type.add()
            copy_enum.CopyFrom(enum)
            copy_enum.ClearField("options")
            for value in copy_enum.value:
                value.ClearField("options")
        _write(module, out, [d for d in deps], methods if file == "milvus.proto" else [])
        print(f"{module}_pb2.py: {len(kept_messages)} messages, {len(kept_enums)} enums")
    return 0


def _all_fields(message: descriptor_pb2.DescriptorProto) -> list[descriptor_pb2.FieldDescriptorProto]:
    fields = list(message.field)
    for nested in message.nested_type:
        fields.extend(_all_fields(nested))
    return fields


def _clean(message: descriptor_pb2.DescriptorProto) -> None:
    """Rename type references and drop custom options (they need descriptor.proto); keep map entries."""
    map_entry = message.options.map_entry
    message.ClearField("options")
    if map_entry:
        message.options.map_entry = True
    for field in message.field:
        if field.type_name.startswith("." + OLD_PREFIX):
            field.type_name = "." + NEW_PREFIX + field.type_name[len(OLD_PREFIX) + 1 :]
        packed = field.options.packed if field.options.HasField("packed") else None
        field.ClearField("options")
        if packed is not None:
            field.options.packed = packed
    for nested in message.nested_type:
        _clean(nested)
    for enum in message.enum_type:
        enum.ClearField("options")


def _write(
    module: str,
    proto: descriptor_pb2.FileDescriptorProto,
    deps: list[str],
    methods: list[descriptor_pb2.MethodDescriptorProto],
) -> None:
    lines = [
        f'"""Milvus wire messages ({proto.package}), generated by scripts/generate_wire.py; do not edit.',
        "",
        f"Copied from the canonical descriptors in pymilvus {version('pymilvus')} (the Milvus project's .proto),",
        "trimmed to what asyncload sends, under a package of its own.",
        '"""',
        "",
        "# ruff: noqa",
        "# mypy: ignore-errors",
        "from google.protobuf import descriptor_pool as _descriptor_pool",
        "from google.protobuf.internal import builder as _builder",
        "",
    ]
    lines += [f"from . import {FILES[d]}_pb2 as _{FILES[d]}_pb2  # registers the dependency" for d in deps]
    lines += [
        "",
        f"DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile({proto.SerializeToString()!r})",
        "_builder.BuildMessageAndEnumDescriptors(DESCRIPTOR, globals())",
        f"_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'asyncload._transport.wire.{module}_pb2', globals())",
    ]
    if methods:
        lines += [
            "",
            f"SERVICE = {SERVICE!r}",
            "#: RPC name -> (request message, response message) of MilvusService.",
            "METHODS = {",
        ]
        for m in methods:
            lines.append(f"    {m.name!r}: ({_py_type(m.input_type)}, {_py_type(m.output_type)}),")
        lines.append("}")
    (OUT / f"{module}_pb2.py").write_text("\n".join(lines) + "\n")


def _py_type(name: str) -> str:
    package, _, rest = name[1:].removeprefix(OLD_PREFIX).partition(".")
    return rest if package == "milvus" else f"_{package}_pb2.{rest}"


if __name__ == "__main__":
    sys.exit(main())
