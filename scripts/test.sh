#!/usr/bin/env bash
# `npm test`: every test: Rust (host), Rust through wasm in Node, the package build, then the
# node --test suites (API, harness, CLI, packaging: Node ESM/CJS, CLI bin, workerd, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo test
# The wasm suite alone (wasm-pack test would build every test target for wasm32, and the
# property tests need proptest, which is host-only).
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_ONLY_NODE=1 \
  cargo test --target wasm32-unknown-unknown --test wasm_node
node scripts/build.mjs
node --test tests/js/*.test.mjs
