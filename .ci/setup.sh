#!/usr/bin/env bash
# .ci/setup.sh: installs what the build and tests need, from Debian apt, crates.io and npm only
# (this machine cannot reach GitHub). Idempotent: each step runs only when its tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock, or the glue will not match the wasm.
WB_VERSION=$(awk '$0=="name = \"wasm-bindgen\""{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
WASM_PACK_VERSION=0.15.1

# Headless browser and its driver, for the Chromium tests (Playwright and wasm-bindgen-test).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WB_VERSION"; then
  # No --locked: its packaged lockfile pins a webpki-roots the registry no longer serves.
  cargo install -q wasm-bindgen-cli --version "$WB_VERSION"
fi
if ! wasm-pack --version 2>/dev/null | grep -qx "wasm-pack $WASM_PACK_VERSION"; then
  cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --locked
fi

# npm tooling pinned by package-lock.json; npm ci again only when the lockfile is newer than
# the install (npm rewrites node_modules/.package-lock.json on every install).
if ! [ node_modules/.package-lock.json -nt package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# The edge Worker's, the benchmark's and the bundler tests' own pinned tools (the auth0 SDK; the peer
# CSV libraries; Vite, webpack, esbuild and wrangler), kept out of the package's devDependencies.
for dir in edge bench tests/bundlers; do
  if ! [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

# The fuzz targets build with the nightly toolchain (present on these machines); CI builds them.
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal

# The declared rust-version (Cargo.toml), for the library check in scripts/test.sh.
MSRV=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
rustup toolchain list | grep -q "^$MSRV[.-]" || rustup toolchain install "$MSRV" --profile minimal
