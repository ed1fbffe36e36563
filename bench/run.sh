#!/usr/bin/env bash
# Load harness: giosg-gateway against nginx and HAProxy configured as the same gateway, all in
# front of the same fixed-JSON upstream, under the same wrk load. See bench/README.md.
#
#   bench/run.sh [load]     req/s, p50/p99/p99.9 and peak RSS per target, conns and mix
#   bench/run.sh idle       RSS with IDLE_CONNS idle keep-alive client connections
#   bench/run.sh check      only the behaviour check of the three proxies
#   bench/run.sh profile    where the gateway's time goes: syscalls per request (strace -c -f)
#                           and a perf profile (software clock) during wrk runs of PROFILE_CONNS
#
# Environment (defaults in brackets):
#   DURATION [5]  seconds per measurement     WARMUP [1]  seconds of unmeasured load first
#   REPEAT [3]    runs per cell (medians)     CONNS ["1 64 512"]   MIXES ["allowed mixed"]
#   TARGETS ["direct gateway nginx haproxy"]  WRK_THREADS [1]
#                 also: nginx-lean, haproxy-lean (hand-written configs for only the bench's routes),
#                 also: gateway-tls, nginx-tls (TLS listeners with the same certificate, P-256),
#                 gateway-jwt (the client calls with an RS256 JWT, verified once, then cached),
#                 gateway-uring (the gateway built with Asio's io_uring backend, GIOSG_IO_URING=ON,
#                 in URING_BUILD_DIR [build/release-uring]),
#                 gateway-limits / gateway-redis (rate limits and an in-flight cap configured for
#                 the client and its credential, far above the load so never hit; local store, or
#                 a redis-server the harness starts)
#   WORKERS [1]   proxy workers (gateway `workers`, nginx worker_processes, HAProxy nbthread)
#   UPSTREAM [fixed]       fixed: bench-fixed-upstream; nginx: nginx serving the same JSON
#                          (keepalive_requests 1000000; UPSTREAM_THREADS worker processes)
#   UPSTREAM_THREADS [1]   threads of the fixed upstream (bench/scaling.sh raises both)
#   UPSTREAM_IDLE [1024]   idle upstream connections kept per worker: the gateway's
#                          upstream.max_idle_connections, nginx keepalive, HAProxy pool-max-conn
#   AUDIT_FSYNC [batch]   audit.fsync of the gateway config, used when the gateway accepts it
#   AUDIT_PATH  []        audit.path for the gateway instead of a file in the work dir; /dev/null
#                         measures the gateway with records made (serialised, chained) but not stored
#   PAGE []       the upstream answers a giosg-style list page of PAGE teams (~180 B each: 10 ->
#                 ~2 KB, 1000 -> ~180 KB) instead of the fixed ~200-byte object; its next/previous
#                 are on the upstream's origin, so the gateway rewrites them (docs/reference.md §6)
#   PAGE_ORIGIN [] links on this origin instead (e.g. https://elsewhere.example: nothing rewritten)
#   PAGE_GZIP [0] 1: the page is sent gzip-encoded
#   PROFILE_CONNS [64]    profile mode: wrk connections (runs of DURATION seconds)
#   IDLE_CONNS [10000]    IDLE_TARGETS ["gateway nginx haproxy"]    IDLE_HOLD [3] seconds
#   PROXY_CPUS / UPSTREAM_CPUS / LOAD_CPUS   taskset CPU lists (default: see pin_plan)
#   BUILD [auto]  auto: build, fall back to existing binaries if the build fails; 0: never
#   BUILD_DIR [build/release]   RESULTS_DIR [bench/results]
#   KEEP_WORK []  non-empty: keep the work dir (configs, logs) at exit
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
MODE=${1:-load}

DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
REPEAT=${REPEAT:-3}
CONNS=${CONNS:-"1 64 512"}
MIXES=${MIXES:-"allowed mixed"}
TARGETS=${TARGETS:-"direct gateway nginx haproxy"}
WRK_THREADS=${WRK_THREADS:-1}
WORKERS=${WORKERS:-1}
UPSTREAM_THREADS=${UPSTREAM_THREADS:-1}
UPSTREAM=${UPSTREAM:-fixed}
UPSTREAM_IDLE=${UPSTREAM_IDLE:-1024}
AUDIT_FSYNC=${AUDIT_FSYNC:-batch}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_TARGETS=${IDLE_TARGETS:-"gateway nginx haproxy"}
IDLE_HOLD=${IDLE_HOLD:-3}
BUILD=${BUILD:-auto}
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
CATALOGUE="$ROOT/policies/giosg-v5-endpoints.json"

ORG=7f9e9580-095b-42c7-838c-c04e667b26f7
BENCH_PATH="/api/v5/orgs/$ORG/users"   # GET, HEAD, POST, OPTIONS; GET needs no scope

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

case "$MODE" in load|idle|check|profile) ;; *) die "unknown mode '$MODE' (load | idle | check | profile)";; esac
case "$UPSTREAM" in fixed|nginx) ;; *) die "unknown UPSTREAM '$UPSTREAM' (fixed | nginx)";; esac
[ "$UPSTREAM" = nginx ] && [ -n "${PAGE:-}" ] && die "PAGE needs UPSTREAM=fixed (the nginx upstream serves one object)"
[[ "$UPSTREAM" = fixed || "$UPSTREAM_THREADS" =~ ^[1-9][0-9]*$ ]] || die "UPSTREAM_THREADS must be a positive integer"
[[ "$UPSTREAM_IDLE" =~ ^[0-9]+$ ]] || die "UPSTREAM_IDLE must be a non-negative integer, not '$UPSTREAM_IDLE'"

# ---------------------------------------------------------------------------------------------
# Processes: everything started here is recorded and stopped on exit, whatever the exit.
WORK=$(mktemp -d /tmp/giosg-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 0.3
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

stop_pid() {  # stop_pid PID: TERM, wait up to 10 s, then KILL
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# ---------------------------------------------------------------------------------------------
# Tools: wrk, nginx (nginx-light), haproxy, python3 from Debian when missing.
install_missing() {
    local want=()
    command -v wrk >/dev/null || want+=(wrk)
    command -v nginx >/dev/null || want+=(nginx-light)
    command -v haproxy >/dev/null || want+=(haproxy)
    command -v python3 >/dev/null || want+=(python3)
    command -v curl >/dev/null || want+=(curl)
    command -v taskset >/dev/null || want+=(util-linux)
    case " $TARGETS " in *" gateway-uring "*) [ -e /usr/include/liburing.h ] || want+=(liburing-dev) ;; esac
    case " $TARGETS " in *" gateway-redis "*) command -v redis-server >/dev/null || want+=(redis-server) ;; esac
    [ ${#want[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    log "installing ${want[*]}"
    # Keep the packages' services from being started (nginx would take port 80): the same
    # policy-rc.d container images use, only for this install and only if none exists.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
        $sudo chmod +x "$policy"
        added_policy=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${want[@]}" >&2 ||
        { $sudo apt-get update >&2 &&
          DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${want[@]}" >&2; } ||
        rc=$?
    [ "$added_policy" -eq 1 ] && $sudo rm -f "$policy"
    [ "$rc" -eq 0 ] || die "apt-get install ${want[*]} failed"
}

GW="$BUILD_DIR/gateway/giosg-gateway"
UPSTREAM_BIN="$BUILD_DIR/bench/bench-fixed-upstream"
IDLE_BIN="$BUILD_DIR/bench/bench-idle-client"
URING_BUILD_DIR=${URING_BUILD_DIR:-$ROOT/build/release-uring}
GW_URING="$URING_BUILD_DIR/gateway/giosg-gateway"

# The io_uring gateway, only when a gateway-uring target is asked for: its own build directory,
# the gateway alone (the bench tools come from BUILD_DIR, so both gateways face the same upstream).
build_uring() {
    case " $TARGETS " in *" gateway-uring "*) ;; *) return 0 ;; esac
    if [ "$BUILD" != 0 ]; then
        log "building giosg-gateway with GIOSG_IO_URING=ON in $URING_BUILD_DIR"
        { cmake -S "$ROOT" -B "$URING_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DGIOSG_IO_URING=ON \
              -DGIOSG_BUILD_TESTS=OFF -DGIOSG_BUILD_BENCH=OFF >&2 &&
          cmake --build "$URING_BUILD_DIR" -j"$(nproc)" --target giosg-gateway >&2; } ||
            log "WARNING: the io_uring build failed"
    fi
    [ -x "$GW_URING" ] || die "no io_uring gateway in $URING_BUILD_DIR (needs liburing-dev)"
}

build() {
    build_uring
    [ "$BUILD" = 0 ] && return 0
    local ok=1
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        if [ "$BUILD_DIR" = "$ROOT/build/release" ]; then
            (cd "$ROOT" && cmake --preset release >&2) || ok=0
        else
            cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2 || ok=0
        fi
    fi
    if [ "$ok" = 1 ]; then
        log "building giosg-gateway (Release) and the bench tools in $BUILD_DIR"
        cmake --build "$BUILD_DIR" -j"$(nproc)" --target giosg-gateway bench-fixed-upstream bench-idle-client >&2 || ok=0
    fi
    if [ "$ok" = 0 ]; then
        [ -x "$GW" ] && [ -x "$UPSTREAM_BIN" ] && [ -x "$IDLE_BIN" ] || die "build failed and no binaries in $BUILD_DIR"
        log "WARNING: build failed; using the existing binaries in $BUILD_DIR (built $(date -u -r "$GW" +%FT%TZ))"
    fi
}

# ---------------------------------------------------------------------------------------------
# CPU pinning. 2-3 CPUs: the proxy alone on CPU 1, wrk and the upstream share CPU 0.
# 4 or more: proxy on 1, upstream on 2, wrk on 3 (CPU 0 left to the system).
pin_plan() {
    local n
    n=$(nproc)
    if [ "$n" -ge 4 ]; then
        PROXY_CPUS=${PROXY_CPUS-1}; UPSTREAM_CPUS=${UPSTREAM_CPUS-2}; LOAD_CPUS=${LOAD_CPUS-3}
    elif [ "$n" -ge 2 ]; then
        PROXY_CPUS=${PROXY_CPUS-1}; UPSTREAM_CPUS=${UPSTREAM_CPUS-0}; LOAD_CPUS=${LOAD_CPUS-0}
    else
        PROXY_CPUS=${PROXY_CPUS-}; UPSTREAM_CPUS=${UPSTREAM_CPUS-}; LOAD_CPUS=${LOAD_CPUS-}
    fi
}
# Command prefixes (arrays, not a function: a backgrounded function would be a subshell, and $!
# would then be that subshell's pid instead of the process to measure and stop).
pin_prefixes() {
    PIN_PROXY=(); PIN_UPSTREAM=(); PIN_LOAD=()
    [ -n "$PROXY_CPUS" ] && PIN_PROXY=(taskset -c "$PROXY_CPUS")
    [ -n "$UPSTREAM_CPUS" ] && PIN_UPSTREAM=(taskset -c "$UPSTREAM_CPUS")
    [ -n "$LOAD_CPUS" ] && PIN_LOAD=(taskset -c "$LOAD_CPUS")
    return 0
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() {  # wait_http PORT PID [SCHEME]: until something answers HTTP(S) on PORT (10 s)
    local port=$1 pid=$2 scheme=${3:-http} i code
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$scheme://127.0.0.1:$port/" || true)
        [ "$code" != "000" ] && [ -n "$code" ] && return 0
        sleep 0.1
    done
    return 1
}

proc_ticks() {  # proc_ticks PID: user + system CPU clock ticks of PID and its children (nginx: workers)
    local pid=$1 total=0 p v
    for p in "$pid" $(pgrep -P "$pid" || true); do
        # Fields 14 and 15 of /proc/PID/stat; the command name (field 2) may hold spaces, so
        # count from the closing parenthesis.
        v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }' || true)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

proc_kib() {  # proc_kib PID FIELD: FIELD (VmRSS, VmHWM) summed over PID and its children, KiB
    local pid=$1 field=$2 total=0 p v
    for p in "$pid" $(pgrep -P "$pid" || true); do
        v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# ---------------------------------------------------------------------------------------------
# The shared setup: keys, ports, upstream, configs.
KEY=$(openssl rand -hex 24)
SERVER_TOKEN="bench-server-token-$(openssl rand -hex 16)"
IDLE_TIMEOUT_S=60
[ "$MODE" = idle ] && IDLE_TIMEOUT_S=900

raise_fd_limit() {
    local hard
    hard=$(ulimit -Hn)
    [ "$hard" = unlimited ] && hard=1048576
    ulimit -n "$hard" 2>/dev/null || true
    FD_LIMIT=$(ulimit -n)
    [ "$FD_LIMIT" = unlimited ] && FD_LIMIT=1048576
    # Try for more than the hard limit (works as root with CAP_SYS_RESOURCE).
    if [ "$FD_LIMIT" -lt 65536 ]; then
        ulimit -Hn 65536 2>/dev/null && ulimit -n 65536 2>/dev/null && FD_LIMIT=65536 || true
    fi
}

UPORT=""
start_upstream() {
    UPORT=$(free_port)
    if [ "$UPSTREAM" = nginx ]; then
        local dir="$WORK/upstream-nginx"
        python3 "$BENCH/gen_peers.py" nginx-upstream --dir "$dir" --port "$UPORT" --token "$SERVER_TOKEN" \
            --idle-timeout-s "$IDLE_TIMEOUT_S" --fd-limit "$FD_LIMIT" --workers "$UPSTREAM_THREADS" >/dev/null
        ${PIN_UPSTREAM[@]+"${PIN_UPSTREAM[@]}"} nginx -p "$dir" -c "$dir/nginx.conf" >/dev/null 2>"$WORK/upstream.log" &
        UPSTREAM_PID=$!
        PIDS+=("$UPSTREAM_PID")
        wait_http "$UPORT" "$UPSTREAM_PID" || die "the nginx upstream did not start: $(cat "$WORK/upstream.log" "$dir/nginx-error.log" 2>/dev/null)"
        return 0
    fi
    local page=()
    [ -n "${PAGE:-}" ] && page=(--page "$PAGE" --gzip "${PAGE_GZIP:-0}")
    [ -n "${PAGE:-}" ] && [ -n "${PAGE_ORIGIN:-}" ] && page+=(--page-origin "$PAGE_ORIGIN")
    ${PIN_UPSTREAM[@]+"${PIN_UPSTREAM[@]}"} "$UPSTREAM_BIN" "$UPORT" --auth "Token $SERVER_TOKEN" \
        --threads "$UPSTREAM_THREADS" ${page[@]+"${page[@]}"} >/dev/null 2>"$WORK/upstream.log" &
    UPSTREAM_PID=$!
    PIDS+=("$UPSTREAM_PID")
    wait_http "$UPORT" "$UPSTREAM_PID" || die "the fixed upstream did not start: $(cat "$WORK/upstream.log")"
}

# The gateway-redis target's rate store: a redis-server on a free port (no persistence), started
# once per run beside the upstream, on its CPUs.
REDIS_PORT=""
bench_redis() {
    [ -n "$REDIS_PORT" ] && return 0
    REDIS_PORT=$(free_port)
    ${PIN_UPSTREAM[@]+"${PIN_UPSTREAM[@]}"} redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
        --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 &
    PIDS+=("$!")
    local i
    for i in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    die "redis-server did not start: $(cat "$WORK/redis.log")"
}

# The TLS targets' certificate (P-256, for 127.0.0.1), made once per run.
bench_certificate() {
    [ -f "$WORK/tls.pem" ] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.pem" 2>/dev/null ||
        die "openssl could not make the TLS targets' certificate"
}

# The gateway-jwt target's identity provider: an RSA key, its JWKS, and one RS256 token (a day
# long) for the bench client's subject, signed with the openssl command line.
JWT=""
bench_jwt() {
    [ -n "$JWT" ] && return 0
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/jwt.key" 2>/dev/null ||
        die "openssl could not make the JWT key"
    local modulus header payload signature
    modulus=$(openssl rsa -in "$WORK/jwt.key" -noout -modulus | cut -d= -f2)
    python3 - "$modulus" "$WORK/jwks.json" <<'PY'
import base64, binascii, json, sys
n = base64.urlsafe_b64encode(binascii.unhexlify(sys.argv[1])).rstrip(b"=").decode()
with open(sys.argv[2], "w") as f:
    json.dump({"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig", "n": n, "e": "AQAB"}]}, f)
PY
    b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
    header=$(printf '{"alg":"RS256","kid":"bench","typ":"JWT"}' | b64url)
    payload=$(printf '{"iss":"https://idp.bench.example","aud":"giosg-gateway","sub":"svc-bench","exp":%d}' \
        "$(( $(date +%s) + 86400 ))" | b64url)
    signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$WORK/jwt.key" -binary | b64url)
    JWT="$header.$payload.$signature"
}

GW_ADMIN_PORT=""
gateway_config() {  # gateway_config DIR PORT WITH_FSYNC(0|1) [TLS(0|1) [JWT(0|1) [LIMITS(none|local|redis)]]]; admin listener on GW_ADMIN_PORT if set
    local dir=$1 port=$2 with_fsync=$3 with_tls=${4:-0} with_jwt=${5:-0} limits=${6:-none} audit admin="" subject=""
    local client_limits="" credential_limits="" rate_limits=""
    if [ "$limits" != none ]; then
        # Far above what one worker can carry, so every request is decided and none refused.
        client_limits='"rate": { "per_s": 1000000, "burst": 1000000 }, "max_in_flight": 1000000,'
        credential_limits=', "rate": { "per_s": 1000000, "burst": 1000000 }'
        rate_limits='"rate_limits": { "store": "local" },'
        [ "$limits" = redis ] &&
            rate_limits="\"rate_limits\": { \"store\": \"redis\", \"redis_url\": \"redis://127.0.0.1:$REDIS_PORT\", \"on_store_failure\": \"deny\" },"
    fi
    [ -n "$GW_ADMIN_PORT" ] && admin=" \"admin_listen\": \"127.0.0.1:$GW_ADMIN_PORT\","
    [ "$with_tls" = 1 ] && admin="$admin \"tls\": { \"cert_file\": \"$WORK/tls.pem\", \"key_file\": \"$WORK/tls.key\" },"
    if [ "$with_jwt" = 1 ]; then
        admin="$admin \"jwt\": { \"issuer\": \"https://idp.bench.example\", \"audience\": \"giosg-gateway\", \"jwks_file\": \"$WORK/jwks.json\" },"
        subject='"jwt_subject": "svc-bench",'
    fi
    if [ "$with_fsync" = 1 ]; then
        audit="{ \"path\": \"${AUDIT_PATH:-$dir/audit.jsonl}\", \"fsync\": \"$AUDIT_FSYNC\" }"
    else
        audit="{ \"path\": \"${AUDIT_PATH:-$dir/audit.jsonl}\" }"
    fi
    cat >"$dir/gateway.json" <<EOF
{
  "listen": "127.0.0.1:$port",$admin
  "workers": $WORKERS,
  "upstream": { "url": "http://127.0.0.1:$UPORT", "connect_timeout_ms": 3000, "timeout_ms": 30000,
                "max_idle_connections": $UPSTREAM_IDLE },
  "credentials": { "bench": { "token_env": "GIOSG_BENCH_TOKEN"$credential_limits } },$rate_limits
  "clients": {
    "bench": {
      "key_sha256": "$KEY_HASH",$subject $client_limits
      "credential": "bench",
      "scopes": ["settings", "users", "reports"],
      "organizations": ["*"]
    }
  },
  "policy": { "source": "file", "file": "$CATALOGUE", "refresh_s": 0 },
  "audit": $audit,
  "limits": { "max_header_bytes": 16384, "max_body_bytes": 10485760,
              "header_timeout_ms": 10000, "idle_timeout_ms": $((IDLE_TIMEOUT_S * 1000)) }
}
EOF
}

AUDIT_WITH_FSYNC=0
AUDIT_NOTE=""
probe_gateway_config() {
    local dir="$WORK/probe" out
    mkdir -p "$dir"
    KEY_HASH=$(printf '%s\n' "$KEY" | "$GW" hash-key)
    gateway_config "$dir" 1 1
    if out=$(GIOSG_BENCH_TOKEN=$SERVER_TOKEN "$GW" check --config "$dir/gateway.json" 2>&1); then
        AUDIT_WITH_FSYNC=1
        AUDIT_NOTE="audit to ${AUDIT_PATH:-a file}, fsync \"$AUDIT_FSYNC\""
    else
        gateway_config "$dir" 1 0
        out=$(GIOSG_BENCH_TOKEN=$SERVER_TOKEN "$GW" check --config "$dir/gateway.json" 2>&1) ||
            die "the bench gateway config is invalid: $out"
        AUDIT_WITH_FSYNC=0
        AUDIT_NOTE="audit to a file (this gateway does not accept audit.fsync; AUDIT_FSYNC=$AUDIT_FSYNC unused)"
    fi
    log "gateway audit config: $AUDIT_NOTE"
}

# start_target NAME -> sets TARGET_PID, TARGET_PORT, TARGET_DIR, TARGET_LOG
# bench/gen_peers.py's config for the target being started (TARGET_DIR, TARGET_PORT, TARGET_LOG);
# each peer takes the arguments it needs of these.
peer_config() {  # peer_config WHICH [MORE ARGS]
    python3 "$BENCH/gen_peers.py" "$@" --catalogue "$CATALOGUE" --dir "$TARGET_DIR" --port "$TARGET_PORT" \
        --upstream-port "$UPORT" --key "$KEY" --token "$SERVER_TOKEN" --log "$TARGET_LOG" \
        --idle-timeout-s "$IDLE_TIMEOUT_S" --fd-limit "$FD_LIMIT" --workers "$WORKERS" \
        --upstream-idle "$UPSTREAM_IDLE" >/dev/null
}

start_target() {
    local name=$1
    TARGET_DIR="$WORK/$name-$RANDOM$RANDOM"
    mkdir -p "$TARGET_DIR"
    case "$name" in
        direct)
            TARGET_PORT=$UPORT
            TARGET_PID=$UPSTREAM_PID
            TARGET_LOG=""
            return 0
            ;;
        gateway|gateway-tls|gateway-jwt|gateway-uring|gateway-limits|gateway-redis)
            TARGET_PORT=$(free_port)
            GW_ADMIN_PORT=$(free_port)
            local with_tls=0 with_jwt=0 limits=none
            [ "$name" = gateway-tls ] && { bench_certificate; with_tls=1; }
            [ "$name" = gateway-jwt ] && { bench_jwt; with_jwt=1; }
            [ "$name" = gateway-limits ] && limits=local
            [ "$name" = gateway-redis ] && { bench_redis; limits=redis; }
            gateway_config "$TARGET_DIR" "$TARGET_PORT" "$AUDIT_WITH_FSYNC" "$with_tls" "$with_jwt" "$limits"
            TARGET_LOG="${AUDIT_PATH:-$TARGET_DIR/audit.jsonl}"
            # GW_PRELOAD / GW_ALLOC_FILE: the counting allocator of profile mode (empty: none).
            local bin=$GW
            [ "$name" = gateway-uring ] && bin=$GW_URING
            LD_PRELOAD=${GW_PRELOAD:-} ALLOC_COUNT_FILE=${GW_ALLOC_FILE:-} GIOSG_BENCH_TOKEN=$SERVER_TOKEN \
                ${PIN_PROXY[@]+"${PIN_PROXY[@]}"} "$bin" serve --config "$TARGET_DIR/gateway.json" \
                >"$TARGET_DIR/stdout.log" 2>"$TARGET_DIR/stderr.log" &
            ;;
        nginx|nginx-tls|nginx-lean)
            TARGET_PORT=$(free_port)
            TARGET_LOG="$TARGET_DIR/access.jsonl"
            local which=nginx tls_args=()
            [ "$name" = nginx-lean ] && which=nginx-lean
            [ "$name" = nginx-tls ] && { bench_certificate; tls_args=(--tls-cert "$WORK/tls.pem" --tls-key "$WORK/tls.key"); }
            peer_config "$which" ${tls_args[@]+"${tls_args[@]}"}
            ${PIN_PROXY[@]+"${PIN_PROXY[@]}"} nginx -p "$TARGET_DIR" -c "$TARGET_DIR/nginx.conf" \
                >"$TARGET_DIR/stdout.log" 2>"$TARGET_DIR/stderr.log" &
            ;;
        haproxy|haproxy-lean)
            TARGET_PORT=$(free_port)
            TARGET_LOG="$TARGET_DIR/access.jsonl"
            peer_config "$name"
            # HAProxy cannot write a file itself: "log stdout" lines go to its stdout, a file here.
            ${PIN_PROXY[@]+"${PIN_PROXY[@]}"} haproxy -db -f "$TARGET_DIR/haproxy.cfg" \
                >"$TARGET_LOG" 2>"$TARGET_DIR/stderr.log" &
            ;;
        *) die "unknown target $name" ;;
    esac
    TARGET_PID=$!
    PIDS+=("$TARGET_PID")
    if ! wait_http "$TARGET_PORT" "$TARGET_PID" "$(target_scheme "$name")"; then
        cat "$TARGET_DIR"/stderr.log >&2 || true
        die "$name did not start"
    fi
    # gateway-redis must really decide in Redis: one request, then its rate-store timing counts it.
    if [ "$name" = gateway-redis ]; then
        curl -s -o /dev/null -H "Authorization: Bearer $KEY" "http://127.0.0.1:$TARGET_PORT$BENCH_PATH" || true
        curl -s --max-time 2 "http://127.0.0.1:$GW_ADMIN_PORT/metrics" |
            grep -Eq '^giosg_gateway_rate_store_duration_seconds_count(\{[^}]*\})? [1-9]' ||
            die "gateway-redis made no Redis decision (see $WORK/redis.log)"
    fi
}

# Client connections each gateway worker has accepted so far, space-separated in worker order
# (from /metrics); empty for the other targets and for gateways without that metric.
target_scheme() { case "$1" in *-tls) echo https ;; *) echo http ;; esac; }

worker_accepts() {
    case "$1" in gateway|gateway-*) ;; *) return 0 ;; esac  # start_target knows which gateway-* exist
    curl -s --max-time 2 "http://127.0.0.1:$GW_ADMIN_PORT/metrics" |
        sed -n 's/^giosg_gateway_downstream_connections_accepted_total{worker="\([0-9]*\)"} \([0-9]*\)$/\1 \2/p' |
        sort -n | awk '{ printf "%s%s", sep, $2; sep = " " }' || true
}

stop_target() {
    [ "$1" = direct ] && return 0
    stop_pid "$TARGET_PID"
}

# ---------------------------------------------------------------------------------------------
# Behaviour check: the three proxies answer the bench's requests alike.
check_target() {
    local name=$1 base="http://127.0.0.1:$TARGET_PORT" bad=0 code hdr
    expect() {  # expect WHAT WANT GOT
        if [ "$2" != "$3" ]; then
            log "  $name: $1: expected $2, got $3"
            bad=1
        fi
    }
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$base$BENCH_PATH")
    expect "GET allowed (upstream saw the server token)" 200 "$code"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $KEY" "$base/api/v5/users/me/")
    expect "Token scheme, literal segment, trailing slash" 200 "$code"
    hdr=$(curl -s -D - -o /dev/null -X DELETE -H "Authorization: Bearer $KEY" "$base$BENCH_PATH" | tr -d '\r')
    expect "DELETE status" 405 "$(echo "$hdr" | awk 'NR==1 { print $2 }')"
    expect "DELETE Allow" "GET, HEAD, POST, OPTIONS" "$(echo "$hdr" | awk -F': ' 'tolower($1) == "allow" { print $2 }')"
    hdr=$(curl -s -D - -o /dev/null -H "Authorization: Bearer not-a-valid-bench-key" "$base$BENCH_PATH" | tr -d '\r')
    expect "bad key status" 401 "$(echo "$hdr" | awk 'NR==1 { print $2 }')"
    expect "bad key WWW-Authenticate" 'Bearer realm="giosg-gateway"' \
        "$(echo "$hdr" | awk -F': ' 'tolower($1) == "www-authenticate" { print $2 }')"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${KEY^^}" "$base$BENCH_PATH")
    [ "${KEY^^}" = "$KEY" ] || expect "key in the wrong case" 401 "$code"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$base/api/v5/orgs/$ORG/no_such_thing")
    expect "unknown endpoint" 404 "$code"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v5/no_such_thing")
    expect "unknown endpoint without a key" 401 "$code"
    # The lean peers are written for the bench's routes only and set no X-Request-Id; every other
    # check above applies to them too (their two routes include /api/v5/users/me/).
    case "$name" in
        *-lean) log "  $name: X-Request-Id check skipped (the lean config has none)" ;;
        *)
            hdr=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $KEY" "$base$BENCH_PATH" | tr -d '\r')
            [ -n "$(echo "$hdr" | awk -F': ' 'tolower($1) == "x-request-id" { print $2 }')" ] || expect "X-Request-Id" present missing
            ;;
    esac
    if [ -n "${PAGE:-}" ] && [ "$name" = gateway ]; then  # the page's link as the client sees it
        local next want="$base/"
        next=$(curl -s --compressed -H "Authorization: Bearer $KEY" "$base$BENCH_PATH" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["next"])' 2>/dev/null || true)
        [ -n "${PAGE_ORIGIN:-}" ] && want="$PAGE_ORIGIN/"
        expect "page link origin" "$want" "${next:0:${#want}}"
    fi
    sleep 0.1
    return "$bad"
}

behaviour_check() {
    local t failed=0
    local lean=""
    for t in $TARGETS; do case "$t" in *-lean) lean="$lean $t" ;; esac; done
    for t in gateway nginx haproxy $lean; do
        start_target "$t"
        if check_target "$t"; then log "behaviour check $t: ok"; else failed=1; fi
        stop_target "$t"
    done
    [ "$failed" = 0 ] || die "the proxies do not behave alike (see above); fix the configs before measuring"
}

# ---------------------------------------------------------------------------------------------
machine_meta() {  # machine_meta FILE
    local commit dirty cpu
    commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
    dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo " (working tree has changes)" || true)
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    {
        echo "date=$(date -u +%FT%TZ)"
        echo "host=$(hostname)"
        echo "cpu=${cpu:-unknown} × $(nproc)"
        echo "kernel=$(uname -r)"
        echo "commit=$commit$dirty"
        echo "gateway=$("$GW" --version 2>&1 | head -1), Release ($BUILD_DIR), $WORKERS worker(s), $AUDIT_NOTE"
        case " $TARGETS " in *" gateway-uring "*)
            echo "gateway-uring=the same with GIOSG_IO_URING=ON ($URING_BUILD_DIR): Asio's io_uring backend instead of epoll" ;;
        esac
        case " $TARGETS " in *" gateway-limits "*|*" gateway-redis "*)
            echo "gateway-limits / gateway-redis=the same with a rate and an in-flight cap for the client and a rate for its credential, never hit; store local / redis ($(redis-server --version 2>/dev/null | awk '{ print $3 }'))" ;;
        esac
        echo "nginx=$(nginx -v 2>&1 | sed 's/^nginx version: //'), $WORKERS worker process(es)"
        echo "haproxy=$(haproxy -v 2>&1 | head -1 | awk '{ print $3 }'), nbthread $WORKERS"
        echo "wrk=$(wrk -v 2>&1 | head -1 | awk '{ print $2 }'), $WRK_THREADS thread(s)"
        if [ "$UPSTREAM" = nginx ]; then
            echo "upstream=nginx $(nginx -v 2>&1 | sed 's/^nginx version: nginx.//') serving fixed JSON, $UPSTREAM_THREADS worker process(es), keepalive_requests 1000000"
        else
            echo "upstream=bench-fixed-upstream, $UPSTREAM_THREADS thread(s)"
        fi
        echo "upstream pool=$UPSTREAM_IDLE idle connections per worker (gateway upstream.max_idle_connections, nginx keepalive, HAProxy pool-max-conn × workers)"
        echo "pinning=proxy CPU ${PROXY_CPUS:-any}, upstream CPU ${UPSTREAM_CPUS:-any}, wrk CPU ${LOAD_CPUS:-any}"
        if [ "$MODE" = load ]; then
            echo "load=${DURATION} s per run after ${WARMUP} s warm-up, $REPEAT runs per cell, conns $CONNS"
        else
            echo "idle=$IDLE_CONNS connections, held $IDLE_HOLD s before reading RSS"
        fi
    } >"$1"
}

run_wrk() {  # run_wrk PORT CONNS MIX SECONDS AUTH [SCHEME] -> "BENCH ..." line
    local port=$1 conns=$2 mix=$3 secs=$4 auth=$5 scheme=${6:-http} threads=$WRK_THREADS
    [ "$threads" -gt "$conns" ] && threads=$conns
    local args=(-t"$threads" -c"$conns" -d"${secs}s" --timeout 5s)
    if [ "$mix" = mixed ]; then
        args+=(-s "$BENCH/wrk/mixed.lua")
    else
        args+=(-s "$BENCH/wrk/report.lua" -H "Authorization: $auth")
    fi
    BENCH_LUA_DIR="$BENCH/wrk" BENCH_KEY=$KEY BENCH_PATH=$BENCH_PATH \
        ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} wrk "${args[@]}" "$scheme://127.0.0.1:$port$BENCH_PATH" | grep '^BENCH ' || true
}

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

load_mode() {
    local runs="$WORK/runs.csv" total=0 done_n=0 rep conns mix t auth line rss lines ticks cpu acc by_worker
    echo "rep,target,conns,mix,requests,rps,p50_us,p99_us,p999_us,non2xx,errors,rss_kib,log_lines,cpu_us_per_req,conns_by_worker" >"$runs"
    for rep in $(seq "$REPEAT"); do for conns in $CONNS; do for mix in $MIXES; do for t in $TARGETS; do
        { [ "$t" = direct ] || [ "$t" = gateway-jwt ]; } && [ "$mix" != allowed ] && continue
        total=$((total + 1))
    done; done; done; done
    log "$total measurements of ${DURATION}s (+${WARMUP}s warm-up) each"
    for rep in $(seq "$REPEAT"); do
        for conns in $CONNS; do
            for mix in $MIXES; do
                for t in $TARGETS; do
                    { [ "$t" = direct ] || [ "$t" = gateway-jwt ]; } && [ "$mix" != allowed ] && continue
                    done_n=$((done_n + 1))
                    auth="Bearer $KEY"
                    [ "$t" = direct ] && auth="Token $SERVER_TOKEN"
                    [ "$t" = gateway-jwt ] && { bench_jwt; auth="Bearer $JWT"; }
                    start_target "$t"
                    [ "$WARMUP" -gt 0 ] && run_wrk "$TARGET_PORT" "$conns" "$mix" "$WARMUP" "$auth" "$(target_scheme "$t")" >/dev/null
                    acc=$(worker_accepts "$t")
                    ticks=$(proc_ticks "$TARGET_PID")
                    line=$(run_wrk "$TARGET_PORT" "$conns" "$mix" "$DURATION" "$auth" "$(target_scheme "$t")")
                    [ -n "$line" ] || die "wrk gave no result for $t conns=$conns mix=$mix"
                    ticks=$(( $(proc_ticks "$TARGET_PID") - ticks ))
                    # How SO_REUSEPORT spread this run's connections over the workers: "33/31".
                    by_worker=$(paste -d' ' <(echo "$acc" | tr ' ' '\n') <(worker_accepts "$t" | tr ' ' '\n') |
                                awk 'NF == 2 { printf "%s%d", sep, $2 - $1; sep = "/" }')
                    cpu=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v n="$(field "$line" requests)" \
                          'BEGIN { if (n > 0) printf "%.2f", t * 1e6 / hz / n }')
                    rss=$(proc_kib "$TARGET_PID" VmHWM)
                    stop_target "$t"
                    lines=""
                    # The gateway rotates its audit file (100 MB by default): count the rotated
                    # files (audit.jsonl.<seq>) too.
                    [ -n "$TARGET_LOG" ] && [ -f "$TARGET_LOG" ] && lines=$(cat "$TARGET_LOG" "$TARGET_LOG".[0-9]* 2>/dev/null | wc -l || true)
                    [ "$t" != direct ] && rm -rf "$TARGET_DIR"
                    echo "$rep,$t,$conns,$mix,$(field "$line" requests),$(field "$line" rps),$(field "$line" p50_us),$(field "$line" p99_us),$(field "$line" p999_us),$(field "$line" non2xx),$(field "$line" errors),$rss,$lines,$cpu,$by_worker" >>"$runs"
                    log "[$done_n/$total] run $rep $t conns=$conns $mix: $(field "$line" rps) req/s, p99 $(field "$line" p99_us) µs, non-2xx $(field "$line" non2xx), errors $(field "$line" errors), VmHWM ${rss} KiB, log lines ${lines:-–}, proxy CPU ${cpu} µs/req${by_worker:+, connections by worker $by_worker}"
                done
            done
        done
    done
    local stamp prefix
    stamp=$(date -u +%Y-%m-%d-%H%M%S)
    mkdir -p "$RESULTS_DIR"
    prefix="$RESULTS_DIR/$stamp-$(hostname -s)"
    machine_meta "$WORK/meta.txt"
    cp "$runs" "$prefix-runs.csv"
    python3 "$BENCH/report.py" load "$runs" "$WORK/meta.txt" "$prefix"
    log "written: $prefix.md, $prefix.csv, $prefix.svg, $prefix-runs.csv"
}

idle_mode() {
    local rows="$WORK/idle.csv" t n out before held hwm ready closed i
    echo "target,requested,held,failed,non200,rss_before_kib,rss_held_kib,hwm_kib,closed_by_peer" >"$rows"
    for t in $IDLE_TARGETS; do
        n=$IDLE_CONNS
        if [[ "$t" == haproxy* ]] && [ $(((FD_LIMIT - 200) / 2 - 100)) -lt "$n" ]; then
            n=$(((FD_LIMIT - 200) / 2 - 100))
            log "haproxy: its maxconn needs 2 fds per connection; fd limit $FD_LIMIT allows $n connections"
        fi
        start_target "$t"
        curl -s -o /dev/null -H "Authorization: Bearer $KEY" "http://127.0.0.1:$TARGET_PORT$BENCH_PATH"
        sleep 0.5
        before=$(proc_kib "$TARGET_PID" VmRSS)
        out="$WORK/idle-$t.out"
        ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$IDLE_BIN" 127.0.0.1 "$TARGET_PORT" "$n" "$BENCH_PATH" "$KEY" >"$out" 2>"$WORK/idle-$t.err" &
        local client=$!
        PIDS+=("$client")
        for i in $(seq 3000); do
            grep -q '^ready' "$out" && break
            kill -0 "$client" 2>/dev/null || break
            sleep 0.1
        done
        grep -q '^ready' "$out" || die "idle client did not finish connecting to $t: $(cat "$WORK/idle-$t.err")"
        sleep "$IDLE_HOLD"
        held=$(proc_kib "$TARGET_PID" VmRSS)
        hwm=$(proc_kib "$TARGET_PID" VmHWM)
        stop_pid "$client"
        ready=$(grep '^ready' "$out")
        closed=$(awk '/^closed_by_peer/ { print $2 }' "$out")
        stop_target "$t"
        rm -rf "$TARGET_DIR"
        echo "$t,$n,$(echo "$ready" | awk '{ print $2 }'),$(echo "$ready" | awk '{ print $3 }'),$(echo "$ready" | awk '{ print $5 }'),$before,$held,$hwm,${closed:-0}" >>"$rows"
        log "$t: $ready; VmRSS $before KiB -> $held KiB, VmHWM $hwm KiB"
    done
    local stamp prefix
    stamp=$(date -u +%Y-%m-%d-%H%M%S)
    mkdir -p "$RESULTS_DIR"
    prefix="$RESULTS_DIR/$stamp-$(hostname -s)"
    machine_meta "$WORK/meta.txt"
    python3 "$BENCH/report.py" idle "$rows" "$WORK/meta.txt" "$prefix"
    log "written: $prefix-idle.md, $prefix-idle.csv"
}

# Where the gateway's time goes (bench/README.md "Where the time goes"): one gateway (all its
# threads: workers and the audit writer), the allowed load, first under strace -c -f (syscalls
# per request; strace slows the gateway a lot, the counts per request are what matter), then
# under perf record (cpu-clock: VMs often have no hardware counters). Writes RESULTS_DIR/*-profile.txt.
profile_mode() {
    local conns=${PROFILE_CONNS:-64} out line n
    command -v strace >/dev/null || die "profile needs strace (apt-get install strace)"
    out="$WORK/profile.txt"
    start_target gateway
    run_wrk "$TARGET_PORT" "$conns" allowed "$WARMUP" "Bearer $KEY" >/dev/null
    {
        echo "# giosg-gateway profile, $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short=12 HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "# wrk $conns connections, $DURATION s, allowed mix; gateway pinned to CPU ${PROXY_CPUS:-any}; $AUDIT_NOTE"
    } >"$out"
    strace -c -f -qq -p "$TARGET_PID" -o "$WORK/strace.txt" &
    local tracer=$!
    PIDS+=("$tracer")
    sleep 1
    line=$(run_wrk "$TARGET_PORT" "$conns" allowed "$DURATION" "Bearer $KEY")
    sleep 0.3
    kill -INT "$tracer" 2>/dev/null || true
    wait "$tracer" 2>/dev/null || true
    forget_pid "$tracer"
    n=$(field "$line" requests)
    { echo; echo "## strace -c -f during wrk: $n requests ($(field "$line" rps) req/s under strace)"
      # strace -c columns: % time, seconds, usecs/call, calls, [errors], syscall ("total" last).
      awk -v n="$n" '$1 ~ /^[0-9.]+$/ && NF >= 5 && n > 0 {
                         printf "%-16s %10d calls  %6.3f per request\n", $NF, $4, $4 / n }' "$WORK/strace.txt"
      echo; echo "raw:"; cat "$WORK/strace.txt"; } >>"$out"
    if command -v perf >/dev/null && perf record -o "$WORK/probe.data" -- true >/dev/null 2>&1; then
        perf record -F 1999 -e cpu-clock -p "$TARGET_PID" -o "$WORK/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
        local recorder=$!
        line=$(run_wrk "$TARGET_PORT" "$conns" allowed "$DURATION" "Bearer $KEY")
        wait "$recorder" 2>/dev/null || true
        { echo; echo "## perf record -e cpu-clock during wrk: $(field "$line" requests) requests ($(field "$line" rps) req/s)"
          echo "### by shared object"
          perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15 || true
          echo "### by thread (the worker and the audit writer)"
          perf report -i "$WORK/perf.data" --no-children --sort pid --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8 || true
          echo "### top symbols"
          perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 |
              sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//' | cut -c1-160 || true
        } >>"$out"
    else
        echo "perf record does not work here; perf profile skipped" >>"$out"
    fi
    stop_target gateway
    # Heap allocations per request: the gateway again, under bench/alloc_count.c (LD_PRELOAD),
    # counted over one more wrk run after the warm-up.
    if cc -O2 -shared -fPIC -o "$WORK/alloc_count.so" "$BENCH/alloc_count.c" 2>"$WORK/alloc_count.err"; then
        GW_PRELOAD="$WORK/alloc_count.so" GW_ALLOC_FILE="$WORK/alloc.counts" start_target gateway
        run_wrk "$TARGET_PORT" "$conns" allowed "$WARMUP" "Bearer $KEY" >/dev/null
        local before after
        before=$(od -An -w24 -t u8 -N 24 "$WORK/alloc.counts")
        line=$(run_wrk "$TARGET_PORT" "$conns" allowed "$DURATION" "Bearer $KEY")
        after=$(od -An -w24 -t u8 -N 24 "$WORK/alloc.counts")
        n=$(field "$line" requests)
        { echo; echo "## heap allocations during wrk (bench/alloc_count.c): $n requests ($(field "$line" rps) req/s)"
          echo "$before $after" | awk -v n="$n" 'n > 0 {
              printf "allocations %d  (%.2f per request)\nfrees       %d  (%.2f per request)\nbytes       %d  (%.0f per request)\n",
                     $4 - $1, ($4 - $1) / n, $5 - $2, ($5 - $2) / n, $6 - $3, ($6 - $3) / n }'; } >>"$out"
        stop_target gateway
    else
        echo "no C compiler: allocation count skipped ($(head -1 "$WORK/alloc_count.err"))" >>"$out"
    fi
    local prefix
    mkdir -p "$RESULTS_DIR"
    prefix="$RESULTS_DIR/$(date -u +%Y-%m-%d-%H%M%S)-$(hostname -s)"
    cp "$out" "$prefix-profile.txt"
    cat "$out"
    log "written: $prefix-profile.txt"
}

# ---------------------------------------------------------------------------------------------
install_missing
build
pin_plan
pin_prefixes
raise_fd_limit
[ "$MODE" = idle ] && [ "$FD_LIMIT" -lt $((IDLE_CONNS + 1024)) ] &&
    log "WARNING: open-file limit $FD_LIMIT is low for $IDLE_CONNS connections"
log "work dir $WORK; pinning: proxy ${PROXY_CPUS:-any}, upstream ${UPSTREAM_CPUS:-any}, wrk ${LOAD_CPUS:-any}; fd limit $FD_LIMIT"
start_upstream
probe_gateway_config
behaviour_check
case "$MODE" in
    load) load_mode ;;
    idle) idle_mode ;;
    check) log "behaviour check passed" ;;
    profile) profile_mode ;;
esac
