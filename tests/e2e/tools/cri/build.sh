#!/usr/bin/env bash
# Builds cri-client, the e2e tests' small CRI v1 client (see README.md here): generates the C++
# protobuf and gRPC code for cri.proto into a temporary directory and compiles OUTDIR/cri-client
# against the system's gRPC and protobuf (Debian 12: libgrpc++-dev, libprotobuf-dev,
# protobuf-compiler, protobuf-compiler-grpc).
# usage: build.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
plugin=$(command -v grpc_cpp_plugin) || {
  echo "build.sh: grpc_cpp_plugin not found (protobuf-compiler-grpc)" >&2
  exit 1
}
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT

protoc -I "$here" --cpp_out="$gen" --grpc_out="$gen" --plugin=protoc-gen-grpc="$plugin" \
  "$here/cri.proto"
mkdir -p "$out"
# shellcheck disable=SC2046  # pkg-config's flags must split into words
g++ -std=c++20 -O2 -I "$gen" -o "$out/cri-client" \
  "$here/cri_client.cpp" "$gen/cri.pb.cc" "$gen/cri.grpc.pb.cc" \
  $(pkg-config --cflags --libs grpc++ protobuf)
