#!/usr/bin/env python3
"""Write every golden and malformed .hex fixture as a raw binary file into DIR (a libFuzzer seed corpus).

Usage: corpus.py DIR
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wirefmt  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "DNSWireTests", "Fixtures")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for sub in ("golden", "malformed"):
        d = os.path.join(FIXTURES, sub)
        for name in sorted(os.listdir(d)):
            if name.endswith(".hex"):
                _, wire = wirefmt.read_hex(os.path.join(d, name))
                with open(os.path.join(out, f"{sub}-{name[:-4]}.bin"), "wb") as f:
                    f.write(wire)
                n += 1
    print(f"seeded {n} inputs into {out}")


if __name__ == "__main__":
    main()
