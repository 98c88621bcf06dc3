#!/usr/bin/env bash
# labcheck.sh - `make lab-check`: geodns and gdnsd, configured alike (the lab's scenario on
# GeoLite2-City), asked the same questions: the lab's dig conformance table (check.sh) for both,
# the rows where their answers differ, and the lab's ECS scope meter (scope_stats.py: scopes
# probed for unsafe width, resolver cache entries needed) for both.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
LAB=${LAB:-$ROOT/../shared/lab}
export LAB
OUT=${LABCHECK_OUT:-/tmp/geodns-labcheck}
rm -rf "$OUT"; mkdir -p "$OUT"
SCOPE_N=${SCOPE_N:-3000}

run_peer() {  # run_peer NAME PORT START_DIR
    local name=$1 port=$2 dir=$3
    bash "$dir/start.sh" "$port" > "$OUT/$name-start.log" 2>&1 || { echo "cannot start $name:"; tail "$OUT/$name-start.log"; return 1; }
    bash "$LAB/check.sh" "$port" "$name" > "$OUT/check-$name.md" 2>&1
    (cd "$LAB" && python3 scope_stats.py "$port" "$SCOPE_N") > "$OUT/scope-$name.txt" 2>&1
    bash "$dir/stop.sh" "$port" >> "$OUT/$name-start.log" 2>&1
    echo "== $name: $(grep -E 'PASS|FAIL' "$OUT/check-$name.md" | tail -n 1)"
    echo "   $(tail -n 1 "$OUT/scope-$name.txt")"
}

run_peer geodns 15304 "$HERE/geodns"
if command -v gdnsd >/dev/null; then
    run_peer gdnsd 15301 "$LAB/peers/gdnsd"
    # Rows whose rcode or answer differ (columns 3-4 of check.sh's table).
    python3 - "$OUT/check-geodns.md" "$OUT/check-gdnsd.md" <<'PY'
import sys
def rows(p):
    out = {}
    for line in open(p):
        if line.startswith("| ") and not line.startswith("| case") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            out[cells[0]] = cells
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
diff = [k for k in a if k in b and (a[k][2], a[k][3]) != (b[k][2], b[k][3])]
print(f"answers compared on {len([k for k in a if k in b])} rows; differing rcode/answer: {len(diff)}")
for k in diff:
    print(f"  {k}: geodns {a[k][2]} {a[k][3]} | gdnsd {b[k][2]} {b[k][3]}")
PY
else
    echo "(gdnsd not installed: make bench-deps installs the peers)"
fi
echo "tables and raw output: $OUT"
