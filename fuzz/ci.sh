#!/usr/bin/env bash
# Short fuzzing run of every target (reliability campaign 5), for CI and by
# hand. Each target starts from its committed seed corpus (corpus/<target>)
# plus whatever a scratch corpus gathered, for FUZZ_SECONDS (default 25)
# seconds. Any crash, panic, timeout or out-of-memory fails the script and
# leaves the input in fuzz/artifacts/<target>/.
#
#   bash fuzz/ci.sh                 # every target
#   FUZZ_SECONDS=600 bash fuzz/ci.sh sql sstable
#
# Builds on the stable toolchain (RUSTC_BOOTSTRAP=1) without a sanitizer
# (-s none: the code is `unsafe`-free, libFuzzer's coverage and the Rust
# panics and overflow checks (-a) are the oracles). The build goes to
# FUZZ_TARGET_DIR (default ~/.cache/hive-fuzz-target) so that later runs on
# the same machine reuse it.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/hive-fuzz-target}"
seconds="${FUZZ_SECONDS:-25}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build -s none -a
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t" "artifacts/$t"
    echo "== fuzz $t for ${seconds}s"
    if ! cargo fuzz run -s none -a "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 2>"$scratch/$t.log"; then
        failed=$((failed + 1))
        echo "!! fuzz target $t failed; input under fuzz/artifacts/$t/" >&2
    else
        passed=$((passed + 1))
    fi
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)" "$scratch/$t.log" || true
    grep -E "^(==[0-9]+==|thread .* panicked|SUMMARY)" "$scratch/$t.log" | head -5 || true
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
