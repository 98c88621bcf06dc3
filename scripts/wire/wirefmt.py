"""Normalised, implementation-neutral text of a DNS message, shared by golden.py and verify.py.

One line per fact; the Swift tests print the same lines from DNSWire's values (see
Tests/DNSWireTests/ExpectLines.swift). Names use dnspython's presentation form; AAAA, TXT,
HINFO and unmodelled RDATA are hex so the comparison is about values, not text conventions.
"""
import struct

import dns.edns
import dns.message
import dns.rdatatype

# The RDATA types DNSWire models; everything else is compared as opaque bytes (RFC 3597).
MODELLED = {1, 2, 5, 6, 12, 13, 15, 16, 28, 33}


def rdata_text(rd, rrclass):
    t = rd.rdtype
    if t == 1 and rrclass == 1:
        return rd.address
    if t == 28 and rrclass == 1:
        return dns.ipv6.inet_aton(rd.address).hex()
    if t in (2, 5, 12):
        return rd.target.to_text()
    if t == 15:
        return f"{rd.preference} {rd.exchange.to_text()}"
    if t == 6:
        return (f"{rd.mname.to_text()} {rd.rname.to_text()} {rd.serial} {rd.refresh} "
                f"{rd.retry} {rd.expire} {rd.minimum}")
    if t == 16:
        return " ".join(s.hex() for s in rd.strings)
    if t == 33 and rrclass == 1:
        return f"{rd.priority} {rd.weight} {rd.port} {rd.target.to_text()}"
    if t == 13:
        return f"{rd.cpu.hex()} {rd.os.hex()}"
    return "generic " + rd.to_wire().hex()


def lines(wire: bytes):
    m = dns.message.from_wire(wire)
    qd, an, ns, ar = struct.unpack("!HHHH", wire[4:12])
    flags = m.flags | (m.opcode() << 11) | (m.rcode() & 0xF)
    out = [f"id {m.id}", f"flags {flags:04x}", f"counts {qd} {an} {ns} {ar}"]
    for q in m.question:
        out.append(f"question {q.name.to_text()} {q.rdtype} {q.rdclass}")
    for section, rrsets in (("an", m.answer), ("ns", m.authority), ("ar", m.additional)):
        for rrset in rrsets:
            for rd in rrset:
                out.append(f"rr {section} {rrset.name.to_text()} {rrset.ttl} {rrset.rdclass} {rrset.rdtype} "
                           f"{rdata_text(rd, rrset.rdclass)}")
    if m.edns >= 0:
        ext = (m.ednsflags >> 24) & 0xFF
        do = 1 if m.ednsflags & 0x8000 else 0
        out.append(f"edns {m.edns} {m.payload} {do} {ext}")
        for opt in m.options:
            data = opt.to_wire()
            if opt.otype == 8:
                family, source, scope = struct.unpack("!HBB", data[:4])
                out.append(f"ecs {family} {source} {scope} {data[4:].hex()}")
        for opt in m.options:
            if opt.otype != 8:
                out.append(f"option {int(opt.otype)} {opt.to_wire().hex()}")
    return out


def read_hex(path):
    """(description, bytes) of a .hex fixture: '#' lines are comments, the first is the description."""
    desc, hexdigits = "", []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                if not desc:
                    desc = line[1:].strip()
                continue
            hexdigits.append(line.replace(" ", ""))
    return desc, bytes.fromhex("".join(hexdigits))


def write_hex(path, description, wire, extra=()):
    with open(path, "w") as f:
        f.write(f"# {description}\n")
        for e in extra:
            f.write(f"# {e}\n")
        h = wire.hex()
        for i in range(0, len(h), 64):
            f.write(h[i:i + 64] + "\n")
