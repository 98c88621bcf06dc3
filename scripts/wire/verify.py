#!/usr/bin/env python3
"""Check that dnspython reads DNSWire's encodings as the values DNSWire meant.

Usage: verify.py DIR. For each DIR/NAME.hex (bytes our encoder wrote) with DIR/NAME.expect
(the lines our test printed for the Message it encoded), dnspython parses the bytes and
wirefmt.lines() must equal the .expect lines. Exit 0 when all match, 1 otherwise.
The Swift test `dnspythonReadsOurEncodings` writes DIR and runs this.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wirefmt  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    d = sys.argv[1]
    names = sorted(n[:-4] for n in os.listdir(d) if n.endswith(".hex"))
    failed = 0
    for n in names:
        _, wire = wirefmt.read_hex(os.path.join(d, n + ".hex"))
        with open(os.path.join(d, n + ".expect")) as f:
            want = f.read().splitlines()
        try:
            got = wirefmt.lines(wire)
        except Exception as e:  # dnspython refused our bytes
            print(f"FAIL {n}: dnspython cannot parse: {e!r}")
            failed += 1
            continue
        # Names compare ignoring ASCII case (RFC 4343): compression points a later name at an
        # earlier one that differs only in case (dnspython and BIND do the same), so e.g. an SOA
        # owner "example.com." comes back as the question's "Example.com.". The question line,
        # which must echo the client's case, is compared exactly.
        exact_q = [l for l in got if l.startswith("question ")] == [l for l in want if l.startswith("question ")]
        if [l.lower() for l in got] != [l.lower() for l in want] or not exact_q:
            failed += 1
            print(f"FAIL {n}:")
            for line in sorted(set(want) - set(got)):
                print(f"  ours only:      {line}")
            for line in sorted(set(got) - set(want)):
                print(f"  dnspython only: {line}")
            if set(got) == set(want):
                print("  (same lines, different order)")
    print(f"dnspython verified {len(names) - failed}/{len(names)} DNSWire encodings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
