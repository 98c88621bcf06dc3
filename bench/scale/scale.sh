#!/usr/bin/env bash
# scale.sh - `make bench-scale` (issue 5, "Scale"): how load time, reload time, RSS and QPS grow
# with the policy. Cells: steered names (10 / 1,000 / 100,000) x region kind (continent: 7,
# country: ~250, subdivision: 300 most common in GeoLite2) x database (demo / GeoLite2-City);
# bench/scale/gen.py writes each policy (20 distinct region->pool mappings, 16 regions each)
# and a dnsperf query file over its names with ECS subnets drawn from the database.
# Per cell:
#   check s / MiB      wall time and max RSS of `geodns check` (YAML, database walk, tables)
#   report             its compile report: database networks, region runs, decisions, tables
#   start s            daemon exec -> first answer
#   QPS, µs CPU/q      the daemon (--threads 1) pinned to $SERVER_CPU, dnsperf pinned to
#                      $CLIENT_CPU (lab split), SCALE_RUNS (2) runs of SCALE_SECONDS (4) each;
#                      the run with the least server CPU (/proc) per query is kept
#   RSS / HWM MiB      steady VmRSS after the load, VmHWM (peak) before the reload
#   reload ms, HWM     SIGHUP -> "policy reloaded ... ms=" in the log; VmHWM after it (two
#                      policies are live while the new one compiles)
#   load               1-minute load average when the cell ran (2-core box, others compiling)
# Env: SCALE_QUICK=1 (countries x both databases only), SCALE_NAMES, SCALE_REGIONS, SCALE_DBS,
#      SCALE_SECONDS, SCALE_RUNS, SCALE_PORT (15305-15309, default first free from 15307), GEODNS_BIN,
#      SCALE_OUT (results, default /tmp/geodns-scale), SCALE_CACHE (database walks, /tmp/geodns-scale).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LAB=${LAB:-$ROOT/../shared/lab}
. "$LAB/env.sh"
. "$LAB/peers/lib.sh"
BIN=${GEODNS_BIN:-$ROOT/.build-scale/release/geodns}
OUT=${SCALE_OUT:-/tmp/geodns-scale}
SECS=${SCALE_SECONDS:-4}
RUNS=${SCALE_RUNS:-2}
if [ "${SCALE_QUICK:-0}" = 1 ]; then
  NAMES=${SCALE_NAMES:-10 1000 100000}; REGIONS=${SCALE_REGIONS:-country}; DBS=${SCALE_DBS:-demo geolite2}
else
  NAMES=${SCALE_NAMES:-10 1000 100000}; REGIONS=${SCALE_REGIONS:-continent country subdivision}; DBS=${SCALE_DBS:-demo geolite2}
fi
[ -x "$BIN" ] || { echo "scale.sh: no geodns binary at $BIN" >&2; exit 1; }
CACHE=${SCALE_CACHE:-/tmp/geodns-scale}   # the database walks (GeoLite2: a minute or more), kept across runs
mkdir -p "$OUT" "$CACHE"

PORT=${SCALE_PORT:-}
if [ -z "$PORT" ]; then
  for p in 15307 15308 15309 15305 15306; do check_port_free "$p" 2>/dev/null && { PORT=$p; break; }; done
fi
case "$PORT" in 1530[5-9]) ;; *) echo "scale.sh: no free port in 15305-15309" >&2; exit 1 ;; esac

PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null; fi
  PID=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

db_path() { case $1 in demo) echo "$ROOT/data/geodns-demo.mmdb" ;; geolite2) echo "$GEOLITE2_CITY" ;; esac; }
# The database walk (countries present, a sample of networks for ECS) is cached per database.
db_info() {
  local db=$1 path stamp info
  path=$(db_path "$db"); stamp=$(stat -c '%s-%Y' "$path")
  info=$CACHE/dbinfo-$db-$stamp.json
  [ -s "$info" ] || python3 "$HERE/dbinfo.py" "$path" "$info" >&2 || return 1
  echo "$info"
}
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
status_mib() { awk -v k="$2:" '$1 == k {printf "%.0f", $2/1024}' "/proc/$1/status"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

RESULTS=$OUT/results.tsv
printf 'db\tregions\tnames\tnregions\tcheck_s\tcheck_cpu_s\tcheck_mib\tcompile_ms\twalk_ms\tdb_networks\tregion_runs\tdecisions\ttables\ttable_runs\tstart_s\tstart_cpu_s\tqps\tcpu_us\tlost\trss_mib\thwm_mib\treload_ms\treload_cpu_s\treload_hwm_mib\tload\n' > "$RESULTS"
echo "scale.sh: $BIN, port $PORT, ${RUNS}x ${SECS}s dnsperf per cell, server cpu $SERVER_CPU, client cpu $CLIENT_CPU; $(nproc) cores; load $(load1) at $(date -u +%H:%M:%S)Z"

for db in $DBS; do
  info=$(db_info "$db") || { echo "scale.sh: cannot read $db" >&2; exit 1; }
  for kind in $REGIONS; do
    for n in $NAMES; do
      cell="$db-$kind-$n"; cfg=$OUT/$cell.yaml; q=$OUT/$cell.bin
      python3 "$HERE/gen.py" "$cfg" "$q" --names "$n" --regions "$kind" --db "$(db_path "$db")" --dbinfo "$info" > /dev/null || exit 1
      nregions=$(grep -c '^  r[0-9]*: {' "$cfg")
      cload=$(load1)
      # -- load time: geodns check (exits 0 also with warnings; some regions may go unused at N=10)
      /usr/bin/time -f '%e %M %U %S' -o "$OUT/$cell.time" timeout 600 "$BIN" check "$cfg" > "$OUT/$cell.check" 2>&1
      read -r check_s check_kb cu cs < <(tail -1 "$OUT/$cell.time")
      check_cpu=$(echo "$cu $cs" | awk '{printf "%.2f", $1 + $2}')
      report=$(grep -m1 'compiled in' "$OUT/$cell.check")
      [ -n "$report" ] || { echo "scale.sh: $cell: check failed:" >&2; tail -5 "$OUT/$cell.check" >&2; continue; }
      read -r compile_ms walk_ms nets rruns decisions tables truns < <(echo "$report" | python3 -c '
import re, sys
s = sys.stdin.read()
m = re.search(r"compiled in ([\d.]+) ms \(database walk ([\d.]+) ms\): (\d+) database networks -> region table (\d+) IPv4 \+ (\d+) IPv6 runs; (\d+) steered decisions share (\d+) tables \((\d+) IPv4 \+ (\d+) IPv6 runs\)", s)
g = m.groups()
print(g[0], g[1], g[2], int(g[3]) + int(g[4]), g[5], g[6], int(g[7]) + int(g[8]))')
      # -- the daemon: start, load, steady RSS, reload
      check_port_free "$PORT" || exit 1
      log=$OUT/$cell.serve.log
      t0=$(date +%s.%N)
      taskset -c "$SERVER_CPU" "$BIN" serve --config "$cfg" --listen "127.0.0.1:$PORT" --threads 1 --log-level notice \
          > "$log" 2>&1 < /dev/null &
      PID=$!
      start_s=-; start_cpu=-
      for _ in $(seq 1 1500); do   # at most ~300 s
        kill -0 "$PID" 2>/dev/null || break
        if dig @127.0.0.1 -p "$PORT" example.com SOA +norec +time=1 +tries=1 +short 2>/dev/null | grep -q hostmaster; then
          start_s=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.2f", $1 - $2}')
          start_cpu=$(ticks "$PID" | awk -v hz="$HZ" '{printf "%.2f", $1 / hz}'); break
        fi
        sleep 0.2
      done
      if [ "$start_s" = - ]; then echo "scale.sh: $cell: daemon did not answer" >&2; tail -5 "$log" >&2; cleanup; continue; fi
      pin_all_threads "$PID" "$SERVER_CPU" || true
      sleep 0.5
      # SCALE_RUNS dnsperf runs; the one with the least server CPU per query is kept (the least
      # disturbed by other tenants on this shared box)
      qps=-; cpu=-; lost=-; : > "$OUT/$cell.dnsperf"
      for run in $(seq 1 "$RUNS"); do
        c0=$(ticks "$PID")
        res=$(taskset -c "$CLIENT_CPU" timeout $((SECS + 30)) dnsperf -B -d "$q" -s 127.0.0.1 -p "$PORT" -l "$SECS" -q 100 -t 2 2>&1)
        c1=$(ticks "$PID")
        echo "$res" >> "$OUT/$cell.dnsperf"
        r_qps=$(echo "$res" | awk '/Queries per second/ {printf "%.0f", $4}')
        done_q=$(echo "$res" | awk '/Queries completed/ {print $3}')
        r_lost=$(echo "$res" | awk '/Queries lost/ {print $3}')
        r_cpu=$(awk -v t=$((c1 - c0)) -v q="${done_q:-0}" -v hz="$HZ" 'BEGIN {if (q > 0) printf "%.2f", t / hz * 1e6 / q; else print "-"}')
        if [ "$r_cpu" != - ] && { [ "$cpu" = - ] || awk -v a="$r_cpu" -v b="$cpu" 'BEGIN {exit !(a < b)}'; }; then
          qps=$r_qps; cpu=$r_cpu; lost=$r_lost
        fi
      done
      rss=$(status_mib "$PID" VmRSS); hwm=$(status_mib "$PID" VmHWM)
      # reload: SIGHUP, wait (<= 300 s) for the log line
      before=$(grep -c 'policy reloaded' "$log")
      r0=$(ticks "$PID")
      kill -HUP "$PID"
      reload_ms=-; reload_cpu=-
      for _ in $(seq 1 3000); do
        if [ "$(grep -c 'policy reloaded' "$log")" -gt "$before" ]; then
          reload_ms=$(grep 'policy reloaded' "$log" | tail -1 | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
          reload_cpu=$(awk -v t0="$r0" -v hz="$HZ" '{printf "%.2f", ($14 + $15 - t0) / hz}' "/proc/$PID/stat"); break
        fi
        grep -q 'reload refused' "$log" && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
      done
      sleep 0.3
      rhwm=$(status_mib "$PID" VmHWM)
      cleanup
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$db" "$kind" "$n" "$nregions" "$check_s" "$check_cpu" "$(echo "$check_kb" | awk '{print $1/1024}')" "$compile_ms" "$walk_ms" \
        "$nets" "$rruns" "$decisions" "$tables" "$truns" "$start_s" "$start_cpu" "${qps:--}" "$cpu" "${lost:--}" "$rss" "$hwm" \
        "${reload_ms:--}" "$reload_cpu" "$rhwm" "$cload" | tee -a "$RESULTS"
    done
  done
done
python3 "$HERE/report.py" "$RESULTS"
