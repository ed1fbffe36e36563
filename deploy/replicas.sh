#!/usr/bin/env bash
# Three gateway replicas sharing their rate limits in one Redis, on this machine, in front of
# giosg-mock (docs/reference.md §8, "Replicas and Redis"):
#   ./deploy/dev.sh build && ./deploy/replicas.sh      (Ctrl-C stops everything)
# The replicas listen on the same 127.0.0.1:8080 (SO_REUSEPORT: the kernel spreads connections
# over them, like a Service over pods); admin on 9901..9903; Redis on 127.0.0.1:6390.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$ROOT/build/dev"
RUN_DIR="$ROOT/build/replicas"
gateway="$BUILD_DIR/gateway/giosg-gateway"
mock="$BUILD_DIR/tests/mock/giosg-mock"
[ -x "$gateway" ] && [ -x "$mock" ] || { echo "build first: ./deploy/dev.sh build" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing: ./deploy/dev.sh installs it" >&2; exit 1; }
mkdir -p "$RUN_DIR"

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  exit 0
}
trap stop_all INT TERM EXIT

redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --logfile "$RUN_DIR/redis.log" &
pids+=($!)
export GIOSG_DEMO_TOKEN="demo-upstream-token"
"$mock" --catalogue "$ROOT/policies/giosg-v5-endpoints.json" --listen 127.0.0.1:8081 \
  --token-env GIOSG_DEMO_TOKEN --page-size 40 &
pids+=($!)
sleep 0.5

for i in 1 2 3; do
  cat > "$RUN_DIR/gateway-$i.json" <<JSON
{
  "listen": "127.0.0.1:8080",
  "admin_listen": "127.0.0.1:990$i",
  "workers": 1,
  "upstream": { "url": "http://127.0.0.1:8081" },
  "credentials": { "demo": { "token_env": "GIOSG_DEMO_TOKEN", "rate": { "per_s": 10, "burst": 20 } } },
  "clients": {
    "reporting": {
      "key_sha256": "sha256:d0c101c2d136134425205af66450a6a73c615f6c7987afebbcbd6976507a7b2e",
      "credential": "demo", "scopes": ["reports"], "organizations": ["*"],
      "rate": { "per_s": 5, "burst": 10 }
    }
  },
  "policy": { "source": "file", "file": "$ROOT/policies/giosg-v5-endpoints.json" },
  "audit": { "path": "$RUN_DIR/audit-$i.jsonl" },
  "rate_limits": { "store": "redis", "redis_url": "redis://127.0.0.1:6390/0", "timeout_ms": 50 }
}
JSON
  "$gateway" serve --config "$RUN_DIR/gateway-$i.json" 2>"$RUN_DIR/gateway-$i.log" &
  pids+=($!)
done

cat >&2 <<MSG

  3 replicas on http://127.0.0.1:8080 (admin 127.0.0.1:9901..9903), Redis on 127.0.0.1:6390.
  The client "reporting" (key demo-reports-key) may make 10 requests at once, then 5 a second,
  across all three replicas together:
    for i in \$(seq 20); do curl -s -o /dev/null -w '%{http_code} ' \\
      -H 'Authorization: Token demo-reports-key' http://127.0.0.1:8080/api/v5/users/me; done; echo
  Refusals by replica: curl -s http://127.0.0.1:9901/metrics | grep rate_limited_total
  Logs and audit files: build/replicas/      Stop: Ctrl-C
MSG
wait -n "${pids[@]}" || true
stop_all
