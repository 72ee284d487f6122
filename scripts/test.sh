#!/usr/bin/env bash
# `npm test`: every test. Rust habits (fmt, clippy, docs, rust-version), Rust core (host), Rust through wasm in Node, the fuzz targets built and
# the benchmark smoke-run (so they cannot rot), the package build, then one node --test run over
# the JS suites: API, harness, CLI, packaging (Node ESM/CJS, bin, workerd, Chromium), the export
# page in Chromium, and the edge Worker in workerd. Its summary is the last thing printed.
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
cargo test --release
# The wasm suite alone (wasm-pack test would build every test target for wasm32, and the
# property tests need proptest, which is host-only).
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_ONLY_NODE=1 \
  cargo test --target wasm32-unknown-unknown --test wasm_node
cargo +nightly build --quiet --release --manifest-path fuzz/Cargo.toml
node scripts/build.mjs
node bench/run.mjs --smoke
node --test tests/js/*.test.mjs tests/www/*.test.mjs edge/test/*.test.mjs
