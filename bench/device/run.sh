#!/usr/bin/env bash
# The device run: giosg-gateway's audit trail under load, and its scaling against nginx, on a
# lent many-core machine that has nothing installed. Needs bash and coreutils only; every other
# program comes from the kit built by bench/device/make-kit.sh and is started through the kit's
# glibc loader. See bench/device/README.md.
#
#   OUT=/some/folder bash bench/device/run.sh build/device-kit
#
# It measures, each cell on a fresh gateway (or nginx), WARMUP s of load then DURATION s measured:
#   a) audit under load: audit.on_failure "deny", audit.fsync batch | never | always, the audit
#      file on disk and on tmpfs, 1 2 4 8 workers; per cell wrk's answers, non-2xx, the gateway's
#      own request count and audit metrics (/metrics over bash's /dev/tcp), the request records
#      in the audit files (rotated ones included), peak RSS, req/s, p99;
#   b) scaling: the gateway (fsync batch, disk) against nginx configured as the same gateway
#      (bench/device/nginx.conf.template, from bench/gen_peers.py), 1 2 4 8 workers.
# Results: $OUT/device-results.md, $OUT/cells.csv, $OUT/machine.txt, $OUT/raw/ (wrk outputs,
# metrics, logs' tails).
#
# Environment (defaults in brackets):
#   DURATION [4] WARMUP [1]      seconds per cell          WORKERS_LIST ["1 2 4 8"]
#   FSYNC_MODES ["batch never always"]   ALWAYS_WORKERS [$WORKERS_LIST]  worker counts for "always"
#   CONNS [256] WRK_THREADS [4] UPSTREAM_THREADS [4]       SCALING_PASSES [2]
#   BUDGET_S [420]  no cell starts when it could end after this many seconds of the run
#   STOP_WAIT_S [15] after SIGTERM, seconds before SIGKILL  TMPFS [1] (0: no tmpfs cells)
#   DISK_DIR []  folder for the on-disk audit files (default: first non-tmpfs of
#                bench/device/work, /var/tmp, /tmp)
set -uo pipefail   # no -e: a failing cell is written down and the run goes on

T0=$SECONDS
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT_ARG=${1:-build/device-kit}
case "$KIT_ARG" in /*) KIT=$KIT_ARG ;; *) KIT=$PWD/$KIT_ARG ;; esac
OUT=${OUT:-/tmp/device-out}

DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
WORKERS_LIST=${WORKERS_LIST:-"1 2 4 8"}
FSYNC_MODES=${FSYNC_MODES:-"batch never always"}
ALWAYS_WORKERS=${ALWAYS_WORKERS:-$WORKERS_LIST}
CONNS=${CONNS:-256}
WRK_THREADS=${WRK_THREADS:-4}
UPSTREAM_THREADS=${UPSTREAM_THREADS:-4}
SCALING_PASSES=${SCALING_PASSES:-2}
BUDGET_S=${BUDGET_S:-420}
STOP_WAIT_S=${STOP_WAIT_S:-15}
TMPFS=${TMPFS:-1}
CATALOGUE="$ROOT/policies/giosg-v5-endpoints.json"
TEMPLATE="$ROOT/bench/device/nginx.conf.template"
REPORT_LUA="$ROOT/bench/wrk/report.lua"
ORG=7f9e9580-095b-42c7-838c-c04e667b26f7
BENCH_PATH="/api/v5/orgs/$ORG/users"   # GET needs no scope; in the catalogue

mkdir -p "$OUT/raw" || { echo "cannot create OUT=$OUT" >&2; exit 1; }
LOG_FILE="$OUT/run.log"
log() { printf '[device %4ds] %s\n' "$((SECONDS - T0))" "$*" | tee -a "$LOG_FILE" >&2; }
die() { log "error: $*"; exit 1; }

LD="$KIT/lib/ld-linux-x86-64.so.2"
[ -x "$LD" ] || die "no loader at $LD (build the kit with bench/device/make-kit.sh)"
RUN=("$LD" --library-path "$KIT/lib")
for b in giosg-gateway bench-fixed-upstream wrk nginx; do
    [ -f "$KIT/bin/$b" ] || die "kit has no bin/$b"
done
have() { command -v "$1" >/dev/null 2>&1; }
bounded() {  # bounded SECONDS COMMAND...: COMMAND, killed after SECONDS when coreutils' timeout exists
    local s=$1
    shift
    if have timeout; then timeout "$s" "$@"; else "$@"; fi
}
GREP=()
if [ -f "$KIT/bin/grep" ]; then GREP=("${RUN[@]}" "$KIT/bin/grep"); elif have grep; then GREP=(grep); fi

# ---------------------------------------------------------------------------------------------
# Processes: every one started here is recorded and stopped on exit, by pid.
PIDS=()
cleanup() {
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
    [ -n "${DISK_WORK:-}" ] && rm -rf "$DISK_WORK"
    [ -n "${TMPFS_WORK:-}" ] && rm -rf "$TMPFS_WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

forget_pid() {
    local keep=() p
    for p in ${PIDS[@]+"${PIDS[@]}"}; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=(${keep[@]+"${keep[@]}"})
}

STOP_S=0; STOP_KILLED=0
stop_pid() {  # stop_pid PID: TERM, up to STOP_WAIT_S for it to end, then KILL; sets STOP_S, STOP_KILLED
    local pid=$1 t0=$SECONDS i
    STOP_KILLED=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_WAIT_S * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        STOP_KILLED=1
    fi
    wait "$pid" 2>/dev/null || true
    STOP_S=$((SECONDS - t0))
    forget_pid "$pid"
}

# ---------------------------------------------------------------------------------------------
# Ports, HTTP and /proc without curl, python or procps.
NEXT_PORT=$((20000 + $$ % 20000))
PORT=""
pick_port() {  # sets PORT to a port nobody answers on
    while :; do
        NEXT_PORT=$((NEXT_PORT + 1))
        [ "$NEXT_PORT" -gt 60000 ] && NEXT_PORT=20001
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$NEXT_PORT") 2>/dev/null; then
            PORT=$NEXT_PORT
            return 0
        fi
    done
}

wait_port() {  # wait_port PORT PID: until PORT accepts a connection (10 s) while PID lives
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

http_get() {  # http_get PORT PATH [HEADER LINE] [METHOD]: the raw response on stdout
    local fd
    exec {fd}<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null || return 1
    printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n' "${4:-GET}" "$2" \
        "${3:+$3$'\r\n'}" >&"$fd"
    bounded 5 cat <&"$fd"
    exec {fd}<&-
}

status_of() {  # status_of RESPONSE: the status code of its first line
    local first=${1%%$'\r'*}
    first=${first#* }
    echo "${first%% *}"
}

CLK_TCK=100
have getconf && CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

children_of() {  # children_of PID: the pids whose parent is PID (nginx's workers)
    local f s rest
    for f in /proc/[0-9]*/stat; do
        read -r s <"$f" 2>/dev/null || continue
        rest=${s##*) }
        rest=${rest#* }
        [ "${rest%% *}" = "$1" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
    done
}

proc_ticks() {  # proc_ticks PID [CHILDREN...]: user + system clock ticks, summed
    local total=0 p s f
    for p in "$@"; do
        read -r s <"/proc/$p/stat" 2>/dev/null || continue
        s=${s##*) }
        read -r -a f <<<"$s"
        total=$((total + f[11] + f[12]))
    done
    echo "$total"
}

proc_kib() {  # proc_kib FIELD PID [CHILDREN...]: VmHWM / VmRSS in KiB, summed
    local field=$1 total=0 p k v u
    shift
    for p in "$@"; do
        [ -r "/proc/$p/status" ] || continue
        while read -r k v u; do
            [ "$k" = "$field:" ] && { total=$((total + v)); break; }
        done <"/proc/$p/status"
    done
    echo "$total"
}

fs_type() {  # fs_type DIR: file system type, as stat -f names it
    stat -f -c %T "$1" 2>/dev/null || echo unknown
}

# ---------------------------------------------------------------------------------------------
# CPUs: the gateway (or nginx) on the first W allowed CPUs, the upstream on 4 and wrk on 4 of
# the last 8, when there are max(W) + 8; else the upstream and wrk share what is left; else
# nothing is pinned.
expand_cpus() {  # "0-3,8,10-11" -> "0 1 2 3 8 10 11"
    local part a b out=() IFS=,
    for part in $1; do
        if [[ "$part" == *-* ]]; then
            a=${part%-*}; b=${part#*-}
            for ((; a <= b; a++)); do out+=("$a"); done
        else
            out+=("$part")
        fi
    done
    printf '%s ' "${out[@]}"
}
join_cpus() { local IFS=,; echo "$*"; }

ALLOWED=""
while read -r k v; do [ "$k" = "Cpus_allowed_list:" ] && ALLOWED=$v; done </proc/self/status
read -r -a CPUS <<<"$(expand_cpus "${ALLOWED:-0}")"
NCPU=${#CPUS[@]}
MAXW=0
for w in $WORKERS_LIST; do [ "$w" -gt "$MAXW" ] && MAXW=$w; done
PIN=1
UP_CPUS=""; LOAD_CPUS=""
[ -f "$KIT/bin/taskset" ] &&
    "${RUN[@]}" "$KIT/bin/taskset" -c "${CPUS[0]}" "${RUN[@]}" "$KIT/bin/giosg-gateway" --version >/dev/null 2>&1 ||
    PIN=0
if [ "$PIN" = 1 ] && [ "$NCPU" -ge $((MAXW + 8)) ]; then
    UP_CPUS=$(join_cpus "${CPUS[@]:NCPU-8:4}")
    LOAD_CPUS=$(join_cpus "${CPUS[@]:NCPU-4:4}")
elif [ "$PIN" = 1 ] && [ "$NCPU" -ge $((MAXW + 1)) ]; then
    UP_CPUS=$(join_cpus "${CPUS[@]:MAXW}")
    LOAD_CPUS=$UP_CPUS
else
    PIN=0
fi
pin() {  # pin CPULIST: sets PINNED, the command prefix that runs a kit program on CPULIST
    PINNED=("${RUN[@]}")
    [ "$PIN" = 1 ] && [ -n "$1" ] && PINNED=("${RUN[@]}" "$KIT/bin/taskset" -c "$1" "${RUN[@]}")
    return 0
}
gw_cpus() { [ "$PIN" = 1 ] && join_cpus "${CPUS[@]:0:$1}"; }

# ---------------------------------------------------------------------------------------------
# Where the audit files go.
pick_dirs() {
    local d t
    DISK_BASE=""
    if [ -n "${DISK_DIR:-}" ]; then
        DISK_BASE=$DISK_DIR
    else
        for d in "$ROOT/bench/device/work" /var/tmp /tmp; do
            mkdir -p "$d" 2>/dev/null && [ -w "$d" ] || continue
            t=$(fs_type "$d")
            case "$t" in tmpfs|ramfs) continue ;; esac
            DISK_BASE=$d
            break
        done
        [ -n "$DISK_BASE" ] || { DISK_BASE="$ROOT/bench/device/work"; mkdir -p "$DISK_BASE"; }
    fi
    DISK_WORK=$(mktemp -d "$DISK_BASE/giosg-device.XXXXXX") || die "cannot write in $DISK_BASE"
    DISK_FS=$(fs_type "$DISK_WORK")
    TMPFS_WORK=""; TMPFS_FS=""
    if [ "$TMPFS" = 1 ]; then
        for d in /dev/shm /run/shm /tmp /run; do
            [ -d "$d" ] && [ -w "$d" ] || continue
            t=$(fs_type "$d")
            [ "$t" = tmpfs ] || continue
            TMPFS_WORK=$(mktemp -d "$d/giosg-device.XXXXXX") || continue
            TMPFS_FS="tmpfs ($d)"
            break
        done
    fi
    WORK=$(mktemp -d "$DISK_WORK/run.XXXXXX")
}

# ---------------------------------------------------------------------------------------------
machine_info() {
    local model="" k v
    while IFS=: read -r k v; do
        [[ "$k" == "model name"* ]] && { model=${v# }; break; }
    done </proc/cpuinfo
    {
        echo "date=$(date -u +%FT%TZ)"
        echo "nproc=$(nproc 2>/dev/null || echo "?") (allowed CPUs: ${ALLOWED:-?}, $NCPU)"
        echo "cpu=${model:-unknown}"
        echo "kernel=$(uname -srm 2>/dev/null)"
        while read -r k v _; do
            case "$k" in MemTotal:|MemAvailable:) echo "${k%:}=$v KiB" ;; esac
        done </proc/meminfo
        echo "user=$(id -u 2>/dev/null || echo "?")"
        echo "fd_limit=$(ulimit -n)"
        echo "cgroup_cpu.max=$(cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo n/a)"
        echo "repo=$ROOT (file system $(fs_type "$ROOT"))"
        echo "audit_disk=$DISK_WORK (file system $DISK_FS)"
        echo "audit_tmpfs=${TMPFS_WORK:-none} (${TMPFS_FS:-no tmpfs found})"
        for d in /tmp /var/tmp /dev/shm; do [ -d "$d" ] && echo "fs $d=$(fs_type "$d")"; done
        echo "pinning=$([ "$PIN" = 1 ] && echo "gateway/nginx on CPUs $(join_cpus "${CPUS[@]:0:1}")..(W-1), upstream on $UP_CPUS, wrk on $LOAD_CPUS" || echo none)"
        echo "load=wrk -t$WRK_THREADS -c$CONNS, ${WARMUP} s warm-up + ${DURATION} s per cell; upstream threads $UPSTREAM_THREADS"
        echo "--- kit VERSIONS"
        cat "$KIT/VERSIONS" 2>/dev/null || echo "(none)"
        echo "--- df -T"
        df -T "$ROOT" "$DISK_WORK" ${TMPFS_WORK:+"$TMPFS_WORK"} /tmp 2>/dev/null || true
        echo "--- /proc/mounts"
        cat /proc/mounts 2>/dev/null || true
    } >"$OUT/machine.txt"
}

# ---------------------------------------------------------------------------------------------
# Keys and the upstream.
rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
KEY=$(rand_hex 24)
SERVER_TOKEN="bench-server-token-$(rand_hex 16)"
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
ulimit -n "$HARD" 2>/dev/null || true
FD_LIMIT=$(ulimit -n)
[ "$FD_LIMIT" = unlimited ] && FD_LIMIT=1048576
[ "$FD_LIMIT" -gt 1048576 ] && FD_LIMIT=1048576

KEY_HASH=$(printf '%s\n' "$KEY" | "${RUN[@]}" "$KIT/bin/giosg-gateway" hash-key) || die "giosg-gateway hash-key failed"

UPORT=""
start_upstream() {
    pick_port
    UPORT=$PORT
    pin "$UP_CPUS"
    "${PINNED[@]}" "$KIT/bin/bench-fixed-upstream" "$UPORT" --auth "Token $SERVER_TOKEN" \
        --threads "$UPSTREAM_THREADS" >/dev/null 2>"$WORK/upstream.log" &
    UPSTREAM_PID=$!
    PIDS+=("$UPSTREAM_PID")
    wait_port "$UPORT" "$UPSTREAM_PID" || die "the fixed upstream did not start: $(cat "$WORK/upstream.log")"
}

# ---------------------------------------------------------------------------------------------
# The gateway's config (as bench/run.sh writes it) plus audit.on_failure, when accepted.
ON_FAILURE_OK=1
gateway_config() {  # gateway_config FILE PORT ADMIN_PORT WORKERS AUDIT_PATH FSYNC
    local on_failure=""
    [ "$ON_FAILURE_OK" = 1 ] && on_failure=', "on_failure": "deny"'
    cat >"$1" <<EOF
{
  "listen": "127.0.0.1:$2",
  "admin_listen": "127.0.0.1:$3",
  "workers": $4,
  "upstream": { "url": "http://127.0.0.1:$UPORT", "connect_timeout_ms": 3000, "timeout_ms": 30000,
                "max_idle_connections": 1024 },
  "credentials": { "bench": { "token_env": "GIOSG_BENCH_TOKEN" } },
  "clients": {
    "bench": {
      "key_sha256": "$KEY_HASH",
      "credential": "bench",
      "scopes": ["settings", "users", "reports"],
      "organizations": ["*"]
    }
  },
  "policy": { "source": "file", "file": "$CATALOGUE", "refresh_s": 0 },
  "audit": { "path": "$5", "fsync": "$6"$on_failure },
  "limits": { "max_header_bytes": 16384, "max_body_bytes": 10485760,
              "header_timeout_ms": 10000, "idle_timeout_ms": 60000 }
}
EOF
}

probe_config() {
    local f="$WORK/probe.json" out
    gateway_config "$f" 1 2 1 "$WORK/probe-audit.jsonl" batch
    if out=$(GIOSG_BENCH_TOKEN=$SERVER_TOKEN "${RUN[@]}" "$KIT/bin/giosg-gateway" check --config "$f" 2>&1); then
        log "gateway config accepted (audit.on_failure \"deny\")"
    else
        ON_FAILURE_OK=0
        gateway_config "$f" 1 2 1 "$WORK/probe-audit.jsonl" batch
        out=$(GIOSG_BENCH_TOKEN=$SERVER_TOKEN "${RUN[@]}" "$KIT/bin/giosg-gateway" check --config "$f" 2>&1) ||
            die "the gateway config is invalid: $out"
        log "WARNING: this gateway refuses audit.on_failure; running with its default"
    fi
    printf '%s\n' "$out" >"$OUT/raw/gateway-check.txt"
}

# ---------------------------------------------------------------------------------------------
# wrk. Its report.lua prints one "BENCH requests=.. rps=.. p50_us=.. p99_us=.. p999_us=..
# non2xx=.. errors=.." line; B_* are set from it ("n/a" when wrk gave none).
B_requests=n/a; B_rps=n/a; B_p99_us=n/a; B_non2xx=n/a; B_errors=n/a; B_p50_us=n/a; B_p999_us=n/a
run_wrk() {  # run_wrk PORT SECONDS AUTH OUTFILE
    local line kv
    B_requests=n/a; B_rps=n/a; B_p99_us=n/a; B_non2xx=n/a; B_errors=n/a; B_p50_us=n/a; B_p999_us=n/a
    pin "$LOAD_CPUS"
    bounded $(($2 + 20)) "${PINNED[@]}" "$KIT/bin/wrk" -t"$WRK_THREADS" -c"$CONNS" \
        -d"$2s" --timeout 5s -s "$REPORT_LUA" -H "Authorization: $3" \
        "http://127.0.0.1:$1$BENCH_PATH" >"$4" 2>&1
    while read -r line; do
        [[ "$line" == BENCH\ * ]] || continue
        for kv in ${line#BENCH }; do
            case "${kv%%=*}" in
                requests|rps|p50_us|p99_us|p999_us|non2xx|errors) printf -v "B_${kv%%=*}" '%s' "${kv#*=}" ;;
            esac
        done
    done <"$4"
    B_rps=${B_rps%.*}
}

# /metrics: M_* set from the admin listener ("n/a" when a metric is missing).
fetch_metrics() {  # fetch_metrics ADMIN_PORT OUTFILE
    local line name base value
    M_requests=n/a; M_audit_unavailable=0; M_lines_written=n/a; M_failures=n/a; M_dropped=n/a
    M_fsyncs=n/a; M_healthy=n/a; M_rotations=n/a; M_overflow=n/a
    http_get "$1" /metrics >"$2" 2>/dev/null || { M_audit_unavailable=n/a; return 0; }
    while IFS= read -r line; do
        line=${line%$'\r'}
        case "$line" in ''|'#'*) continue ;; esac
        name=${line% *}; value=${line##* }
        base=${name%%\{*}
        value=${value%.0}
        [[ "$value" =~ ^[0-9]+$ ]] || continue
        case "$base" in
            giosg_gateway_requests_total)
                [ "$M_requests" = n/a ] && M_requests=0
                M_requests=$((M_requests + value))
                [[ "$name" == *'code="audit_unavailable"'* ]] && M_audit_unavailable=$((M_audit_unavailable + value)) ;;
            giosg_gateway_audit_lines_written_total) M_lines_written=$value ;;
            giosg_gateway_audit_failures_total) M_failures=$value ;;
            giosg_gateway_audit_dropped_total) M_dropped=$value ;;
            giosg_gateway_audit_fsyncs_total) M_fsyncs=$value ;;
            giosg_gateway_audit_healthy) M_healthy=$value ;;
            giosg_gateway_audit_rotations_total) M_rotations=$value ;;
            giosg_gateway_upstream_idle_overflow_total) M_overflow=$value ;;
        esac
    done <"$2"
}

# Request records in an audit trail (the active file and the rotated audit.jsonl.<seq>): lines
# without "kind" (rotation, checkpoint, gap and correction records have one).
count_records() {  # count_records AUDIT_PATH: sets A_records, A_lines, A_files, A_bytes
    local files=() f first kinds=0
    A_records=n/a; A_lines=n/a; A_files=0; A_bytes=0
    for f in "$1" "$1".[0-9]*; do [ -f "$f" ] && files+=("$f"); done
    A_files=${#files[@]}
    [ "$A_files" -gt 0 ] || return 0
    for f in "${files[@]}"; do A_bytes=$((A_bytes + $(stat -c %s "$f" 2>/dev/null || echo 0))); done
    A_lines=$(cat "${files[@]}" | wc -l)
    if [ ${#GREP[@]} -gt 0 ]; then
        kinds=$(cat "${files[@]}" | "${GREP[@]}" -c '"kind":"')
    else
        # without grep: only rotation records are expected here (no signing, no failures), each
        # the first line of a file
        for f in "${files[@]}"; do
            read -r first <"$f" || true
            [[ "$first" == *'"kind":"'* ]] && kinds=$((kinds + 1))
        done
    fi
    A_records=$((A_lines - kinds))
}

sub() {  # sub VALUE MINUS: VALUE - MINUS, or n/a
    [[ "$1" =~ ^-?[0-9]+$ && "$2" =~ ^-?[0-9]+$ ]] && echo $(($1 - $2)) || echo n/a
}
add() { [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]] && echo $(($1 + $2)) || echo n/a; }
ms() {  # ms MICROSECONDS -> "1.23"
    [[ "$1" =~ ^[0-9]+$ ]] || { echo n/a; return; }
    printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10))
}
cpu_us() {  # cpu_us TICKS REQUESTS -> µs of CPU per request, one decimal
    [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || { echo n/a; return; }
    local tenths=$(($1 * 10000000 / CLK_TCK / $2))
    printf '%d.%d' $((tenths / 10)) $((tenths % 10))
}
mib() { [[ "$1" =~ ^[0-9]+$ ]] && printf '%d.%d' $(($1 / 1024)) $((($1 % 1024) * 10 / 1024)) || echo n/a; }

# ---------------------------------------------------------------------------------------------
CELL=0
CSV="$OUT/cells.csv"
echo "cell,target,workers,fsync,audit_fs,warmup_requests,requests,rps,p50_us,p99_us,p999_us,non2xx,wrk_errors,gw_requests,gw_audit_unavailable,audit_records,audit_lines,audit_files,audit_bytes,records_minus_gw_requests,records_minus_wrk_answered,dropped,audit_failures,audit_healthy,fsyncs,rotations,upstream_idle_overflow,vmhwm_kib,cpu_us_per_req,stop_s,killed,note" >"$CSV"

time_left() {  # time_left: true when one more cell fits in BUDGET_S
    [ $((SECONDS - T0 + WARMUP + DURATION + 8)) -le "$BUDGET_S" ]
}

SKIPPED=()
gateway_cell() {  # gateway_cell WORKERS FSYNC disk|tmpfs
    local w=$1 fsync=$2 where=$3 base fsname id dir port admin audit pid ticks hwm warm note=""
    if [ "$where" = tmpfs ]; then base=$TMPFS_WORK; fsname=tmpfs; else base=$DISK_WORK; fsname="disk ($DISK_FS)"; fi
    [ -n "$base" ] || return 0
    CELL=$((CELL + 1))
    id=$(printf 'c%02d-gateway-w%d-%s-%s' "$CELL" "$w" "$fsync" "$where")
    if ! time_left; then SKIPPED+=("$id"); log "$id: skipped (time budget)"; return 0; fi
    dir="$WORK/$id"; mkdir -p "$dir" "$base/$id"
    audit="$base/$id/audit.jsonl"
    pick_port; port=$PORT; pick_port; admin=$PORT
    gateway_config "$dir/gateway.json" "$port" "$admin" "$w" "$audit" "$fsync"
    pin "$(gw_cpus "$w")"
    GIOSG_BENCH_TOKEN=$SERVER_TOKEN "${PINNED[@]}" "$KIT/bin/giosg-gateway" serve --config "$dir/gateway.json" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
    pid=$!
    PIDS+=("$pid")
    if ! wait_port "$port" "$pid" || ! wait_port "$admin" "$pid"; then
        log "$id: the gateway did not start"
        stop_pid "$pid"
        tail -n 40 "$dir/stderr.log" >"$OUT/raw/$id.stderr.txt" 2>/dev/null
        echo "$id,gateway,$w,$fsync,$fsname,,,,,,,,,,,,,,,,,,,,,,,,,,,did not start" >>"$CSV"
        rm -rf "${base:?}/$id"
        return 0
    fi
    warm=0
    if [ "$WARMUP" -gt 0 ]; then
        run_wrk "$port" "$WARMUP" "Bearer $KEY" "$OUT/raw/$id.warmup.txt"
        warm=$B_requests
    fi
    ticks=$(proc_ticks "$pid")
    run_wrk "$port" "$DURATION" "Bearer $KEY" "$OUT/raw/$id.wrk.txt"
    ticks=$(( $(proc_ticks "$pid") - ticks ))
    sleep 0.3   # requests cut off at wrk's end get their records and counts
    fetch_metrics "$admin" "$OUT/raw/$id.metrics.txt"
    hwm=$(proc_kib VmHWM "$pid")
    stop_pid "$pid"
    [ "$STOP_KILLED" = 1 ] && note="killed after ${STOP_WAIT_S}s: records may be lost"
    tail -n 40 "$dir/stderr.log" >"$OUT/raw/$id.stderr.txt" 2>/dev/null
    count_records "$audit"
    rm -rf "${base:?}/$id"
    local answered
    answered=$(add "$warm" "$B_requests")
    echo "$id,gateway,$w,$fsync,$fsname,$warm,$B_requests,$B_rps,$B_p50_us,$B_p99_us,$B_p999_us,$B_non2xx,$B_errors,$M_requests,$M_audit_unavailable,$A_records,$A_lines,$A_files,$A_bytes,$(sub "$A_records" "$M_requests"),$(sub "$A_records" "$answered"),$M_dropped,$M_failures,$M_healthy,$M_fsyncs,$M_rotations,$M_overflow,$hwm,$(cpu_us "$ticks" "$B_requests"),$STOP_S,$STOP_KILLED,$note" >>"$CSV"
    log "$id: $B_rps req/s, p99 $(ms "$B_p99_us") ms, non-2xx $B_non2xx, errors $B_errors; gateway counted $M_requests (audit_unavailable $M_audit_unavailable), audit records $A_records in $A_files file(s), dropped $M_dropped, failures $M_failures; VmHWM $(mib "$hwm") MiB; stop ${STOP_S}s${note:+; $note}"
}

nginx_cell() {  # nginx_cell WORKERS
    local w=$1 id dir port pid conf kids ticks hwm warm user="" reuse=""
    CELL=$((CELL + 1))
    id=$(printf 'c%02d-nginx-w%d' "$CELL" "$w")
    if ! time_left; then SKIPPED+=("$id"); log "$id: skipped (time budget)"; return 0; fi
    dir="$DISK_WORK/$id"; mkdir -p "$dir/tmp"
    pick_port; port=$PORT
    [ "$(id -u 2>/dev/null)" = 0 ] && user="user root;"
    [ "$w" -gt 1 ] && reuse=" reuseport"
    conf=$(<"$TEMPLATE")
    conf=${conf//@DIR@/$dir}; conf=${conf//@PORT@/$port}; conf=${conf//@UPORT@/$UPORT}
    conf=${conf//@KEY@/$KEY}; conf=${conf//@TOKEN@/$SERVER_TOKEN}; conf=${conf//@LOG@/$dir/access.jsonl}
    conf=${conf//@WORKERS@/$w}; conf=${conf//@REUSEPORT@/$reuse}; conf=${conf//@USER@/$user}
    conf=${conf//@FDLIMIT@/$FD_LIMIT}; conf=${conf//@WCONN@/$((FD_LIMIT > 1088 ? FD_LIMIT - 64 : 1024))}
    printf '%s\n' "$conf" >"$dir/nginx.conf"
    pin "$(gw_cpus "$w")"
    "${PINNED[@]}" "$KIT/bin/nginx" -p "$dir/" -e "$dir/nginx-early.log" -c "$dir/nginx.conf" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
    pid=$!
    PIDS+=("$pid")
    if ! wait_port "$port" "$pid"; then
        log "$id: nginx did not start"
        stop_pid "$pid"
        cat "$dir/stderr.log" "$dir/nginx-early.log" "$dir/nginx-error.log" 2>/dev/null | tail -n 40 >"$OUT/raw/$id.stderr.txt"
        echo "$id,nginx,$w,,disk ($DISK_FS),,,,,,,,,,,,,,,,,,,,,,,,,,,did not start" >>"$CSV"
        rm -rf "$dir"
        return 0
    fi
    warm=0
    if [ "$WARMUP" -gt 0 ]; then
        run_wrk "$port" "$WARMUP" "Bearer $KEY" "$OUT/raw/$id.warmup.txt"
        warm=$B_requests
    fi
    read -r -a kids <<<"$(children_of "$pid" | tr '\n' ' ')"
    ticks=$(proc_ticks "$pid" ${kids[@]+"${kids[@]}"})
    run_wrk "$port" "$DURATION" "Bearer $KEY" "$OUT/raw/$id.wrk.txt"
    ticks=$(( $(proc_ticks "$pid" ${kids[@]+"${kids[@]}"}) - ticks ))
    hwm=$(proc_kib VmHWM "$pid" ${kids[@]+"${kids[@]}"})
    stop_pid "$pid"
    cat "$dir/nginx-error.log" 2>/dev/null | tail -n 20 >"$OUT/raw/$id.stderr.txt"
    local lines
    lines=$(cat "$dir/access.jsonl" 2>/dev/null | wc -l)
    rm -rf "$dir"
    echo "$id,nginx,$w,,disk ($DISK_FS),$warm,$B_requests,$B_rps,$B_p50_us,$B_p99_us,$B_p999_us,$B_non2xx,$B_errors,,,$lines,$lines,1,,,$(sub "$lines" "$(add "$warm" "$B_requests")"),,,,,,,$hwm,$(cpu_us "$ticks" "$B_requests"),$STOP_S,$STOP_KILLED," >>"$CSV"
    log "$id: $B_rps req/s, p99 $(ms "$B_p99_us") ms, non-2xx $B_non2xx, errors $B_errors; access log lines $lines; VmHWM $(mib "$hwm") MiB"
}

direct_cell() {
    local id
    CELL=$((CELL + 1))
    id=$(printf 'c%02d-direct' "$CELL")
    run_wrk "$UPORT" "$DURATION" "Token $SERVER_TOKEN" "$OUT/raw/$id.wrk.txt"
    echo "$id,direct,,,,,$B_requests,$B_rps,$B_p50_us,$B_p99_us,$B_p999_us,$B_non2xx,$B_errors,,,,,,,,,,,,,,,,,,," >>"$CSV"
    log "$id: wrk straight to the upstream (the ceiling of this setup): $B_rps req/s, p99 $(ms "$B_p99_us") ms, non-2xx $B_non2xx"
}

smoke() {  # one gateway and one nginx answer the bench's requests as expected
    local dir="$WORK/smoke" port admin pid r get del bad out="$OUT/raw/smoke.txt"
    mkdir -p "$dir"
    pick_port; port=$PORT; pick_port; admin=$PORT
    gateway_config "$dir/gateway.json" "$port" "$admin" 1 "$dir/audit.jsonl" batch
    GIOSG_BENCH_TOKEN=$SERVER_TOKEN "${RUN[@]}" "$KIT/bin/giosg-gateway" serve --config "$dir/gateway.json" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
    pid=$!
    PIDS+=("$pid")
    if wait_port "$port" "$pid"; then
        get=$(status_of "$(http_get "$port" "$BENCH_PATH" "Authorization: Bearer $KEY")")
        del=$(status_of "$(http_get "$port" "$BENCH_PATH" "Authorization: Bearer $KEY" DELETE)")
        bad=$(status_of "$(http_get "$port" "$BENCH_PATH" "Authorization: Bearer not-a-key")")
        r="gateway: GET $get (want 200), DELETE $del (want 405), bad key $bad (want 401)"
        http_get "$admin" /metrics >"$OUT/raw/smoke-metrics.txt" 2>/dev/null || true
    else
        r="gateway: did not start: $(tail -n 5 "$dir/stderr.log" | tr '\n' ' ')"
    fi
    stop_pid "$pid"
    count_records "$dir/audit.jsonl"
    r="$r; audit records $A_records"
    log "smoke $r"
    echo "$r" >"$out"
    [ "${get:-}" = 200 ] || die "the gateway does not answer the bench request with 200; see $OUT/raw/"
}

# ---------------------------------------------------------------------------------------------
pick_dirs
machine_info
log "kit $KIT; out $OUT; $NCPU CPUs; pinning $([ "$PIN" = 1 ] && echo "gateway 0..W-1, upstream $UP_CPUS, wrk $LOAD_CPUS" || echo none); audit on disk: $DISK_WORK ($DISK_FS); tmpfs: ${TMPFS_WORK:-none}; fd limit $FD_LIMIT; grep: $([ ${#GREP[@]} -gt 0 ] && echo yes || echo no)"
start_upstream
probe_config
smoke
direct_cell

# b) scaling pass 1 (its gateway cells are also a)'s batch/disk rows), then a)'s other cells,
# then more scaling passes while the time budget lasts.
for w in $WORKERS_LIST; do
    gateway_cell "$w" batch disk
    nginx_cell "$w"
done
for fsync in $FSYNC_MODES; do
    for where in disk tmpfs; do
        [ "$fsync" = batch ] && [ "$where" = disk ] && continue
        list=$WORKERS_LIST
        [ "$fsync" = always ] && list=$ALWAYS_WORKERS
        for w in $list; do gateway_cell "$w" "$fsync" "$where"; done
    done
done
for ((pass = 2; pass <= SCALING_PASSES; pass++)); do
    for w in $WORKERS_LIST; do
        nginx_cell "$w"
        gateway_cell "$w" batch disk
    done
done

stop_pid "$UPSTREAM_PID"
bash "$ROOT/bench/device/report.sh" "$CSV" "$OUT/machine.txt" "${SKIPPED[*]:-}" >"$OUT/device-results.md" ||
    log "WARNING: report.sh failed; the raw cells are in $CSV"
log "done in $((SECONDS - T0)) s: $OUT/device-results.md"
