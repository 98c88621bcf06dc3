#!/usr/bin/env python3
"""dbinfo.py DB OUT.json [--sample 20000]: walk a MaxMind-format database once and write what
bench/scale/gen.py needs: continents, countries and subdivisions (ISO 3166-2, "CC-SUB") present,
each with its count of IPv4 networks (most frequent first), and a uniform sample of IPv4 networks
(reservoir) to draw ECS client subnets from. GeoLite2-City takes about a minute in Python, so
scale.sh caches the result per database (keyed by its size and mtime)."""
import argparse
import collections
import ipaddress
import json
import random

import maxminddb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("out")
    ap.add_argument("--sample", type=int, default=20000)
    a = ap.parse_args()
    rnd = random.Random(7)
    cont, ctry, sub = collections.Counter(), collections.Counter(), collections.Counter()
    sample, seen = [], 0
    v4 = ipaddress.ip_network("::ffff:0:0/96")
    with maxminddb.open_database(a.db) as r:
        ipv6db = r.metadata().ip_version == 6
        for net, rec in r:
            if net.version == 6:
                # IPv4 lives in ::/96 of an IPv6 database; skip the aliases and real IPv6
                if not ipv6db or net.prefixlen < 96 or int(net.network_address) >> 32 != 0:
                    continue
                net = ipaddress.ip_network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
            if not isinstance(rec, dict):
                continue
            c = (rec.get("continent") or {}).get("code")
            cc = (rec.get("country") or {}).get("iso_code")
            if c:
                cont[c] += 1
            if cc:
                ctry[cc] += 1
                for s in rec.get("subdivisions") or []:
                    if s.get("iso_code"):
                        sub[f"{cc}-{s['iso_code']}"] += 1
            if net.prefixlen <= 24 and (cc or c):
                seen += 1
                item = str(net)
                if len(sample) < a.sample:
                    sample.append(item)
                else:
                    j = rnd.randrange(seen)
                    if j < a.sample:
                        sample[j] = item
    json.dump({"continents": cont.most_common(), "countries": ctry.most_common(),
               "subdivisions": sub.most_common(), "networks_v4": sample}, open(a.out, "w"))
    print(f"{a.db}: {len(cont)} continents, {len(ctry)} countries, {len(sub)} subdivisions, "
          f"{seen} IPv4 networks (sampled {len(sample)})")


if __name__ == "__main__":
    main()
