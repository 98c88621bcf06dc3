#!/usr/bin/env python3
"""Independent MaxMind DB readers for the GeoIP tests.

usage: oracle.py python|mmdblookup|json DB < addresses
Prints one line per input address:
    address <TAB> prefix <TAB> continent <TAB> country <TAB> subdivisions (comma-separated)
with "-" for absent values. The prefix is in the address's own family (IPv4 prefixes for IPv4
addresses looked up in an IPv6 tree), as Python maxminddb's get_with_prefix_len reports it.

`python` uses the maxminddb package (`json` prints its whole decoded record instead); `mmdblookup` runs Debian's mmdblookup -v once per address
(4 in parallel) and parses its dump, so libmaxminddb's own tool is the oracle.
"""
import concurrent.futures
import ipaddress
import json
import re
import subprocess
import sys


def fields(record):
    if not isinstance(record, dict):
        return "-", "-", "-"
    continent = (record.get("continent") or {}).get("code") or "-"
    country = (record.get("country") or {}).get("iso_code") or "-"
    subs = [s.get("iso_code") for s in record.get("subdivisions") or [] if s.get("iso_code")]
    return continent, country, ",".join(subs) or "-"


def python_oracle(db, addresses):
    import maxminddb
    reader = maxminddb.open_database(db)
    for address in addresses:
        record, prefix = reader.get_with_prefix_len(address)
        yield address, prefix, record


SCALAR = re.compile(r"^(.*) <(\w+)>$")


def parse_dump(lines):
    """Parses mmdblookup's indented dump into Python values."""
    pos = 0

    def value():
        nonlocal pos
        line = lines[pos].strip()
        pos += 1
        if line == "{":
            result = {}
            while lines[pos].strip() != "}":
                key = json.loads(lines[pos].strip().rstrip(":").rstrip().rstrip(":"))
                pos += 1
                result[key] = value()
            pos += 1
            return result
        if line == "[":
            result = []
            while lines[pos].strip() != "]":
                result.append(value())
            pos += 1
            return result
        match = SCALAR.match(line)
        if not match:
            raise ValueError("unexpected mmdblookup line: %r" % line)
        text, kind = match.groups()
        if kind == "utf8_string":
            return json.loads(text)
        return text

    return value()


def mmdblookup_one(db, ipv6_tree, address):
    out = subprocess.run(["mmdblookup", "-v", "--file", db, "--ip", address],
                         capture_output=True, text=True)
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    prefix = None
    record = None
    for i, line in enumerate(lines):
        if line.strip().startswith("Record prefix length:"):
            prefix = int(line.split(":")[1])
            rest = lines[i + 1:]
            if rest and rest[0].strip() == "{":
                record = parse_dump(rest)
            break
    if prefix is not None and ipv6_tree and ipaddress.ip_address(address).version == 4:
        prefix = max(0, prefix - 96)
    return address, prefix, record


def mmdblookup_oracle(db, addresses):
    import maxminddb
    ipv6_tree = maxminddb.open_database(db).metadata().ip_version == 6
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        yield from pool.map(lambda a: mmdblookup_one(db, ipv6_tree, a), addresses)


def main():
    mode, db = sys.argv[1], sys.argv[2]
    addresses = [l.strip() for l in sys.stdin if l.strip()]
    if mode == "json":
        # The whole record as Python maxminddb decodes it, as canonical JSON.
        for address, prefix, record in python_oracle(db, addresses):
            text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=lambda v: "BYTES")
            print("%s\t%s\t%s" % (address, prefix, text))
        return
    oracle = python_oracle if mode == "python" else mmdblookup_oracle
    for address, prefix, record in oracle(db, addresses):
        continent, country, subs = fields(record)
        print("%s\t%s\t%s\t%s\t%s" % (address, "-" if prefix is None else prefix, continent, country, subs))


if __name__ == "__main__":
    main()
