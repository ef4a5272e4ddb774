#!/usr/bin/env python3
"""Writes hostile or broken protocol-112 frames onto an interface, for the robustness tests.

    inject.py IFACE KIND [COUNT [ADDRESSES]]

KIND: truncated, oversized, version, ttl, checksum, digest (wrong password), valid; over
IPv6: valid6, hoplimit6 (hop limit 64).
Frames come from 192.0.2.50 (2001:db8::50) for vhid 7, address 192.0.2.100, password
"hunter2" (the end-to-end tests' settings), so only the broken part differs from a real
advertisement; IPv6 ones go to ff02::12. ADDRESSES, comma-separated, replaces the address:
the digest then covers them as the BSD kernels hash them, written here from that description
(ip_carp.c's carp_hmac_prepare), not from our encoder: the IPv4 addresses sorted by numeric
value, then the IPv6 ones sorted by their 16 bytes, each once.
"""
import hashlib
import hmac
import socket
import struct
import sys
import time

SOURCE, GROUP, VIP = "192.0.2.50", "224.0.0.18", "192.0.2.100"
SOURCE6, GROUP6 = "2001:db8::50", "ff02::12"
VHID, PASSWORD = 7, b"hunter2"
ADDRESSES = [VIP]


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def hashed_addresses(addresses):
    """The addresses as the digest covers them: IPv4 ascending by value, then IPv6 by bytes."""
    ipv4 = set(struct.unpack("!I", socket.inet_pton(socket.AF_INET, a))[0] for a in addresses if ":" not in a)
    ipv6 = set(socket.inet_pton(socket.AF_INET6, a) for a in addresses if ":" in a)
    return b"".join(struct.pack("!I", a) for a in sorted(ipv4)) + b"".join(sorted(ipv6))


def carp_header(counter, password=PASSWORD, version=2, advbase=1, advskew=0):
    message = bytes([2, 1, VHID]) + hashed_addresses(ADDRESSES) + struct.pack("!Q", counter)
    digest = hmac.new(password, message, hashlib.sha1).digest()
    header = struct.pack("!BBBBBBH", version << 4 | 1, VHID, advskew, 7, 0, advbase, 0)
    header += struct.pack("!Q", counter) + digest
    return header[:6] + struct.pack("!H", checksum(header)) + header[8:]


def frame6(kind, counter):
    """An IPv6 advertisement: the CARP header, its checksum over itself alone (no
    pseudo-header), hop limit 255 unless KIND is hoplimit6."""
    carp = carp_header(counter)
    hop_limit = 64 if kind == "hoplimit6" else 255
    ip = struct.pack("!IHBB", 6 << 28, len(carp), 112, hop_limit)
    ip += socket.inet_pton(socket.AF_INET6, SOURCE6) + socket.inet_pton(socket.AF_INET6, GROUP6)
    ethernet = bytes.fromhex("333300000012") + bytes([0, 0, 0x5E, 0, 0, VHID]) + b"\x86\xdd"
    return ethernet + ip + carp


def frame(kind, counter):
    if kind.endswith("6"):
        return frame6(kind, counter)
    carp = carp_header(counter, password=b"wrong" if kind == "digest" else PASSWORD,
                       version=3 if kind == "version" else 2)
    if kind == "truncated":
        carp = carp[:20]
    if kind == "oversized":
        carp += b"\0" * 64
    ttl = 64 if kind == "ttl" else 255
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0x10, 20 + len(carp), counter & 0xFFFF, 0x4000, ttl, 112, 0,
                     socket.inet_aton(SOURCE), socket.inet_aton(GROUP))
    ip_checksum = checksum(ip) ^ (0x1234 if kind == "checksum" else 0)
    ip = ip[:10] + struct.pack("!H", ip_checksum) + ip[12:]
    ethernet = bytes.fromhex("01005e000012") + bytes([0, 0, 0x5E, 0, 0, VHID]) + b"\x08\x00"
    return ethernet + ip + carp


def main():
    global ADDRESSES
    interface, kind = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    if len(sys.argv) > 4:
        ADDRESSES = sys.argv[4].split(",")
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((interface, 0))
    for counter in range(1, count + 1):
        raw.send(frame(kind, counter))
        time.sleep(0.02)


if __name__ == "__main__":
    main()
