#!/usr/bin/env python3
"""report.py MATRIX_DIR - the `make bench` table: per server and mode, medians over rounds of
QPS, latency, lost queries, server CPU per query, peak RSS, startup time, and geodns's ratio
to each peer. Reads summary.tsv/attempts.tsv (lab bench.sh format) and startup.tsv."""
import statistics
import sys
from collections import OrderedDict, defaultdict

d = sys.argv[1]
with open(f"{d}/summary.tsv") as f:
    header = f.readline().rstrip("\n").split("\t")
kept = OrderedDict()
with open(f"{d}/attempts.tsv") as f:
    for line in f:
        rnd, att, clean, *vals = line.rstrip("\n").split("\t")
        r = dict(zip(header, vals))
        r.update(round=rnd, clean=clean == "yes")
        k = (r["label"], r["mode"], rnd)
        if k not in kept or not kept[k]["clean"]:
            kept[k] = r
startup = defaultdict(list)
with open(f"{d}/startup.tsv") as f:
    for line in f:
        name, rnd, secs = line.split()
        startup[name].append(float(secs))

groups = defaultdict(list)
for (label, mode, rnd), r in kept.items():
    groups[(label, mode)].append(r)

def med(rs, k):
    return statistics.median(float(r[k]) for r in rs)

def us_per_q(r):
    return 1e6 * float(r["server_cpu_pct"]) / 100.0 / max(float(r["qps"]), 1)

rows = {}
for (label, mode), rs in groups.items():
    rows[(label, mode)] = dict(
        runs=len(rs), noisy=not all(r["clean"] for r in rs), qps=med(rs, "qps"), avg=med(rs, "avg_ms"),
        p99=med(rs, "p99_ms"), lost=sum(int(r["lost"]) for r in rs),
        cpu=statistics.median(us_per_q(r) for r in rs),
        rss=max(int(r["vmhwm_kb"]) for r in rs) / 1024,
        anon=statistics.median(int(r.get("rssanon_kb") or 0) for r in rs) / 1024,
        file=statistics.median(int(r.get("rssfile_kb") or 0) for r in rs) / 1024,
        other=statistics.median(float(r.get("other_cpu_pct") or 0) for r in rs),
        start=statistics.median(startup.get(label, [float("nan")])))

print("| server | mode | runs | QPS | avg ms | p99 ms | lost | server µs CPU/query | other CPU % | peak RSS MiB | RSS at end anon/file MiB | start→first answer s | geodns QPS ratio | geodns CPU/query ratio |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for (label, mode), x in rows.items():
    ours = rows.get(("geodns", mode))
    qr = f"{ours['qps'] / x['qps']:.2f}x" if ours and label != "geodns" else "-"
    cr = f"{ours['cpu'] / x['cpu']:.2f}x" if ours and label != "geodns" else "-"
    print(f"| {label} | {mode} | {x['runs']}{' *' if x['noisy'] else ''} | {x['qps']:.0f} | {x['avg']:.3f} | {x['p99']:.3f} | "
          f"{x['lost']} | {x['cpu']:.2f} | {x['other']:.0f} | {x['rss']:.0f} | {x['anon']:.0f}/{x['file']:.0f} | {x['start']:.2f} | {qr} | {cr} |")
for mode in ("ecs", "noecs"):
    ours, floor = rows.get(("geodns", mode)), rows.get(("echo", mode))
    if ours and floor:
        print(f"\n{mode}: geodns {ours['cpu']:.2f} µs CPU/query = echo floor {floor['cpu']:.2f} + {ours['cpu'] - floor['cpu']:.2f} µs "
              f"({100 * (ours['cpu'] - floor['cpu']) / ours['cpu']:.0f}% of geodns's CPU is above the kernel floor)", end="")
print("\n\n(* = a run stayed noisy: other tenants' CPU above the threshold. QPS ratio > 1 and CPU ratio < 1 favour geodns;"
      " geodns-nio = `--udp-engine nio`; echo = bench/echo/echo.c, the kernel floor: a C recvmmsg/sendmmsg loop that returns each query with QR set and does no DNS work. other CPU = busy ticks of both cores minus server and client, % of one core.)")
