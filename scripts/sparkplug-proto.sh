#!/usr/bin/env bash
# Regenerates the Sparkplug B protobuf module (sparkplug_b_pb2.py and its .pyi stub) from
# src/hazwatch/connectors/sparkplug/sparkplug_b.proto. Needs the dev extra (grpcio-tools).
# Run it after editing the .proto and commit the generated files with it; the version of
# protobuf the generated code asks for is printed at the end (pyproject's floor must cover it).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
package=src/hazwatch/connectors/sparkplug
"$python" -m grpc_tools.protoc \
  --proto_path="$package" \
  --python_out="$package" \
  --pyi_out="$package" \
  "$package/sparkplug_b.proto"
# The generated module must load with the installed runtime and round-trip a payload; say
# which protobuf runtime it needs at least.
"$python" - "$package" <<'PY'
import re
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import sparkplug_b_pb2 as pb

payload = pb.Payload(seq=7)
payload.metrics.add(name="probe", datatype=pb.Double, double_value=1.5)
assert pb.Payload.FromString(payload.SerializeToString()) == payload
code = Path(sys.argv[1], "sparkplug_b_pb2.py").read_text()
found = re.search(r"ValidateProtobufRuntimeVersion\(\s*\S+,\s*(\d+),\s*(\d+),\s*(\d+)", code)
print(f"generated code needs protobuf >= {'.'.join(found.groups())}" if found else "no version check")
PY
