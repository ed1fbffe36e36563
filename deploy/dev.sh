#!/usr/bin/env bash
# giosg-gateway developer entry point. On a fresh Debian 12 machine (as root, or with sudo):
#   ./deploy/dev.sh run    install what is missing, build, start giosg-mock + the gateway (Ctrl-C stops both)
#   ./deploy/dev.sh test   install what is missing, build, run every test with ctest
#   ./deploy/dev.sh build  install what is missing and build only
#   ./deploy/dev.sh sanitize  the whole suite under ASan+UBSan, the multi-threaded tests under TSan
#   ./deploy/dev.sh test-uring  the whole suite on the experimental io_uring build (GIOSG_IO_URING=ON)
# With GIOSG_API_TOKEN set, `run` fronts https://service.giosg.com instead of the mock.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$ROOT/build/dev"   # the "dev" preset's binaryDir
JOBS="$(nproc 2>/dev/null || echo 2)"

# Boost 1.81 is not Debian 12's default libboost-dev (1.74): name it explicitly.
PACKAGES=(
  cmake make g++ pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libspdlog-dev libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  curl python3 python3-yaml zlib1g-dev
  libhiredis-dev redis-server   # the shared rate store (rate_limits.store "redis") and its tests
  libjemalloc-dev               # the gateway's allocator: gives idle memory back (CMakeLists.txt)
)
# Only for the test suite: promtool (in Debian's prometheus package) checks deploy/monitoring's
# alert rules. Installed without recommends; only promtool is used, never the server.
TEST_PACKAGES=(prometheus)

log() { printf '\033[1m[dev.sh]\033[0m %s\n' "$*" >&2; }

install_missing() {  # [packages...]: default PACKAGES
  local missing=() wanted=("$@")
  [ ${#wanted[@]} -gt 0 ] || wanted=("${PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() { build_preset dev "$@"; }  # [targets...]: default everything

run_tests() {
  build
  install_missing "${TEST_PACKAGES[@]}"
  log "running the test suite"
  cd "$BUILD_DIR"
  ctest --output-on-failure -j "$JOBS" --timeout 300
}

# Configures (once) and builds one preset's tree; extra arguments are build targets.
build_preset() {
  local preset="$1"; shift
  install_missing
  # ccache, when a developer has it, makes rebuilds across branches and worktrees cheap; CI runs without it.
  local launcher=()
  command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  [ -f "$ROOT/build/$preset/CMakeCache.txt" ] || (cd "$ROOT" && cmake --preset "$preset" "${launcher[@]}" >/dev/null)
  log "building preset $preset ($JOBS jobs)"
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$ROOT/build/$preset" -j "$JOBS" "${targets[@]}"
}

run_sanitizers() {
  build_preset asan
  log "running the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  (cd "$ROOT" && ctest --preset asan -j "$JOBS" --timeout 600)
  # ThreadSanitizer: the tests where several threads share state (workers, audit rings, stop).
  build_preset tsan integration_tests core_tests audit_writer_tests audit_syslog_tests limits_tests giosg-gateway giosg-mock
  log "running the multi-threaded tests under ThreadSanitizer"
  (cd "$ROOT" && ctest --preset tsan -j "$JOBS" --timeout 600 \
     -R 'MultiWorker|ParkedConnections|UpstreamWorkers|Lifecycle|AuditWriter|AuditRing|ProxyKeepAlive|AuditFsync|AuditFailure|AuditUnderLoad|AuditSyslog|Syslog|LocalLimits|RateLimits|RedisLimits|Operations|Readiness')
}

# The experimental io_uring build (GIOSG_IO_URING=ON, preset "uring") and the whole suite on it. Not part
# of CI: where the kernel or a container refuses io_uring, it says so and stops.
run_uring_tests() {
  install_missing liburing-dev
  install_missing "${TEST_PACKAGES[@]}"
  build_preset uring
  echo probe | "$ROOT/build/uring/gateway/giosg-gateway" hash-key >/dev/null ||
    { log "this system refuses io_uring (see the message above)"; exit 1; }
  log "running the test suite on the io_uring build"
  (cd "$ROOT" && ctest --preset uring -j "$JOBS" --timeout 300)
}

wait_for_port() {  # host port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# The TLS demo's throw-away CA, server certificate (localhost, 127.0.0.1) and client certificate
# (SPIFFE id spiffe://demo.example/reporting), made once with openssl in build/demo/tls/.
make_demo_certificates() {
  local dir="$ROOT/build/demo/tls"
  [ -f "$dir/client.pem" ] && return 0
  log "making a demo CA and certificates in build/demo/tls"
  mkdir -p "$dir"
  (
    cd "$dir"
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -days 30 -subj "/CN=giosg-gateway demo CA" -keyout ca.key -out ca.pem 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
    openssl req "${ec[@]}" -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.pem 2>/dev/null
    printf 'subjectAltName=URI:spiffe://demo.example/reporting\nextendedKeyUsage=clientAuth\n' > client.ext
    openssl req "${ec[@]}" -subj "/CN=reporting" -keyout client.key -out client.csr 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile client.ext -out client.pem 2>/dev/null
    rm -f ./*.csr ./*.ext
  )
}

run_demo() {
  build giosg-gateway giosg-mock
  local gateway="$BUILD_DIR/gateway/giosg-gateway"
  local mock="$BUILD_DIR/tests/mock/giosg-mock"
  local pids=()
  mkdir -p "$ROOT/build/demo"
  stop_all() {
    trap - INT TERM EXIT
    log "stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    exit 0
  }
  trap stop_all INT TERM EXIT

  local config
  if [ -n "${GIOSG_API_TOKEN:-}" ]; then
    config="$ROOT/deploy/demo/gateway-live.jsonc"
    log "GIOSG_API_TOKEN is set: fronting https://service.giosg.com"
  else
    config="$ROOT/deploy/demo/gateway.jsonc"
    export GIOSG_DEMO_TOKEN="demo-upstream-token"
    "$mock" --catalogue "$ROOT/policies/giosg-v5-endpoints.json" --listen 127.0.0.1:8081 \
      --token-env GIOSG_DEMO_TOKEN --page-size 40 &
    pids+=($!)
    wait_for_port 127.0.0.1 8081 10 || { log "giosg-mock did not start (is port 8081 free?)"; exit 1; }
  fi
  "$gateway" check --config "$config"
  "$gateway" serve --config "$config" &
  pids+=($!)
  wait_for_port 127.0.0.1 8080 15 || { log "the gateway did not start (is port 8080 free?)"; exit 1; }
  local tls_demo=""
  if [ -z "${GIOSG_API_TOKEN:-}" ]; then
    make_demo_certificates
    "$gateway" serve --config "$ROOT/deploy/demo/gateway-tls.jsonc" &
    pids+=($!)
    wait_for_port 127.0.0.1 8443 15 || { log "the TLS gateway did not start (is port 8443 free?)"; exit 1; }
    tls_demo="
  TLS with client certificates on https://127.0.0.1:8443 (deploy/demo/gateway-tls.jsonc; audit:
  build/demo/audit-tls.jsonl; CA and certificates in build/demo/tls/):
    With a key over TLS (200):
      curl -i --cacert build/demo/tls/ca.pem -H 'Authorization: Token demo-reports-key' https://127.0.0.1:8443/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/owned_chats
    With the client certificate alone, no key (200, audited as identity \"mtls\"):
      curl -i --cacert build/demo/tls/ca.pem --cert build/demo/tls/client.pem --key build/demo/tls/client.key https://127.0.0.1:8443/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/owned_chats
    The certificate and another client's key (401: two identities naming different clients):
      curl -i --cacert build/demo/tls/ca.pem --cert build/demo/tls/client.pem --key build/demo/tls/client.key -H 'Authorization: Token demo-reports-key' https://127.0.0.1:8443/api/v5/users/me
"
  fi

  cat >&2 <<MSG

  giosg-gateway is listening on http://127.0.0.1:8080 (admin: http://127.0.0.1:9901/metrics)
  Audit trail: build/demo/audit.jsonl      Stop: Ctrl-C

  Allowed (200):
    curl -i -H 'Authorization: Token demo-reports-key' http://127.0.0.1:8080/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/owned_chats
  Method not in the catalogue (405 + Allow):
    curl -i -X PATCH -H 'Authorization: Token demo-reports-key' http://127.0.0.1:8080/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/owned_chats
  Unknown key (401):
    curl -i -H 'Authorization: Token not-a-key' http://127.0.0.1:8080/api/v5/users/me
  A paged list: its "next" link is rewritten to point back at the gateway, so following it
  keeps the key off giosg (follow "next" until it is null):
    curl -s -H 'Authorization: Token demo-reports-key' http://127.0.0.1:8080/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/teams
    curl -s -H 'Authorization: Token demo-reports-key' 'http://127.0.0.1:8080/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/teams?page=2'
${tls_demo}
MSG
  # Stay in the foreground until Ctrl-C or until one of the processes exits.
  wait -n "${pids[@]}" || true
  stop_all
}

case "${1:-}" in
  run) run_demo ;;
  test) run_tests ;;
  build) build ;;
  sanitize) run_sanitizers ;;
  test-uring) run_uring_tests ;;
  *) echo "usage: $0 run|test|build|sanitize|test-uring" >&2; exit 2 ;;
esac
