#!/usr/bin/env bash
# Builds build/device-kit/: everything bench/device/run.sh needs on a bare Linux machine with
# nothing installed (no compiler, no package manager, no python, no curl). Each program is run
# there through the carried glibc loader:
#
#   build/device-kit/lib/ld-linux-x86-64.so.2 --library-path build/device-kit/lib \
#       build/device-kit/bin/PROGRAM ARGS
#
#   bench/device/make-kit.sh          build (Release), install wrk and nginx if missing, assemble
#
# Environment: BUILD_DIR [build/release], KIT [build/device-kit], JOBS [2],
#              BUILD [1] (0: use the binaries already in BUILD_DIR), KIT_MAX_MIB [60].
# The kit is git-ignored (/build*/); bench/device/nginx.conf.template is regenerated from the
# catalogue (committed, so the device needs no python).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/release}
KIT=${KIT:-$ROOT/build/device-kit}
JOBS=${JOBS:-2}
BUILD=${BUILD:-1}
KIT_MAX_MIB=${KIT_MAX_MIB:-60}

log() { printf '[make-kit] %s\n' "$*" >&2; }
die() { printf '[make-kit] error: %s\n' "$*" >&2; exit 1; }

# --- 1. the gateway and the fixed upstream (Release) -------------------------------------------
GW="$BUILD_DIR/gateway/giosg-gateway"
UPSTREAM_BIN="$BUILD_DIR/bench/bench-fixed-upstream"
if [ "$BUILD" != 0 ]; then
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        if [ "$BUILD_DIR" = "$ROOT/build/release" ]; then
            (cd "$ROOT" && cmake --preset release ${launcher[@]+"${launcher[@]}"} >&2)
        else
            cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${launcher[@]+"${launcher[@]}"} >&2
        fi
    fi
    targets=(giosg-gateway)
    # bench/ is only configured when Google Benchmark is found; else the upstream is built below.
    grep -q 'bench-fixed-upstream' "$BUILD_DIR/Makefile" 2>/dev/null && targets+=(bench-fixed-upstream)
    log "building ${targets[*]} in $BUILD_DIR (-j$JOBS)"
    cmake --build "$BUILD_DIR" -j"$JOBS" --target "${targets[@]}" >&2
fi
[ -x "$GW" ] || die "no $GW"
if [ ! -x "$UPSTREAM_BIN" ]; then
    # The fixed upstream is one plain POSIX file with no project library.
    UPSTREAM_BIN="$BUILD_DIR/bench-fixed-upstream.direct"
    log "bench/ not configured here (no Google Benchmark): compiling bench/fixed_upstream.cpp directly"
    c++ -std=c++20 -O2 -DNDEBUG -pthread -o "$UPSTREAM_BIN" "$ROOT/bench/fixed_upstream.cpp"
fi

# --- 2. wrk, nginx, taskset, grep from Debian ---------------------------------------------------
install_missing() {
    local want=()
    command -v wrk >/dev/null || want+=(wrk)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || want+=(nginx-light)
    command -v taskset >/dev/null || want+=(util-linux)
    [ ${#want[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    log "installing ${want[*]}"
    # Keep the packages' services from starting (nginx would take port 80), as bench/run.sh does.
    local policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
        $sudo chmod +x "$policy"
        added_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${want[@]}" >&2 ||
        { $sudo apt-get update >&2 &&
          DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${want[@]}" >&2; } ||
        rc=$?
    [ "$added_policy" -eq 1 ] && $sudo rm -f "$policy"
    [ "$rc" -eq 0 ] || die "apt-get install ${want[*]} failed"
}
install_missing
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# --- 3. the nginx config template (python here, so the device needs none) ----------------------
python3 "$ROOT/bench/device/gen_nginx_template.py" >"$ROOT/bench/device/nginx.conf.template.new"
if cmp -s "$ROOT/bench/device/nginx.conf.template.new" "$ROOT/bench/device/nginx.conf.template"; then
    rm -f "$ROOT/bench/device/nginx.conf.template.new"
else
    mv "$ROOT/bench/device/nginx.conf.template.new" "$ROOT/bench/device/nginx.conf.template"
    log "bench/device/nginx.conf.template regenerated (commit it: the device reads the working tree)"
fi

# --- 4. assemble the kit ------------------------------------------------------------------------
rm -rf "$KIT"
mkdir -p "$KIT/bin" "$KIT/lib"
cp "$GW" "$KIT/bin/giosg-gateway"
cp "$UPSTREAM_BIN" "$KIT/bin/bench-fixed-upstream"
cp "$(command -v wrk)" "$KIT/bin/wrk"
cp "$NGINX" "$KIT/bin/nginx"
cp "$(command -v taskset)" "$KIT/bin/taskset"
cp "$(command -v grep)" "$KIT/bin/grep"   # to count audit lines exactly; run.sh copes without
chmod u+w "$KIT"/bin/*
strip --strip-unneeded "$KIT"/bin/*

# Every shared library the programs load, under the name the loader asks for (the soname).
for b in "$KIT"/bin/*; do
    ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r name path; do
    cp -L "$path" "$KIT/lib/$name"
done
# glibc's loader (the programs' PT_INTERP) and the libgcc unwinder glibc may dlopen (pthread_cancel).
cp -L "$(ldd "$KIT/bin/giosg-gateway" | awk '/ld-linux-x86-64/ { print $1 }')" "$KIT/lib/ld-linux-x86-64.so.2"
[ -e "$KIT/lib/libgcc_s.so.1" ] || cp -L "$(gcc -print-file-name=libgcc_s.so.1 2>/dev/null || echo /lib/x86_64-linux-gnu/libgcc_s.so.1)" "$KIT/lib/libgcc_s.so.1"
chmod u+w "$KIT"/lib/*
strip --strip-unneeded "$KIT"/lib/lib* 2>/dev/null || true
chmod +x "$KIT/lib/ld-linux-x86-64.so.2"

{
    echo "built=$(date -u +%FT%TZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -m)"
    echo "commit=$(git -C "$ROOT" rev-parse --short=12 HEAD)$(git -C "$ROOT" status --porcelain --untracked-files=no | grep -q . && echo ' (working tree has changes)' || true)"
    echo "gateway=$("$GW" --version 2>&1 | head -1) ($BUILD_DIR)"
    echo "nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
    echo "wrk=$(wrk -v 2>&1 | head -1)"
    echo "glibc=$(ldd --version | head -1)"
} >"$KIT/VERSIONS"

# --- 5. check: each program through the loader, and the size -----------------------------------
L=("$KIT/lib/ld-linux-x86-64.so.2" --library-path "$KIT/lib")
"${L[@]}" "$KIT/bin/giosg-gateway" --version >&2
wrk_v=$("${L[@]}" "$KIT/bin/wrk" -v 2>&1 || true)   # wrk -v prints its version and usage, exits 1
case "$wrk_v" in wrk*) printf '%s\n' "${wrk_v%%$'\n'*}" >&2 ;; *) die "wrk does not run through the loader: $wrk_v" ;; esac
"${L[@]}" "$KIT/bin/nginx" -v >&2
grep_v=$("${L[@]}" "$KIT/bin/taskset" -c 0 "${L[@]}" "$KIT/bin/grep" --version) || die "taskset or grep does not run through the loader"
printf '%s\n' "${grep_v%%$'\n'*}" >&2
# the upstream: start, connect, stop
port=$((20000 + RANDOM % 20000))
"${L[@]}" "$KIT/bin/bench-fixed-upstream" "$port" >/dev/null 2>&1 &
up=$!
ok=0
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { ok=1; break; }
    sleep 0.1
done
kill "$up" 2>/dev/null || true
wait "$up" 2>/dev/null || true
[ "$ok" = 1 ] || die "bench-fixed-upstream does not run through the loader"

size_kib=$(du -sk "$KIT" | cut -f1)
log "kit $KIT: $((size_kib / 1024)) MiB ($size_kib KiB): $(ls "$KIT/bin" | tr '\n' ' ')"
[ "$size_kib" -lt $((KIT_MAX_MIB * 1024)) ] || die "kit is $size_kib KiB, over ${KIT_MAX_MIB} MiB (carry allows 64 MiB)"
log "ok; on the device: bash bench/device/run.sh build/device-kit (carry [\"build/device-kit\"])"
