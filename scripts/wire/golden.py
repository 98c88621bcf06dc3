#!/usr/bin/env python3
"""Generate the golden packets in Tests/DNSWireTests/Fixtures/golden with dnspython (an
independent implementation). Each NAME.hex holds one message (first line: what it is);
NAME.expect holds the values dnspython reads from it (wirefmt.lines). The Swift tests decode
every .hex, compare against .expect, and check that re-encoding gives the same bytes.

Run: python3 scripts/wire/golden.py   (or `make golden`). Deterministic: ids are fixed.
"""
import os
import sys

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

sys.path.insert(0, os.path.dirname(__file__))
import wirefmt  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "DNSWireTests", "Fixtures", "golden")


def query(name, rdtype, qid, rdclass="IN", ecs=None, payload=None, do=False, options=(), rd=True):
    opts = list(options)
    if ecs is not None:
        opts.insert(0, dns.edns.ECSOption(*ecs))
    use_edns = 0 if (payload is not None or opts or do) else None
    m = dns.message.make_query(name, rdtype, rdclass=rdclass, use_edns=use_edns,
                               payload=payload or 1232, options=opts or None, want_dnssec=do)
    m.id = qid
    if not rd:
        m.flags &= ~dns.flags.RD
    return m


def response(q, rcode=dns.rcode.NOERROR, scope=None):
    r = dns.message.make_response(q, our_payload=1232)
    r.flags |= dns.flags.AA
    r.set_rcode(rcode)
    if scope is not None and q.edns >= 0:
        # Echo ECS (family, source, address) with our scope (RFC 7871 §7.2.1).
        ecs = [o for o in q.options if o.otype == 8]
        opts = [dns.edns.ECSOption(o.address, o.srclen, scope) for o in ecs]
        r.use_edns(0, payload=1232, options=opts)
    return r


def add(m, section, name, ttl, rdtype, *texts, rdclass="IN"):
    rrset = m.find_rrset(section, dns.name.from_text(name), dns.rdataclass.from_text(rdclass),
                         dns.rdatatype.from_text(rdtype), create=True)
    for t in texts:
        rrset.add(dns.rdata.from_text(rdclass, rdtype, t), ttl)


def fixtures():
    f = []
    q = query("www.example.com", "A", 0x0001)
    f.append(("query-a-plain", "A query, RD, no EDNS", q, True))
    f.append(("query-aaaa-edns-do", "AAAA query, EDNS 4096 with DO",
              query("www.example.com", "AAAA", 0x0002, payload=4096, do=True), True))
    f.append(("query-a-ecs-v4", "A query with ECS 192.0.2.0/24",
              query("www.example.com", "A", 0x0003, ecs=("192.0.2.0", 24)), True))
    f.append(("query-aaaa-ecs-v6", "AAAA query with ECS 2001:db8:1234::/56",
              query("www.example.com", "AAAA", 0x0004, ecs=("2001:db8:1234::", 56)), True))
    f.append(("query-a-ecs-zero", "A query with ECS 0.0.0.0/0 (client opts out, RFC 7871 §7.1.2)",
              query("www.example.com", "A", 0x0005, ecs=("0.0.0.0", 0)), True))
    f.append(("query-a-ecs-v4-odd", "A query with ECS 198.51.100.128/25 (prefix not on a byte boundary)",
              query("www.example.com", "A", 0x0006, ecs=("198.51.100.128", 25)), True))
    cookie = dns.edns.GenericOption(10, bytes.fromhex("0123456789abcdef"))
    q = query("www.example.com", "A", 0x0007, payload=1232)
    q.use_edns(0, payload=1232, options=[cookie, dns.edns.ECSOption("203.0.113.0", 24)])
    f.append(("query-a-cookie-then-ecs", "A query with a COOKIE option before ECS (ECS not first)", q, False))
    f.append(("query-mixed-case", "A query with 0x20 mixed case: wWw.ExAmPlE.cOm",
              query("wWw.ExAmPlE.cOm", "A", 0x0008), True))
    f.append(("query-ch-txt", "CH TXT version.bind query, RD clear",
              query("version.bind", "TXT", 0x0009, rdclass="CH", rd=False), True))
    f.append(("query-any", "ANY query with EDNS",
              query("example.com", "ANY", 0x000A, payload=1232), True))
    f.append(("query-escaped-name", "query for a name with an escaped dot and a space: a\\.b\\032c.example.",
              query("a\\.b\\032c.example.", "A", 0x000B), True))

    q = query("www.example.com", "A", 0x0101, ecs=("192.0.2.0", 24))
    r = response(q, scope=20)
    add(r, r.answer, "www.example.com.", 60, "A", "198.51.100.10", "198.51.100.11")
    f.append(("resp-a-two-ecs", "authoritative answer, two A records, ECS echoed with scope 20", r, True))

    q = query("www.example.com", "AAAA", 0x0102, payload=1232)
    r = response(q)
    add(r, r.answer, "www.example.com.", 300, "AAAA", "2001:db8::1", "::", "::ffff:192.0.2.1", "2001:db8:0:0:1:0:0:1")
    f.append(("resp-aaaa-forms", "AAAA answers in several text forms (::, v4-mapped, zero runs)", r, True))

    q = query("cdn.example.com", "A", 0x0103, ecs=("2001:db8::", 48))
    r = response(q, scope=32)
    add(r, r.answer, "cdn.example.com.", 300, "CNAME", "eu.cdn.example.net.")
    add(r, r.answer, "eu.cdn.example.net.", 60, "A", "192.0.2.80")
    f.append(("resp-cname-chain", "CNAME then A at the target, IPv6 ECS echoed with scope 32", r, True))

    q = query("nope.example.com", "A", 0x0104, payload=1232)
    r = response(q, rcode=dns.rcode.NXDOMAIN)
    add(r, r.authority, "example.com.", 300, "SOA",
        "ns1.example.com. hostmaster.example.com. 2026112601 7200 3600 1209600 300")
    f.append(("resp-nxdomain-soa", "NXDOMAIN with the SOA in the authority section", r, True))

    q = query("example.com", "MX", 0x0105)
    r = response(q)
    add(r, r.answer, "example.com.", 3600, "MX", "10 mx1.example.com.", "65535 mx2.example.com.")
    add(r, r.authority, "example.com.", 3600, "NS", "ns1.example.com.", "ns2.example.com.")
    add(r, r.additional, "mx1.example.com.", 3600, "A", "192.0.2.25")
    add(r, r.additional, "mx1.example.com.", 3600, "AAAA", "2001:db8::25")
    f.append(("resp-mx-ns-glue", "MX (16-bit preference 65535), NS in authority, glue A/AAAA in additional", r, True))

    q = query("txt.example.com", "TXT", 0x0106, payload=1232)
    r = response(q)
    add(r, r.answer, "txt.example.com.", 300, "TXT", '"v=spf1 -all"', '"two" "strings"', '""')
    long_text = "x" * 255 + "y" * 45
    add(r, r.answer, "txt.example.com.", 300, "TXT", f'"{long_text[:255]}" "{long_text[255:]}"')
    f.append(("resp-txt", "TXT: one string, two strings, empty string, 300 bytes split 255+45", r, True))

    q = query("_sip._udp.example.com", "SRV", 0x0107)
    r = response(q)
    add(r, r.answer, "_sip._udp.example.com.", 300, "SRV", "10 60 5060 sip.example.com.", "20 0 5060 .")
    f.append(("resp-srv", "SRV answers (target never compressed, one target is the root)", r, True))

    q = query("2.0.192.in-addr.arpa", "PTR", 0x0108)
    r = response(q)
    add(r, r.answer, "2.0.192.in-addr.arpa.", 300, "PTR", "host.example.com.")
    f.append(("resp-ptr", "PTR answer", r, True))

    q = query("host.example.com", "HINFO", 0x0109)
    r = response(q)
    add(r, r.answer, "host.example.com.", 300, "HINFO", '"x86-64" "Linux"')
    f.append(("resp-hinfo", "HINFO answer", r, True))

    q = query("example.com", "SOA", 0x010A)
    r = response(q)
    add(r, r.answer, "example.com.", 3600, "SOA",
        "ns1.example.com. hostmaster.example.com. 1 2 3 4 5")
    add(r, r.authority, "example.com.", 3600, "NS", "ns1.example.com.")
    f.append(("resp-soa", "SOA answer with NS in authority", r, True))

    q = query("example.com", "TYPE65534", 0x010B)
    r = response(q)
    add(r, r.answer, "example.com.", 60, "TYPE65534", r"\# 5 0102030405")
    add(r, r.answer, "example.com.", 60, "CAA", '0 issue "ca.example.net"')
    f.append(("resp-unknown-types", "unknown TYPE65534 and CAA kept as opaque bytes (RFC 3597)", r, True))

    q = query("www.example.com", "A", 0x010C, payload=1232)
    q.use_edns(1, payload=1232)
    r = dns.message.make_response(q)
    r.use_edns(0, payload=1232)
    r.set_rcode(dns.rcode.BADVERS)
    f.append(("resp-badvers", "BADVERS reply: rcode 16 split between header and OPT, OPT version 0", r, True))

    q = query("www.other.org", "A", 0x010D)
    r = dns.message.make_response(q)
    r.set_rcode(dns.rcode.REFUSED)
    f.append(("resp-refused", "REFUSED without EDNS, AA clear", r, True))

    q = query("example.com", "NS", 0x010E, payload=1232, do=True,
              options=[dns.edns.GenericOption(3, b"")])
    r = response(q)
    r.use_edns(0, ednsflags=dns.flags.DO, payload=1232, options=[dns.edns.GenericOption(3, b"ns1")])
    for i in range(1, 9):
        add(r, r.answer, "example.com.", 86400, "NS", f"ns{i}.example.com.")
    for i in range(1, 9):
        add(r, r.additional, f"ns{i}.example.com.", 86400, "A", f"192.0.2.{i}")
    f.append(("resp-ns-many", "eight NS with glue (compression across many names), DO and NSID option", r, True))

    q = query("www.example.com", "A", 0x010F, ecs=("192.0.2.0", 24))
    r = response(q, scope=0)
    add(r, r.answer, "www.example.com.", 60, "A", "198.51.100.1")
    r.flags |= dns.flags.TC
    f.append(("resp-tc-flag", "response with TC set and ECS scope 0", r, True))
    return f


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))
    for name, desc, msg, exact in fixtures():
        # dnspython shuffles each RRset's records on output unless told not to.
        wire = msg.to_wire(want_shuffle=False)
        # dnspython must read back what it wrote (sanity of the generator itself).
        lines = wirefmt.lines(wire)
        extra = [] if exact else ["inexact: our re-encoding may order EDNS options differently"]
        wirefmt.write_hex(os.path.join(OUT, name + ".hex"), desc, wire, extra)
        with open(os.path.join(OUT, name + ".expect"), "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"wrote {len(fixtures())} golden packets to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
