#!/usr/bin/env bash
# Markdown tables from bench/device/run.sh's cells.csv, in bash alone (the device has no python).
#
#   bash bench/device/report.sh CELLS.csv MACHINE.txt "SKIPPED CELL IDS" > device-results.md
set -uo pipefail
CSV=$1
MACHINE=$2
SKIPPED=${3:-}

ms() { [[ "$1" =~ ^[0-9]+$ ]] && printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)) || echo n/a; }
mib() { [[ "$1" =~ ^[0-9]+$ ]] && printf '%d.%d' $(($1 / 1024)) $((($1 % 1024) * 10 / 1024)) || echo n/a; }
num() { [[ "$1" =~ ^[0-9]+$ ]]; }
thousands() {  # 1234567 -> 1 234 567
    num "$1" || { echo "${1:-n/a}"; return; }
    local n=$1 out=""
    while [ ${#n} -gt 3 ]; do out=" ${n: -3}$out"; n=${n:0:${#n}-3}; done
    echo "$n$out"
}
ratio() {  # ratio A B -> A/B with two decimals
    num "$1" && num "$2" && [ "$2" -gt 0 ] || { echo n/a; return; }
    local r=$(($1 * 100 / $2))
    printf '%d.%02d' $((r / 100)) $((r % 100))
}

# Columns of cells.csv, by name.
IFS=, read -r -a HEAD <"$CSV"
declare -A COL
for i in "${!HEAD[@]}"; do COL[${HEAD[$i]}]=$i; done
ROWS=()
while IFS= read -r line; do ROWS+=("$line"); done < <(tail -n +2 "$CSV")
get() {  # get ROW-TEXT COLUMN
    local f
    IFS=, read -r -a f <<<"$1,"
    echo "${f[${COL[$2]}]:-}"
}

echo "# giosg-gateway on the device: audit under load, scaling against nginx"
echo
echo "Written by \`bench/device/run.sh\` (raw wrk outputs, /metrics and logs in \`raw/\`, every"
echo "figure in \`cells.csv\`)."
echo
echo '```'
while IFS= read -r line; do   # machine.txt up to its df and mounts sections
    [ "$line" = "--- df -T" ] && break
    [[ "$line" == ---* ]] || echo "$line"
done <"$MACHINE"
echo '```'
echo
[ -f "$(dirname "$CSV")/raw/smoke.txt" ] && { echo "Smoke check: $(cat "$(dirname "$CSV")/raw/smoke.txt")"; echo; }
for r in "${ROWS[@]}"; do
    [ "$(get "$r" target)" = direct ] &&
        echo "Ceiling of the setup, wrk straight to the fixed upstream: $(thousands "$(get "$r" rps)") req/s, p99 $(ms "$(get "$r" p99_us)") ms, non-2xx $(get "$r" non2xx)." && echo
done

echo "## a) The audit trail under load (\`audit.on_failure: \"deny\"\`)"
echo
LOAD=""
while IFS= read -r line; do [[ "$line" == load=* ]] && LOAD=${line#load=}; done <"$MACHINE"
echo "Load: ${LOAD:-see machine.txt}. Each row is a fresh gateway."
echo "*answered* = wrk's completed responses over warm-up and run; *counted* = the gateway's"
echo "\`giosg_gateway_requests_total\` (all codes) read from /metrics after wrk ended;"
echo "*records* = request records (lines without \`kind\`) in the audit files after the gateway's"
echo "graceful stop, rotated files included. Every request must have its record: *records −"
echo "counted* should be 0, and *records − answered* small and ≥ 0 (requests wrk cut off at its"
echo "end are audited as \`client_closed\` but not counted by wrk). *503* = responses with code"
echo "\`audit_unavailable\`."
echo
echo "| fsync | audit file on | workers | req/s | p99 ms | non-2xx | 503 | answered | counted | records | records − counted | records − answered | dropped | audit failures | fsyncs | rotations | VmHWM MiB | CPU µs/req | stop s | note |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
BAD=()
for fsync in batch never always; do
    for where in disk tmpfs; do
        for r in "${ROWS[@]}"; do
            [ "$(get "$r" target)" = gateway ] || continue
            [ "$(get "$r" fsync)" = "$fsync" ] || continue
            fs=$(get "$r" audit_fs)
            [[ "$fs" == "$where"* ]] || continue
            answered=n/a
            num "$(get "$r" warmup_requests)" && num "$(get "$r" requests)" &&
                answered=$(( $(get "$r" warmup_requests) + $(get "$r" requests) ))
            d1=$(get "$r" records_minus_gw_requests)
            dropped=$(get "$r" dropped)
            if [ "$d1" != 0 ] || { num "$dropped" && [ "$dropped" != 0 ]; } || [ "$(get "$r" killed)" = 1 ]; then
                BAD+=("$(get "$r" cell)")
            fi
            echo "| $fsync | $fs | $(get "$r" workers) | $(thousands "$(get "$r" rps)") | $(ms "$(get "$r" p99_us)") | $(get "$r" non2xx) | $(get "$r" gw_audit_unavailable) | $(thousands "$answered") | $(thousands "$(get "$r" gw_requests)") | $(thousands "$(get "$r" audit_records)") | ${d1:-n/a} | $(get "$r" records_minus_wrk_answered) | ${dropped:-n/a} | $(get "$r" audit_failures) | $(get "$r" fsyncs) | $(get "$r" rotations) | $(mib "$(get "$r" vmhwm_kib)") | $(get "$r" cpu_us_per_req) | $(get "$r" stop_s) | $(get "$r" note) |"
        done
    done
done
echo
if [ ${#BAD[@]} -eq 0 ]; then
    echo "**Every gateway cell: records = counted requests, nothing dropped, every gateway stopped gracefully.**"
else
    echo "**Cells where records ≠ counted requests, records were dropped, or the gateway had to be killed: ${BAD[*]}.**"
fi
echo

echo "## b) Scaling against nginx (gateway: \`fsync: batch\`, audit file on disk; nginx: buffered JSON access log on disk)"
echo
echo "Load: ${LOAD:-see machine.txt}. One fresh process per cell; each pass is one cell per target"
echo "and worker count (req/s and p99 of every pass, \"/\"-separated; the ratio compares the passes' means)."
echo
echo "| workers | gateway req/s | nginx req/s | gateway ÷ nginx | p99 ms gateway | p99 ms nginx | CPU µs/req gateway | CPU µs/req nginx | VmHWM MiB gateway / nginx |"
echo "|---|---|---|---|---|---|---|---|---|"
declare -A SEEN
for r in "${ROWS[@]}"; do
    w=$(get "$r" workers)
    t=$(get "$r" target)
    [ "$t" = nginx ] || continue
    [ -n "${SEEN[$w]:-}" ] && continue
    SEEN[$w]=1
    declare -A rps=() p99=() cpu=() hwm=() sum=() n=()
    for t in gateway nginx; do
        rps[$t]=""; p99[$t]=""; cpu[$t]=""; hwm[$t]=""; sum[$t]=0; n[$t]=0
        for q in "${ROWS[@]}"; do
            [ "$(get "$q" target)" = "$t" ] && [ "$(get "$q" workers)" = "$w" ] || continue
            if [ "$t" = gateway ]; then
                [ "$(get "$q" fsync)" = batch ] && [[ "$(get "$q" audit_fs)" == disk* ]] || continue
            fi
            v=$(get "$q" rps)
            rps[$t]+="${rps[$t]:+ / }$(thousands "$v")"
            p99[$t]+="${p99[$t]:+ / }$(ms "$(get "$q" p99_us)")"
            cpu[$t]+="${cpu[$t]:+ / }$(get "$q" cpu_us_per_req)"
            [ -z "${hwm[$t]}" ] && hwm[$t]=$(mib "$(get "$q" vmhwm_kib)")
            num "$v" && { sum[$t]=$((sum[$t] + v)); n[$t]=$((n[$t] + 1)); }
        done
    done
    ratio_s=n/a
    [ "${n[gateway]}" -gt 0 ] && [ "${n[nginx]}" -gt 0 ] &&
        ratio_s=$(ratio $((sum[gateway] / n[gateway])) $((sum[nginx] / n[nginx])))
    echo "| $w | ${rps[gateway]:-n/a} | ${rps[nginx]:-n/a} | $ratio_s | ${p99[gateway]:-n/a} | ${p99[nginx]:-n/a} | ${cpu[gateway]:-n/a} | ${cpu[nginx]:-n/a} | ${hwm[gateway]:-n/a} / ${hwm[nginx]:-n/a} |"
done
echo
if [ -n "$SKIPPED" ]; then
    echo "Skipped for the time budget: $SKIPPED."
    echo
fi
nfail=0
for r in "${ROWS[@]}"; do [ "$(get "$r" note)" = "did not start" ] && nfail=$((nfail + 1)); done
[ "$nfail" -gt 0 ] && echo "$nfail cell(s) did not start; see raw/*.stderr.txt." && echo
echo "Raw: \`cells.csv\` (every column), \`raw/<cell>.wrk.txt\`, \`raw/<cell>.metrics.txt\`, \`machine.txt\`, \`run.log\`."
