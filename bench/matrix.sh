#!/usr/bin/env bash
# matrix.sh [ROUNDS] [SECONDS] - `make bench`: geodns against the lab's peers (gdnsd, Knot +
# mod-geoip, PowerDNS + geoip backend) on the scenario policy and GeoLite2-City, driven by the
# lab's dnsperf load (every query a different real client /24), interleaved A B C D A B C D so
# the machine's drift hits all alike, same core split for all (server CPU 1, dnsperf CPU 0).
# Then one round without ECS. Prints one table with ratios (bench/report.py). Every cell starts
# its server fresh and stops it, so VmHWM is per run; the time start.sh takes (start to first
# SOA answer) is recorded as startup.
set -uo pipefail
ROUNDS=${1:-2}
DUR=${2:-10}
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
LAB=${LAB:-$ROOT/../shared/lab}
export LAB
OUT=${MATRIX_OUT:-/tmp/geodns-bench/matrix-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
: > "$OUT/startup.tsv"
OTHER_MAX=${OTHER_MAX:-25}
RETRIES=${RETRIES:-2}
export BENCH_QUIET_MAX=${BENCH_QUIET_MAX:-30}
# name:port:start-dir
# echo = bench/echo/echo.c, the kernel floor (a C recvmmsg/sendmmsg loop returning each query
# with QR set, no DNS work): not a peer, the cost of the loopback UDP path itself.
PEERS=${MATRIX_PEERS:-"geodns:15304:$HERE/geodns gdnsd:15301:$LAB/peers/gdnsd knot:15302:$LAB/peers/knot pdns:15303:$LAB/peers/pdns echo:15309:$HERE/echo"}

cell() {  # cell NAME PORT DIR ECS ROUND
    local name=$1 port=$2 dir=$3 ecs=$4 round=$5 attempt t0 t1
    for attempt in $(seq 1 "$RETRIES"); do
        t0=$(date +%s.%N)
        if ! bash "$dir/start.sh" "$port" >> "$OUT/servers.log" 2>&1; then
            echo "start $name failed:" >&2; tail -n 20 "$OUT/servers.log" >&2; return 1
        fi
        t1=$(date +%s.%N)
        printf '%s\t%s\t%s\n' "$name" "$round" "$(echo "$t1 $t0" | awk '{printf "%.3f", $1-$2}')" >> "$OUT/startup.tsv"
        # Correctness first: a sample of scenario answers must be right, or the speed means nothing.
        if [ "$round" = 1 ] && [ "$ecs" = 1 ] && [ "$name" != echo ]; then
            bash "$LAB/check.sh" "$port" "$name" > "$OUT/check-$name.md" 2>&1
            tail -n 3 "$OUT/check-$name.md" | grep -E 'PASS|FAIL' | sed "s/^/  check $name: /"
        fi
        BENCH_ECS=$ecs BENCH_LABEL=$name BENCH_RESULTS=$OUT bash "$LAB/bench.sh" "$port" "$DUR" 2>> "$OUT/bench.err" | tee -a "$OUT/bench.log"
        bash "$dir/stop.sh" "$port" >> "$OUT/servers.log" 2>&1
        local last other noisy clean=yes
        last=$(tail -n 1 "$OUT/summary.tsv")
        other=$(awk -F'\t' 'NR==1 {for (i=1;i<=NF;i++) if ($i=="other_cpu_pct") c=i} END {print $c}' "$OUT/summary.tsv")
        noisy=$(awk -F'\t' 'NR==1 {for (i=1;i<=NF;i++) if ($i=="noisy") c=i} END {print $c}' "$OUT/summary.tsv")
        if [ "$noisy" = yes ] || awk -v o="$other" -v m="$OTHER_MAX" 'BEGIN {exit !(o > m)}'; then clean=no; fi
        printf '%s\t%s\t%s\t%s\n' "$round" "$attempt" "$clean" "$last" >> "$OUT/attempts.tsv"
        [ "$clean" = yes ] && return 0
        echo "  -> other CPU ${other}% > ${OTHER_MAX}% (or noisy): retry $attempt/$RETRIES"
    done
}

echo "bench matrix: $ROUNDS round(s) x {$PEERS}, ${DUR}s each, then 1 no-ECS round; out $OUT"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for r in $(seq 1 "$ROUNDS"); do
    for p in $PEERS; do
        IFS=: read -r name port dir <<< "$p"
        cell "$name" "$port" "$dir" 1 "$r"
    done
done
for p in $PEERS; do
    IFS=: read -r name port dir <<< "$p"
    cell "$name" "$port" "$dir" 0 noecs
done
python3 "$HERE/report.py" "$OUT" | tee "$OUT/report.md"
