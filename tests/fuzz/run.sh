#!/usr/bin/env bash
# Runs one libFuzzer target for a while, from a scratch corpus seeded with tests/fuzz/corpus.
#
#   tests/fuzz/run.sh TARGET MINUTES [libFuzzer flags...]
#
# TARGET is target, matcher, config, request or jwt. Builds build/fuzz (the "fuzz" CMake preset:
# clang, libFuzzer, ASan/UBSan) when needed. New inputs go to build/fuzz/corpus/TARGET, crashes
# to build/fuzz/artifacts/TARGET/. A crash worth keeping, once fixed, belongs in
# tests/fuzz/corpus/TARGET/crash-<what> so that the ctest fuzz_regression_TARGET replays it.
set -euo pipefail

usage() { echo "usage: $0 {target|matcher|config|request|jwt} MINUTES [libFuzzer flags...]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
target=$1
minutes=$2
shift 2
case "$target" in target|matcher|config|request|jwt) ;; *) usage ;; esac
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -gt 0 ]] || usage

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
build=build/fuzz

if [[ ! -f "$build/CMakeCache.txt" ]]; then
    cmake --preset fuzz
fi
cmake --build "$build" --target "${target}_fuzz" -j "$(nproc)"

corpus="$build/corpus/$target"
artifacts="$build/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
cp -n tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true

dict=()
[[ -f "tests/fuzz/$target.dict" ]] && dict=(-dict="tests/fuzz/$target.dict")

log="$build/fuzz-$target.log"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
"$build/tests/fuzz/${target}_fuzz" -max_total_time=$((minutes * 60)) -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict[@]}" "$@" "$corpus" 2>&1 | tee "$log" || status=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
echo "$target: ${execs:-?} execs (${rate:-?}/s) in $minutes min; corpus $(find "$corpus" -type f | wc -l) files; log $log"
exit "$status"
