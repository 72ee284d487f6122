#!/usr/bin/env bash
# `npm test`: every test. Rust core (host), Rust through wasm in Node, the fuzz targets built and
# the benchmark smoke-run (so they cannot rot), the package build, then one node --test run over
# the JS suites: API, harness, CLI, packaging (Node ESM/CJS, bin, workerd, Chromium), the export
# page in Chromium, and the edge Worker in workerd. Its summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# On a fresh machine this installs what is missing; elsewhere it only checks (seconds).
bash .ci/setup.sh
cargo test --release
# The wasm suite alone (wasm-pack test would build every test target for wasm32, and the
# property tests need proptest, which is host-only).
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_ONLY_NODE=1 \
  cargo test --target wasm32-unknown-unknown --test wasm_node
cargo +nightly build --quiet --release --manifest-path fuzz/Cargo.toml
node scripts/build.mjs
node bench/run.mjs --smoke
node --test tests/js/*.test.mjs tests/www/*.test.mjs edge/test/*.test.mjs
