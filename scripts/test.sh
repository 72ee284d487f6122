#!/usr/bin/env bash
# `npm test`: every test. Habits (ESLint; Rust fmt, clippy, docs, rust-version), the Rust core
# (host), Rust through wasm in Node, the fuzz targets built and the benchmark smoke-run (so they
# cannot rot), the package build, tsc over the harness and the CLI, then one node --test run over
# the JS suites: API, harness, CLI, packaging (Node ESM/CJS, bin, workerd, Chromium), types,
# bundlers (Vite, webpack, esbuild, wrangler), the export page in Chromium, and the edge Worker in
# workerd. Its summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# On a fresh machine this installs what is missing; elsewhere it only checks (seconds).
bash .ci/setup.sh
# Habits first (seconds each, so a slip fails fast): format, lints on both targets, docs, and
# the library at the declared rust-version (only the library: dev-dependencies such as
# proptest need a newer compiler, and a user of the crate builds only the library).
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --lib -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps
MSRV=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
cargo "+$MSRV" check --quiet --lib
# ESLint over every JS file (eslint.config.js).
node_modules/.bin/eslint .
cargo test --release
# The wasm suite alone (wasm-pack test would build every test target for wasm32, and the
# property tests need proptest, which is host-only).
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_ONLY_NODE=1 \
  cargo test --target wasm32-unknown-unknown --test wasm_node
# The byte scans' simd128 blocks against byte loops, in Node (the host runs the word-at-a-time form).
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_ONLY_NODE=1 \
  cargo test --target wasm32-unknown-unknown --lib bytes::
cargo +nightly build --quiet --release --manifest-path fuzz/Cargo.toml
node scripts/build.mjs
# The harness and the CLI type-checked as JavaScript against the built package's types (jsconfig.json).
node_modules/.bin/tsc --noEmit -p jsconfig.json
node bench/run.mjs --smoke
# Issue 16's one-run table at 2k users (native, Node, the CLI on 1 and every thread, the page's
# worker in Chromium, the edge in workerd): every row still runs and writes the same bytes.
node bench/runtimes.mjs --smoke
node --test tests/js/*.test.mjs tests/bundlers/*.test.mjs tests/www/*.test.mjs edge/test/*.test.mjs
