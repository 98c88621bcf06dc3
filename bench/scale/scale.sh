#!/usr/bin/env bash
# scale.sh - `make bench-scale`: how load time, RSS, engine cost and QPS grow with the policy:
# 10 / 1,000 / 100,000 steered names x continent (7) / country (~250) / subdivision (~100)
# regions x the demo database / GeoLite2-City (bench/scale/gen.py writes each policy and a
# matching query file). Per cell:
#   load s, peak RSS   `geodns check` (YAML + database walk + tables + fast-path plan is in serve)
#   plan ms, engine ns bench-engine: fast-path plan build, ns/query on 20k queries (fast path)
#   QPS, µs CPU/q, RSS the daemon pinned like the lab's cells, dnsperf for SCALE_SECONDS (default 5)
#                      (SCALE_DNSPERF=0 skips it)
# Env: SCALE_NAMES ("10 1000 100000"), SCALE_REGIONS ("continent country subdivision"),
#      SCALE_DBS ("demo geolite2"), GEODNS_BIN, BENCH_ENGINE_BIN, SCALE_PORT (15306).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LAB=${LAB:-$ROOT/../shared/lab}
. "$LAB/env.sh"
. "$LAB/peers/lib.sh"
BIN=${GEODNS_BIN:-$ROOT/.build-perf/release/geodns}
ENGINE=${BENCH_ENGINE_BIN:-$ROOT/.build-perf/release/bench-engine}
OUT=${SCALE_OUT:-/tmp/geodns-scale}
PORT=${SCALE_PORT:-15306}
SECS=${SCALE_SECONDS:-5}
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
printf 'db\tregions\tnames\tload_s\tpeak_rss_mib\tplan_ms\tengine_ns\tqps\tcpu_us_per_q\trss_mib\tvmhwm_mib\tstart_s\n' > "$RESULTS"
db_path() { case $1 in demo) echo "$ROOT/data/geodns-demo.mmdb" ;; geolite2) echo "$GEOLITE2_CITY" ;; esac; }

for db in ${SCALE_DBS:-demo geolite2}; do
  for kind in ${SCALE_REGIONS:-continent country subdivision}; do
    for n in ${SCALE_NAMES:-10 1000 100000}; do
      cfg=$OUT/$db-$kind-$n.yaml; q=$OUT/$db-$kind-$n.bin
      python3 "$HERE/gen.py" "$cfg" "$q" --names "$n" --regions "$kind" --db "$(db_path "$db")" --count 20000
      read -r load rss < <( { /usr/bin/time -f '%e %M' "$BIN" check "$cfg" > "$OUT/check.log" 2>&1; } 2>&1 | tail -1 )
      eng=$("$ENGINE" --config "$cfg" --queries "$q" --count 20000 --rounds 3 --path fast 2>&1)
      plan=$(echo "$eng" | sed -n 's/.*built in \([0-9.]*\) ms.*/\1/p')
      ns=$(echo "$eng" | awk -F'|' '/^\| encode/ {gsub(/ /, "", $3); print $3}')
      qps=-; cpu=-; rssend=-; hwm=-; start=-
      if [ "${SCALE_DNSPERF:-1}" = 1 ]; then
        check_port_free "$PORT" || exit 1
        t0=$(date +%s.%N)
        taskset -c "$SERVER_CPU" "$BIN" serve --config "$cfg" --listen "127.0.0.1:$PORT" --threads 1 --log-level notice \
            > "$OUT/serve.log" 2>&1 < /dev/null &
        pid=$!
        # wait for the first answer (max ~100 s for the biggest policies)
        for _ in $(seq 1 500); do
          dig @127.0.0.1 -p "$PORT" n0.example.com A +time=1 +tries=1 +short 2>/dev/null | grep -q . && break
          kill -0 "$pid" 2>/dev/null || break
          sleep 0.2
        done
        start=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.2f", $1-$2}')
        if kill -0 "$pid" 2>/dev/null; then
          pin_all_threads "$pid" "$SERVER_CPU" || true
          c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
          res=$(taskset -c "$CLIENT_CPU" timeout $((SECS + 20)) dnsperf -B -d "$q" -s 127.0.0.1 -p "$PORT" -l "$SECS" -q 100 -t 2 2>&1)
          c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
          qps=$(echo "$res" | awk '/Queries per second/ {printf "%.0f", $4}')
          done_q=$(echo "$res" | awk '/Queries completed/ {print $3}')
          cpu=$(awk -v t=$((c1 - c0)) -v q="${done_q:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN {if (q > 0) printf "%.2f", t / hz * 1e6 / q; else print "-"}')
          rssend=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$pid/status")
          hwm=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$pid/status")
          kill "$pid"; wait "$pid" 2>/dev/null
        fi
      fi
      printf '%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$db" "$kind" "$n" "$load" "$(echo "$rss" | awk '{print $1/1024}')" \
          "${plan:--}" "${ns:--}" "$qps" "$cpu" "$rssend" "$hwm" "$start" | tee -a "$RESULTS"
    done
  done
done
python3 - "$RESULTS" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print("\n| database | regions | steered names | load s (check) | peak RSS MiB (check) | fast-path plan ms | engine ns/query | QPS | server µs CPU/query | daemon RSS / VmHWM MiB | start→first answer s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['db']} | {r['regions']} | {r['names']} | {r['load_s']} | {r['peak_rss_mib']} | {r['plan_ms']} | {r['engine_ns']} | {r['qps']} | {r['cpu_us_per_q']} | {r['rss_mib']} / {r['vmhwm_mib']} | {r['start_s']} |")
PY
