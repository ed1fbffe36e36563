#!/usr/bin/env bash
# The limit stage's cost under load (bench/README.md, "Rate limits"): the same gateway with no
# limits, with local limits configured but never hit, and with the same limits in Redis; then
# three replicas (one port, SO_REUSEPORT) sharing Redis. wrk against bench-fixed-upstream, all
# on 127.0.0.1, every process started here and stopped by its pid.
#   cmake --build build/dev --target giosg-gateway bench-fixed-upstream && bench/limits.sh
# Variables: BUILD_DIR (build/dev), DURATION (5 s), CONNS (64), WORKERS (1).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build/dev}"
DURATION="${DURATION:-5}"
CONNS="${CONNS:-64}"
WORKERS="${WORKERS:-1}"
GATEWAY="$BUILD_DIR/gateway/giosg-gateway"
UPSTREAM="$BUILD_DIR/bench/bench-fixed-upstream"
WORK="$(mktemp -d /tmp/giosg-limits-bench.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

KEY="bench-limits-key-0123456789abcdef"
HASH="$("$GATEWAY" hash-key <<<"$KEY" 2>/dev/null | tr -d '\n' || true)"
[ -n "$HASH" ] || HASH="sha256:$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)"
TOKEN="bench-upstream-token"
UP_PORT="$(free_port)"
"$UPSTREAM" "$UP_PORT" --auth "Token $TOKEN" >/dev/null 2>&1 &
pids+=($!)
REDIS_PORT="$(free_port)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --logfile /dev/null &
pids+=($!)
wait_port "$UP_PORT"; wait_port "$REDIS_PORT"
printf '%s' "$TOKEN" > "$WORK/token"

config() {  # $1 name, $2 extra client members, $3 extra credential members, $4 top-level members, $5 port
  cat > "$WORK/$1.json" <<JSON
{
  "listen": "127.0.0.1:$5", "workers": $WORKERS,
  "upstream": {"url": "http://127.0.0.1:$UP_PORT", "max_idle_connections": 1024},
  "credentials": {"giosg": {"token_file": "$WORK/token"$3}},
  "clients": {"bench": {"key_sha256": "$HASH", "credential": "giosg", "scopes": ["users"],
                        "organizations": ["*"]$2}},
  "policy": {"source": "file", "file": "$ROOT/policies/giosg-v5-endpoints.json"},
  "audit": {"path": "$WORK/$1-\$\$.jsonl"}$4
}
JSON
}
LIMITS_CLIENT=', "rate": {"per_s": 1000000, "burst": 1000000}, "max_in_flight": 100000'
LIMITS_CREDENTIAL=', "rate": {"per_s": 1000000, "burst": 1000000}'
REDIS=", \"rate_limits\": {\"store\": \"redis\", \"redis_url\": \"redis://127.0.0.1:$REDIS_PORT\", \"timeout_ms\": 50}"

run() {  # $1 label, $2 config name, $3 replicas
  local port; port="$(free_port)"
  local started=()
  for i in $(seq "$3"); do
    sed "s/\\\$\\\$/$i/" "$WORK/$2.json" | sed "s/\"listen\": \"127.0.0.1:[0-9]*\"/\"listen\": \"127.0.0.1:$port\"/" > "$WORK/$2-$i.json"
    "$GATEWAY" serve --config "$WORK/$2-$i.json" 2>"$WORK/$2-$i.log" &
    started+=($!); pids+=($!)
  done
  wait_port "$port"; sleep 0.5
  wrk -t1 -c"$CONNS" -d1s -H "Authorization: Bearer $KEY" "http://127.0.0.1:$port/api/v5/users/me" >/dev/null
  local line
  line="$(BENCH_LUA_DIR="$ROOT/bench/wrk" wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/wrk/report.lua" \
    -H "Authorization: Bearer $KEY" "http://127.0.0.1:$port/api/v5/users/me" | grep '^BENCH')"
  printf '%-34s %s\n' "$1" "${line#BENCH }"
  for pid in "${started[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
}

config none "" "" "" 0
config local "$LIMITS_CLIENT" "$LIMITS_CREDENTIAL" "" 0
config redis "$LIMITS_CLIENT" "$LIMITS_CREDENTIAL" "$REDIS" 0
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); workers=$WORKERS conns=$CONNS ${DURATION}s"
run "no limits, 1 replica" none 1
run "local limits (not hit), 1 replica" local 1
run "redis limits (not hit), 1 replica" redis 1
run "no limits, 3 replicas" none 3
run "redis limits (not hit), 3 replicas" redis 3
