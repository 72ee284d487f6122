#!/usr/bin/env bash
# `npm test`: every test: Rust (host), Rust through wasm in Node, the package build, then the
# node --test suites (API, harness, CLI, packaging: Node ESM/CJS, CLI bin, workerd, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo test
wasm-pack test --node --mode no-install
node scripts/build.mjs
node --test tests/js/*.test.mjs
