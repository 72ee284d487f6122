#!/usr/bin/env bash
# Instructions per input byte, native core and npm package side by side, counted by cachegrind: unlike
# times on a shared machine they do not move between runs (bench/README.md, "Profiles").
#
# Usage: bash bench/instructions.sh [PKG_NODE_JS ...]   (default: pkg/node.js)
# Counts users-2k and users-10k (target/bench-data)
# (`cargo bench --bench throughput -- --generate --sizes 2k,10k` writes them) and divides the
# difference by the difference in bytes, so start-up and compilation cancel out.
# V8 runs with TurboFan only (--no-liftoff --no-wasm-dynamic-tiering) so tier-up does not move the count.
set -euo pipefail
cd "$(dirname "$0")"
data="${CARGO_TARGET_DIR:-../target}/bench-data"
pkgs=("$@")
[ ${#pkgs[@]} -eq 0 ] && pkgs=("$PWD/../pkg/node.js")
exe=$(cargo bench --quiet --bench throughput --no-run --message-format=json 2>/dev/null \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.split("\n").filter(Boolean)){const m=JSON.parse(l);if(m.reason==="compiler-artifact"&&m.target.name==="throughput"&&m.executable)console.log(m.executable)}})')
refs() { valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*I *refs: *//p' | tr -d ,; }
bytes() { stat -c %s "$data/users-$1.ndjson"; }
per_byte() { echo "scale=2; ($2 - $1) / ($(bytes 10k) - $(bytes 2k))" | bc; }
for format in csv ndjson; do
  only=$([ "$format" = ndjson ] && echo json || echo csv)
  a=$(refs "$exe" --profile --sizes 2k --only "$only" --runs 1)
  b=$(refs "$exe" --profile --sizes 10k --only "$only" --runs 1)
  echo "$format native: $(per_byte "$a" "$b") instructions/byte"
  for pkg in "${pkgs[@]}"; do
    a=$(USEREXPORT_PKG="$pkg" refs node --no-liftoff --no-wasm-dynamic-tiering worker.mjs userexport-memory "$format" "$data/users-2k.ndjson")
    b=$(USEREXPORT_PKG="$pkg" refs node --no-liftoff --no-wasm-dynamic-tiering worker.mjs userexport-memory "$format" "$data/users-10k.ndjson")
    echo "$format $pkg: $(per_byte "$a" "$b") instructions/byte"
  done
done
