#!/usr/bin/env bash
# `npm test`: every test. ESLint, the Rust core (host), Rust through wasm in Node, the fuzz targets
# built and the benchmark smoke-run (so they cannot rot), the package build, tsc over the harness and
# the CLI, then one node --test run over the JS suites: API, harness, CLI, packaging (Node ESM/CJS,
# bin, workerd, Chromium), types, bundlers (Vite, webpack, esbuild, wrangler), the export page in Chromium, and the edge Worker in workerd. Its
# summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# On a fresh machine this installs what is missing; elsewhere it only checks (seconds).
bash .ci/setup.sh
# JS habits first, as they fail fast: ESLint over every JS file (eslint.config.js).
node_modules/.bin/eslint .
cargo test --release
# The wasm suite alone (wasm-pack test would build every test target for wasm32, and the
# property tests need proptest, which is host-only).
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_ONLY_NODE=1 \
  cargo test --target wasm32-unknown-unknown --test wasm_node
cargo +nightly build --quiet --release --manifest-path fuzz/Cargo.toml
node scripts/build.mjs
# The harness and the CLI type-checked as JavaScript against the built package's types (jsconfig.json).
node_modules/.bin/tsc --noEmit -p jsconfig.json
node bench/run.mjs --smoke
node --test tests/js/*.test.mjs tests/bundlers/*.test.mjs tests/www/*.test.mjs edge/test/*.test.mjs
