#!/usr/bin/env bash
# callgrind.sh BIN CONFIG QUERIES COUNT - instructions per query per stage of the answer engine,
# fast path (Authority.FastPath) and general path (Authority.respond), from callgrind's exact
# instruction counts (stable on a noisy machine, unlike time). bench-engine runs its setup
# uninstrumented (--instr-atstart=no) and dumps one profile per stage loop (client requests,
# Sources/bench-engine/CCallgrind); each stage loop includes the stages before it, so a stage's
# own cost is the difference of neighbouring dumps. Prints a markdown table; keeps the dumps.
set -euo pipefail
BIN=${1:?usage: callgrind.sh BIN CONFIG QUERIES COUNT}
CONFIG=${2:?}
QUERIES=${3:?}
COUNT=${4:-20000}
OUT=${CALLGRIND_OUT:-/tmp/geodns-cost}
mkdir -p "$OUT"
rm -f "$OUT"/cg.*
# valgrind 3.19 cannot read the DWARF swiftc emits ("Possibly corrupted debuginfo file"):
# profile a copy without debug sections (symbols stay, so functions still have names).
objcopy --strip-debug "$BIN" "$OUT/bench-engine.nodebug"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/cg.%p" \
    "$OUT/bench-engine.nodebug" --callgrind --config "$CONFIG" --queries "$QUERIES" --count "$COUNT" \
    > "$OUT/run.log" 2> "$OUT/valgrind.log" || { tail -20 "$OUT/valgrind.log" >&2; exit 1; }
python3 - "$OUT" "$COUNT" <<'PY'
import glob, re, sys
out, n = sys.argv[1], int(sys.argv[2])
stages = {}
for f in glob.glob(f"{out}/cg.*.*"):
    text = open(f).read()
    m = re.search(r"^desc: Trigger: Client Request: (\S+)", text, re.M)
    s = re.search(r"^summary: (\d+)", text, re.M)
    if m and s:
        stages[m.group(1)] = int(s.group(1)) / n
def table(path, names, title):
    rows = [(s, stages.get(f"{path}-{s}")) for s in names]
    print(f"\n{title}")
    print("| stage | instructions/query (cumulative) | instructions/query (this stage) |")
    print("|---|---|---|")
    prev = 0.0
    for s, v in rows:
        if v is None:
            continue
        print(f"| {s} | {v:.0f} | {v - prev:.0f} |")
        prev = v
    return prev
fast = table("fast", ["parse", "client", "lookup", "select", "encode"], "AFTER - fast path (Authority.FastPath.respond, express tier first)")
general = table("general", ["parse", "client", "answer", "encode"], "BEFORE - general path (Authority.respond)")
if fast and general:
    print(f"\ntotal: general {general:.0f} -> fast {fast:.0f} instructions/query ({general / fast:.1f}x fewer)")
PY
