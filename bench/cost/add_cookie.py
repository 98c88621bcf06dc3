#!/usr/bin/env python3
"""add_cookie.py IN OUT: copy a dnsperf -B query file (2-byte length + DNS message), adding to
each query's OPT record a COOKIE option (RFC 7873, code 10) with an 8-byte client cookie only,
so every reply computes a fresh RFC 9018 server cookie (the costly case). Queries without OPT
are copied unchanged."""
import struct
import sys


def skip_name(m, i):
    while True:
        n = m[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def add_cookie(m, k):
    qd, an, ns, ar = struct.unpack("!HHHH", m[4:12])
    if qd != 1 or an or ns or ar != 1:
        return m
    i = skip_name(m, 12) + 4
    o = skip_name(m, i)
    if struct.unpack("!H", m[o:o + 2])[0] != 41:
        return m
    rdlen_at = o + 8
    rdlen = struct.unpack("!H", m[rdlen_at:rdlen_at + 2])[0]
    cookie = struct.pack("!HH", 10, 8) + struct.pack("!Q", 0x2464C4ABCF10C957 ^ k)
    return m[:rdlen_at] + struct.pack("!H", rdlen + len(cookie)) + m[rdlen_at + 2:] + cookie


def main():
    data = open(sys.argv[1], "rb").read()
    out = bytearray()
    i = k = 0
    while i + 2 <= len(data):
        (n,) = struct.unpack("!H", data[i:i + 2])
        m = add_cookie(bytes(data[i + 2:i + 2 + n]), k)
        out += struct.pack("!H", len(m)) + m
        i += 2 + n
        k += 1
    open(sys.argv[2], "wb").write(out)


if __name__ == "__main__":
    main()
