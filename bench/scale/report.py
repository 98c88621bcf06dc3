#!/usr/bin/env python3
"""report.py RESULTS.tsv: the `make bench-scale` table, and the shape of the growth of each column
with the number of steered names, named from the figures.

With v10, v1k, v100k a column's values at 10, 1,000 and 100,000 names (same database and regions)
and "near" meaning within 20% (30% for QPS and CPU/query, which are noisy on the shared box):
  constant     all three near, or 1k and 100k near (saturated: tables are bounded by the 20
               distinct mappings)
  linear       the 1k point sits in the first tenth of the way from v10 to v100k (a + b N puts
               it at 1%: a large constant part, e.g. the database walk, is allowed); the slope
               per added name between 1k and 100k is printed
  logarithmic  it sits half way (a + b log N: both hundredfold steps add the same)
  sublinear    anything between
The region kind (continent -> country -> subdivision) and the database (demo -> GeoLite2-City)
are shown as ratios at 1,000 names."""
import csv
import sys

COLS = [  # key, title, unit per name for the slope, noisy
    ("check_s", "check s", "ms", False, 1000),
    ("check_cpu_s", "check CPU s", "ms", False, 1000),
    ("check_mib", "check MiB", "KiB", False, 1024),
    ("compile_ms", "compile ms", "µs", False, 1000),
    ("tables", "tables", "", False, 1),
    ("table_runs", "table runs", "", False, 1),
    ("start_s", "start s", "ms", False, 1000),
    ("start_cpu_s", "start CPU s", "ms", False, 1000),
    ("qps", "QPS", "", True, 1),
    ("cpu_us", "µs CPU/query", "ns", True, 1000),
    ("lost", "lost", "", True, 1),
    ("rss_mib", "RSS MiB", "KiB", False, 1024),
    ("hwm_mib", "VmHWM MiB", "KiB", False, 1024),
    ("reload_ms", "reload ms", "µs", False, 1000),
    ("reload_cpu_s", "reload CPU s", "ms", False, 1000),
    ("reload_hwm_mib", "HWM after reload MiB", "KiB", False, 1024),
]


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def shape(v10, v1k, v100k, noisy):
    """Names the growth from three points. f = (v1k - v10) / (v100k - v10) is where the 1k point
    sits between the others: a straight line a + b N puts it at 0.0099, a + b log N at 0.5."""
    if None in (v10, v1k, v100k):
        return "?", None
    tol = 0.3 if noisy else 0.2
    slope = (v100k - v1k) / 99000
    near = lambda a, b: abs(a - b) <= tol * max(abs(a), abs(b), 1e-9)
    if near(v10, v100k) and near(v10, v1k):
        return "constant", slope
    if near(v1k, v100k) or (noisy and near(v10, v100k)):
        return "constant", slope   # from 1k on (tables: bounded by the distinct mappings)
    f = (v1k - v10) / (v100k - v10)
    if f < 0.1:
        return "linear", slope
    if 0.25 <= f <= 0.75:
        return "logarithmic", slope
    return "sublinear", slope


def main():
    rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
    print("\n| db | regions | names | check s (CPU s) | check MiB | compile ms (walk) | db networks | region runs | tables "
          "| table runs | start s (CPU s) | QPS | µs CPU/q | lost | RSS / VmHWM MiB | reload ms (CPU s) | HWM after reload MiB | load |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print(f"| {r['db']} | {r['regions']} ({r['nregions']}) | {int(r['names']):,} | {r['check_s']} ({r['check_cpu_s']}) "
              f"| {r['check_mib']} | {r['compile_ms']} ({r['walk_ms']}) | {r['db_networks']} | {r['region_runs']} | {r['tables']} "
              f"| {r['table_runs']} | {r['start_s']} ({r['start_cpu_s']}) | {r['qps']} | {r['cpu_us']} | {r['lost']} "
              f"| {r['rss_mib']} / {r['hwm_mib']} | {r['reload_ms']} ({r['reload_cpu_s']}) | {r['reload_hwm_mib']} | {r['load']} |")
    cells = {(r["db"], r["regions"], int(r["names"])): r for r in rows}
    groups = sorted({(r["db"], r["regions"]) for r in rows})
    print("\nGrowth with the number of steered names (10 -> 1,000 -> 100,000), per database x regions;")
    print("x = value at 100k / value at 1k; slope = per added name between 1k and 100k:\n")
    print("| column | shape | x 100k/1k | slope per name | by group |")
    print("|---|---|--:|--:|---|")
    for key, title, unit, noisy, scale in COLS:
        shapes, ratios, slopes, detail = [], [], [], []
        for g in groups:
            vs = [num(cells.get((*g, n), {}).get(key)) for n in (10, 1000, 100000)]
            s, slope = shape(*vs, noisy)
            if s == "?":
                continue
            shapes.append(s)
            if vs[1]:
                ratios.append(vs[2] / vs[1])
            slopes.append(slope)
            detail.append(f"{g[0]}/{g[1][:4]} {s[:3]}")
        if not shapes:
            continue
        main_shape = max(set(shapes), key=shapes.count)
        agree = f"{shapes.count(main_shape)}/{len(shapes)}"
        ratio = f"{min(ratios):.3g}-{max(ratios):.3g}" if ratios else "-"
        lin = [sl * scale for sl, sh in zip(slopes, shapes) if sh == "linear"]
        sl_text = (f"{min(lin):+.3g}..{max(lin):+.3g} {unit}".strip() if len(lin) > 1 else f"{lin[0]:+.3g} {unit}".strip()) \
            if main_shape == "linear" and lin else "-"
        print(f"| {title} | {main_shape} ({agree}) | {ratio} | {sl_text} | {', '.join(detail)} |")
    # region kind and database at 1,000 names
    kinds = [k for k in ("continent", "country", "subdivision") if any(r["regions"] == k for r in rows)]
    dbs = [d for d in ("demo", "geolite2") if any(r["db"] == d for r in rows)]
    print("\nAt 1,000 names: region kind (ratio to continent) and database (GeoLite2-City / demo):\n")
    print("| column | " + " | ".join(f"{d}: " + " / ".join(kinds) for d in dbs) + " | GeoLite2/demo (per kind) |")
    print("|---|" + "---|" * (len(dbs) + 1))
    for key, title, *_ in COLS:
        parts = []
        for d in dbs:
            base = num(cells.get((d, kinds[0], 1000), {}).get(key)) if kinds else None
            vals = [num(cells.get((d, k, 1000), {}).get(key)) for k in kinds]
            parts.append(" / ".join("-" if v is None or not base else f"x{v / base:.2g}" for v in vals))
        dbr = []
        for k in kinds:
            a = num(cells.get(("demo", k, 1000), {}).get(key)); b = num(cells.get(("geolite2", k, 1000), {}).get(key))
            dbr.append("-" if not a or b is None else f"x{b / a:.2g}")
        print(f"| {title} | " + " | ".join(parts) + " | " + " / ".join(dbr) + " |")


if __name__ == "__main__":
    main()
