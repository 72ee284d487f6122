#!/usr/bin/env bash
# Runs one cargo-fuzz target at the lowest priority for SECONDS seconds, corpus and crashers
# kept outside the repo (only fuzz/seeds/ is committed). Usage: fuzz/run.sh TARGET SECONDS
set -euo pipefail
target=$1 seconds=${2:-600}
here=$(cd "$(dirname "$0")" && pwd)
work=${FUZZ_WORK:-/tmp/userexport-fuzz}
mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
cd "$here"
exec nice -n 19 cargo +nightly fuzz run -O "$target" "$work/corpus/$target" "seeds/$target" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/$target/"
