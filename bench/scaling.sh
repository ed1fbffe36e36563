#!/usr/bin/env bash
# Multi-core scaling: giosg-gateway against nginx (and, if asked, HAProxy) with the same number
# of workers, 1, 2, 4, 8 and 16 by default, each measured by one `bench/run.sh load` run.
# Meant for a machine with many cores (it says so and goes on where it has fewer than needed).
#
#   bench/scaling.sh
#
# Environment (defaults in brackets):
#   SCALE_WORKERS ["1 2 4 8 16"]   worker counts        SCALE_TARGETS ["gateway nginx"]
#   CONNS_PER_WORKER [64]          wrk connections per proxy worker
#   REPEAT [3], DURATION [4], WARMUP [1], BUILD [auto], BUILD_DIR, RESULTS_DIR: as for run.sh
#
# CPU plan for W workers on a machine of N CPUs: when W + 2 <= N the proxy gets CPUs 0..W-1,
# the fixed upstream a third of the rest (one thread per CPU) and wrk the remainder (one thread
# per CPU), so that neither the upstream nor the load generator limits the proxy. When the
# proxy needs every CPU (W = N) nothing is pinned: proxy, upstream and wrk share all CPUs, and
# the table says so; that row measures a saturated machine, not the proxy alone.
#
# nginx with more than one worker listens with `reuseport`, like the gateway's workers.
#
# Output: bench/results/<UTC date-time>-<host>-scaling.md and .csv (req/s, p99, speed-up over
# the first worker count, CPU µs per request, gateway ÷ nginx, the gateway's connections per
# worker in each run), and beside them each worker count's full load table.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCALE_WORKERS=${SCALE_WORKERS:-"1 2 4 8 16"}
SCALE_TARGETS=${SCALE_TARGETS:-"gateway nginx"}
CONNS_PER_WORKER=${CONNS_PER_WORKER:-64}
RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench/results}
export REPEAT=${REPEAT:-3} DURATION=${DURATION:-4} WARMUP=${WARMUP:-1} BUILD=${BUILD:-auto}
[ -n "${BUILD_DIR:-}" ] && export BUILD_DIR

log() { printf '[scaling] %s\n' "$*" >&2; }
die() { printf '[scaling] error: %s\n' "$*" >&2; exit 1; }

CPUS=$(nproc)
for w in $SCALE_WORKERS; do
    [[ "$w" =~ ^[1-9][0-9]*$ ]] || die "SCALE_WORKERS: '$w' is not a positive number"
    [ "$w" -le "$CPUS" ] || log "WARNING: $w workers on $CPUS CPUs: workers will share CPUs"
done
[ "$CPUS" -ge 4 ] || log "WARNING: $CPUS CPUs; scaling figures need a machine with many more"

RUN_DIR=$(mktemp -d /tmp/giosg-scaling.XXXXXX)
trap 'rm -rf "$RUN_DIR"' EXIT

range() {  # range FIRST COUNT -> "FIRST-LAST" (taskset -c syntax)
    if [ "$2" -eq 1 ]; then echo "$1"; else echo "$1-$(($1 + $2 - 1))"; fi
}

for w in $SCALE_WORKERS; do
    if [ $((w + 2)) -le "$CPUS" ]; then
        rest=$((CPUS - w))
        up=$((rest / 3)); [ "$up" -ge 1 ] || up=1
        load=$((rest - up))
        proxy_cpus=$(range 0 "$w"); upstream_cpus=$(range "$w" "$up"); load_cpus=$(range $((w + up)) "$load")
    else
        up=$((CPUS / 4)); [ "$up" -ge 1 ] || up=1
        load=$up
        proxy_cpus=""; upstream_cpus=""; load_cpus=""
    fi
    conns=$((w * CONNS_PER_WORKER))
    [ "$load" -le "$conns" ] || load=$conns
    log "$w worker(s): $conns connections; proxy CPUs ${proxy_cpus:-all}, upstream ${upstream_cpus:-all} ($up thread(s)), wrk ${load_cpus:-all} ($load thread(s))"
    WORKERS=$w UPSTREAM_THREADS=$up WRK_THREADS=$load CONNS=$conns MIXES=allowed TARGETS="$SCALE_TARGETS" \
        PROXY_CPUS=$proxy_cpus UPSTREAM_CPUS=$upstream_cpus LOAD_CPUS=$load_cpus \
        RESULTS_DIR="$RUN_DIR/w$w" "$ROOT/bench/run.sh" load >/dev/null
    BUILD=0  # built once is enough
done

stamp=$(date -u +%Y-%m-%d-%H%M%S)
prefix="$RESULTS_DIR/$stamp-$(hostname -s)"
mkdir -p "$RESULTS_DIR"
{
    echo "date=$(date -u +%FT%TZ)"
    echo "host=$(hostname -s), $CPUS CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "kernel=$(uname -r)"
    echo "commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo ' (working tree has changes)' || true)"
    echo "workers=$SCALE_WORKERS; $CONNS_PER_WORKER connections per worker; $REPEAT runs of ${DURATION}s per cell"
} >"$RUN_DIR/meta.txt"
python3 "$ROOT/bench/report.py" scaling "$RUN_DIR" "$RUN_DIR/meta.txt" "$prefix"
for w in $SCALE_WORKERS; do
    for f in "$RUN_DIR/w$w"/*; do
        case "$f" in
            *-runs.csv) suffix=-runs.csv ;;
            *.csv) suffix=.csv ;;
            *.md) suffix=.md ;;
            *) continue ;;
        esac
        cp "$f" "$prefix-w$w$suffix"
    done
done
log "written: $prefix-scaling.md, $prefix-scaling.csv and each width's tables, $prefix-w<N>.md"
