#!/usr/bin/env python3
"""Generate the malformed-input corpus in Tests/DNSWireTests/Fixtures/malformed.

Each NAME.hex: first line says what is wrong, second line `# expect: KIND` where KIND is the
disposition DNSWire must give (drop, formerr, notimp, badvers, notauth, or query for the valid
controls). The Swift tests replay every file through Query.parse; `make fuzz-wire` seeds the
fuzzer with them. Built byte by byte: no DNS library writes these on purpose.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
import wirefmt  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "DNSWireTests", "Fixtures", "malformed")


def header(qid=0x4242, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def name(*labels):
    out = b""
    for l in labels:
        b = l.encode() if isinstance(l, str) else l
        out += bytes([len(b)]) + b
    return out + b"\x00"


WWW = name("www", "example", "com")
QA = WWW + struct.pack("!HH", 1, 1)


def opt(payload=1232, ext=0, version=0, flags=0, options=b"", owner=b"\x00"):
    return owner + struct.pack("!HHBBHH", 41, payload, ext, version, flags, len(options)) + options


def option(code, data):
    return struct.pack("!HH", code, len(data)) + data


def ecs(family, source, scope, address):
    return option(8, struct.pack("!HBB", family, source, scope) + address)


ECS24 = ecs(1, 24, 0, bytes([192, 0, 2]))
KEY = name("key", "example")


def tsig(owner=KEY, algorithm=name("hmac-sha256"), mac=bytes(32), other=b"", error=0, rdlength=None, extra=b""):
    """A TSIG record (RFC 8945 §4.2): Time Signed 0x5f5e1000, Fudge 300, the MAC, Original ID 0x4242."""
    rdata = algorithm + struct.pack("!HIH", 0, 0x5F5E1000, 300) + struct.pack("!H", len(mac)) + mac \
        + struct.pack("!HHH", 0x4242, error, len(other)) + other + extra
    n = len(rdata) if rdlength is None else rdlength
    return owner + struct.pack("!HHIH", 250, 255, 0, n) + rdata
VALID_ECS_QUERY = header(ar=1) + QA + opt(options=ECS24)


def cases():
    c = []
    # --- the valid ECS query cut at every offset ---
    for k in range(len(VALID_ECS_QUERY)):
        kind = "drop" if k < 12 else "formerr"
        c.append((f"trunc-ecs-{k:02d}", f"valid ECS query truncated to {k} bytes", kind, VALID_ECS_QUERY[:k]))
    # --- controls that must parse ---
    c.append(("ok-ecs-query", "control: valid A query with ECS 192.0.2.0/24", "query", VALID_ECS_QUERY))
    c.append(("ok-ecs-second-option", "control: ECS after a COOKIE option", "query",
              header(ar=1) + QA + opt(options=option(10, bytes(8)) + ECS24)))
    c.append(("ok-name-255", "control: qname of exactly 255 bytes", "query",
              header() + name("a" * 63, "b" * 63, "c" * 63, "d" * 61) + struct.pack("!HH", 1, 1)))
    c.append(("ok-ecs-v6-56", "control: ECS 2001:db8:1234::/56", "query",
              header(ar=1) + QA + opt(options=ecs(2, 56, 0, bytes.fromhex("20010db8123400")))))
    c.append(("ok-ecs-zero", "control: ECS family 1 source 0 (no address bytes)", "query",
              header(ar=1) + QA + opt(options=ecs(1, 0, 0, b""))))
    c.append(("ok-other-additional", "control: an unknown record (type 65280) before OPT is skipped", "query",
              header(ar=2) + QA + b"\x00" + struct.pack("!HHIH", 65280, 255, 0, 2) + b"\x00\x00" + opt()))
    c.append(("ok-keepalive-empty", "control: an empty edns-tcp-keepalive option (RFC 7828 §3.2.1)", "query",
              header(ar=1) + QA + opt(options=option(11, b""))))
    c.append(("ok-nsid-empty", "control: an empty NSID option (RFC 5001 §2.1)", "query",
              header(ar=1) + QA + opt(options=option(3, b"") + ECS24)))
    c.append(("ok-opt-owner-pointer-root", "control: OPT owner written as a pointer to the question's root byte", "query",
              header(ar=1) + QA + opt(owner=b"\xc0\x1c")))
    # --- drop ---
    c.append(("drop-empty", "empty datagram", "drop", b""))
    c.append(("drop-qr-set", "QR=1: a response sent to us", "drop", header(flags=0x8100) + QA))
    c.append(("drop-qr-notify", "QR=1 and opcode NOTIFY: dropped before the opcode is looked at", "drop",
              header(flags=0xA000) + QA))
    # --- NOTIMP ---
    for op, label in ((1, "iquery"), (2, "status"), (4, "notify"), (5, "update"), (15, "opcode15")):
        c.append((f"notimp-{label}", f"opcode {op} ({label})", "notimp", header(flags=op << 11) + QA))
    # --- FORMERR: question ---
    c.append(("formerr-qdcount-0", "QDCOUNT 0", "formerr", header(qd=0)))
    c.append(("formerr-qdcount-2", "QDCOUNT 2", "formerr", header(qd=2) + QA + QA))
    c.append(("formerr-label-64", "a label length byte of 64", "formerr",
              header() + bytes([64]) + b"a" * 64 + b"\x00" + struct.pack("!HH", 1, 1)))
    c.append(("formerr-label-type-80", "reserved label type 0b10", "formerr",
              header() + bytes([0x80]) + b"\x00" + struct.pack("!HH", 1, 1)))
    c.append(("formerr-name-256", "qname of 256 bytes", "formerr",
              header() + name("a" * 63, "b" * 63, "c" * 63, "d" * 62) + struct.pack("!HH", 1, 1)))
    c.append(("formerr-name-long-pointers", "name over 255 bytes built from pointers to a long suffix", "formerr",
              header(an=1) + name("a" * 63, "b" * 63, "c" * 63) + struct.pack("!HH", 1, 1)
              + bytes([63]) + b"d" * 63 + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + bytes(4)))
    c.append(("formerr-pointer-self", "qname is a pointer to itself", "formerr",
              header() + b"\xc0\x0c" + struct.pack("!HH", 1, 1)))
    c.append(("formerr-pointer-own-label", "label then a pointer back to that label (loop)", "formerr",
              header() + b"\x01a\xc0\x0c" + struct.pack("!HH", 1, 1)))
    c.append(("formerr-pointer-forward", "qname pointer pointing forward", "formerr",
              header() + b"\xc0\x12" + struct.pack("!HH", 1, 1) + WWW))
    # RR1 (at 0x21) carries opaque RDATA "c0 2f" at 0x2d; RR2's owner at 0x2f points back to 0x2d,
    # which points forward to 0x2f again: a two-step loop.
    c.append(("formerr-pointer-loop-two", "two-step pointer loop 0x2f -> 0x2d -> 0x2f", "formerr",
              header(an=2) + QA + b"\xc0\x0c" + struct.pack("!HHIH", 0xFF00, 1, 0, 2) + b"\xc0\x2f"
              + b"\xc0\x2d" + struct.pack("!HHIH", 1, 1, 0, 4) + bytes(4)))
    c.append(("formerr-pointer-truncated", "pointer missing its second byte", "formerr",
              header() + b"\xc0"))
    # A pointer into the 12-byte header (RFC 1035 §4.1.4: it must name a prior occurrence of a name).
    for k in range(12):
        c.append((f"formerr-pointer-header-{k:02d}", f"qname is a pointer to header offset {k}", "formerr",
                  header() + bytes([0xC0, k]) + struct.pack("!HH", 1, 1)))
    c.append(("formerr-pointer-header-after-label", "qname www then a pointer to header offset 4", "formerr",
              header() + b"\x03www\xc0\x04" + struct.pack("!HH", 1, 1)))
    c.append(("formerr-opt-owner-pointer-header", "OPT owner is a pointer to header offset 11", "formerr",
              header(ar=1) + QA + opt(owner=b"\xc0\x0b")))
    c.append(("formerr-answer-owner-pointer-header", "answer record owner is a pointer to header offset 2", "formerr",
              header(an=1) + QA + b"\xc0\x02" + struct.pack("!HHIH", 1, 1, 0, 4) + bytes(4)))
    # --- FORMERR: counts and lengths ---
    c.append(("formerr-ancount-lies", "ANCOUNT 5 with no answer records", "formerr", header(an=5) + QA))
    c.append(("formerr-arcount-lies", "ARCOUNT 3 with one OPT", "formerr", header(ar=3) + QA + opt()))
    c.append(("formerr-nscount-max", "NSCOUNT 65535 with nothing after the question", "formerr",
              header(ns=65535) + QA))
    c.append(("formerr-trailing", "a valid query followed by junk bytes", "formerr", header() + QA + b"\xde\xad"))
    c.append(("formerr-rdlength-lies", "answer RDLENGTH 200 past the end", "formerr",
              header(an=1) + QA + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 200) + bytes(4)))
    # --- FORMERR: OPT ---
    c.append(("formerr-two-opt", "two OPT records", "formerr", header(ar=2) + QA + opt() + opt()))
    c.append(("formerr-opt-not-root", "OPT owned by a.", "formerr", header(ar=1) + QA + opt(owner=name("a"))))
    c.append(("formerr-opt-in-answer", "OPT in the answer section", "formerr", header(an=1) + QA + opt()))
    c.append(("formerr-opt-rdlength-lies", "OPT RDLENGTH longer than the packet", "formerr",
              header(ar=1) + QA + b"\x00" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 40) + ECS24))
    c.append(("formerr-option-length-lies", "ECS option length running past the OPT RDATA", "formerr",
              header(ar=1) + QA + opt(options=struct.pack("!HH", 8, 20) + bytes(7))))
    c.append(("formerr-option-header-cut", "OPT RDATA ends inside an option header", "formerr",
              header(ar=1) + QA + opt(options=b"\x00\x08\x00")))
    # --- FORMERR: ECS (RFC 7871 §6, §7.1.1) ---
    bad_ecs = [
        ("family-0", "ECS family 0", ecs(0, 24, 0, bytes(3))),
        ("family-3", "ECS family 3", ecs(3, 24, 0, bytes(3))),
        ("v4-source-33", "ECS IPv4 source prefix 33", ecs(1, 33, 0, bytes(5))),
        ("v6-source-129", "ECS IPv6 source prefix 129", ecs(2, 129, 0, bytes(17))),
        ("scope-nonzero", "ECS scope 24 in a query", ecs(1, 24, 24, bytes([192, 0, 2]))),
        ("v4-address-long", "ECS /24 with 4 address bytes", ecs(1, 24, 0, bytes([192, 0, 2, 0]))),
        ("v4-address-short", "ECS /24 with 2 address bytes", ecs(1, 24, 0, bytes([192, 0]))),
        ("v4-zero-with-address", "ECS /0 with an address byte", ecs(1, 0, 0, bytes([0]))),
        ("v4-bits-past-prefix", "ECS 192.0.3.0/23: a bit set past the prefix", ecs(1, 23, 0, bytes([192, 0, 3]))),
        ("v6-bits-past-prefix", "ECS 2001:db8:1::/47: a bit set past the prefix", ecs(2, 47, 0, bytes.fromhex("20010db80001"))),
        ("option-short", "ECS option of 3 bytes", option(8, b"\x00\x01\x18")),
        ("two-ecs", "two ECS options", ECS24 + ECS24),
        ("two-ecs-apart", "two ECS options with another option between", ECS24 + option(10, bytes(8)) + ECS24),
    ]
    for label, desc, opts in bad_ecs:
        c.append((f"formerr-ecs-{label}", desc, "formerr", header(ar=1) + QA + opt(options=opts)))
    c.append(("formerr-badvers-and-bad-ecs", "EDNS version 1 with a bad ECS: malformed wins", "formerr",
              header(ar=1) + QA + opt(version=1, options=ecs(3, 0, 0, b""))))
    # --- edns-tcp-keepalive: a client sends it empty (RFC 7828 §3.2.1) ---
    c.append(("formerr-keepalive-timeout", "edns-tcp-keepalive with a TIMEOUT in a query", "formerr",
              header(ar=1) + QA + opt(options=option(11, b"\x00\x64"))))
    c.append(("formerr-keepalive-one-byte", "edns-tcp-keepalive with one data byte", "formerr",
              header(ar=1) + QA + opt(options=ECS24 + option(11, b"\x01"))))
    # --- TSIG (RFC 8945): we hold no keys, so a well-formed signed query gets NOTAUTH/BADKEY ---
    c.append(("notauth-tsig", "TSIG-signed query, key key.example. (unknown: BADKEY)", "notauth",
              header(ar=1) + QA + tsig()))
    c.append(("notauth-tsig-after-opt", "OPT then TSIG (TSIG last, as it must be)", "notauth",
              header(ar=2) + QA + opt(options=ECS24) + tsig()))
    c.append(("notauth-tsig-compressed-key", "TSIG key name a pointer to the question name", "notauth",
              header(ar=1) + QA + tsig(owner=b"\xc0\x0c")))
    c.append(("notauth-tsig-other-data", "TSIG with 6 bytes of other data (BADTIME shape)", "notauth",
              header(ar=1) + QA + tsig(other=bytes(6))))
    c.append(("formerr-tsig-not-last", "TSIG then OPT: TSIG not last (RFC 8945 §5.1)", "formerr",
              header(ar=2) + QA + tsig() + opt()))
    c.append(("formerr-tsig-two", "two TSIG records", "formerr", header(ar=2) + QA + tsig() + tsig()))
    c.append(("formerr-tsig-in-answer", "TSIG in the answer section", "formerr", header(an=1) + QA + tsig()))
    c.append(("formerr-tsig-in-authority", "TSIG in the authority section", "formerr", header(ns=1) + QA + tsig()))
    c.append(("formerr-tsig-rdata-short", "TSIG RDLENGTH 10: ends inside the algorithm name", "formerr",
              header(ar=1) + QA + tsig(rdlength=10)[:len(KEY) + 10 + 10]))
    c.append(("formerr-tsig-mac-size-lies", "TSIG MAC Size 200 past RDLENGTH", "formerr",
              header(ar=1) + QA + KEY + struct.pack("!HHIH", 250, 255, 0, 13 + 10 + 6) + name("hmac-sha256")
              + struct.pack("!HIHH", 0, 0x5F5E1000, 300, 200) + bytes(6)))
    c.append(("formerr-tsig-rdata-trailing", "TSIG RDATA with 3 bytes after Other Data", "formerr",
              header(ar=1) + QA + tsig(extra=b"\x01\x02\x03")))
    c.append(("formerr-tsig-bad-ecs", "TSIG with a bad ECS: malformed wins over NOTAUTH", "formerr",
              header(ar=2) + QA + opt(options=ecs(3, 24, 0, bytes(3))) + tsig()))
    c.append(("badvers-tsig", "EDNS version 1 and a TSIG: BADVERS before NOTAUTH", "badvers",
              header(ar=2) + QA + opt(version=1) + tsig()))
    c.append(("notimp-tsig-notify", "NOTIFY signed with TSIG: the opcode decides first", "notimp",
              header(flags=4 << 11, ar=1) + QA + tsig()))
    # --- BADVERS ---
    c.append(("badvers-1", "EDNS version 1", "badvers", header(ar=1) + QA + opt(version=1)))
    c.append(("badvers-255-ecs", "EDNS version 255 with a valid ECS", "badvers",
              header(ar=1) + QA + opt(version=255, options=ECS24)))
    c.extend(cookie_cases())
    return c


def cookie_cases():
    """DNS Cookies (RFC 7873 §5.2.2, §5.4): 8 or 16...40 bytes, the first option counts."""
    c = []
    client = bytes.fromhex("2464c4abcf10c957")
    server = bytes.fromhex("010000005cf79f111f8130c3eee29480")
    for n in (0, 1, 7, 9, 15, 41):
        c.append((f"formerr-cookie-{n}", f"COOKIE option of {n} bytes", "formerr",
                  header(ar=1) + QA + opt(options=option(10, bytes(range(n))))))
    for label, data in (("client", client), ("server-8", client + bytes(8)), ("server-16", client + server),
                        ("server-32", client + bytes(32))):
        c.append((f"ok-cookie-{label}", f"control: COOKIE of {len(data)} bytes", "query",
                  header(ar=1) + QA + opt(options=option(10, data))))
    c.append(("ok-cookie-second-malformed", "control: a malformed second COOKIE is ignored", "query",
              header(ar=1) + QA + opt(options=option(10, client) + option(10, b"\x01\x02\x03"))))
    c.append(("ok-cookie-with-ecs", "control: COOKIE before ECS", "query",
              header(ar=1) + QA + opt(options=option(10, client + server) + ECS24)))
    c.append(("ok-cookie-qdcount-0", "control: QDCOUNT 0 with a client cookie asks for a server cookie", "query",
              header(qd=0, ar=1) + opt(options=option(10, client))))
    c.append(("formerr-cookie-first-malformed", "a malformed first COOKIE, a good second", "formerr",
              header(ar=1) + QA + opt(options=option(10, b"\x01\x02\x03") + option(10, client))))
    c.append(("formerr-cookie-length-lies", "COOKIE option length running past the OPT RDATA", "formerr",
              header(ar=1) + QA + opt(options=struct.pack("!HH", 10, 24) + client)))
    c.append(("formerr-qdcount-0-opt", "QDCOUNT 0 with OPT but no COOKIE", "formerr", header(qd=0, ar=1) + opt()))
    c.append(("formerr-qdcount-0-bad-cookie", "QDCOUNT 0 with a COOKIE of 9 bytes", "formerr",
              header(qd=0, ar=1) + opt(options=option(10, client + b"\x00"))))
    c.append(("formerr-cookie-badvers", "EDNS version 1 with a malformed COOKIE: malformed wins", "formerr",
              header(ar=1) + QA + opt(version=1, options=option(10, bytes(12)))))
    c.append(("badvers-cookie", "EDNS version 1 with a good client cookie", "badvers",
              header(ar=1) + QA + opt(version=1, options=option(10, client))))
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))
    cs = cases()
    for name_, desc, kind, wire in cs:
        wirefmt.write_hex(os.path.join(OUT, name_ + ".hex"), desc, wire, [f"expect: {kind}"])
    print(f"wrote {len(cs)} malformed-corpus packets to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
