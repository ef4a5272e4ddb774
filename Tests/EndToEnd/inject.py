#!/usr/bin/env python3
"""Writes hostile or broken protocol-112 frames onto an interface, for the robustness tests.

    inject.py IFACE KIND [COUNT]

KIND: truncated, oversized, version, ttl, checksum, digest (wrong password), valid.
Frames come from 192.0.2.50 for vhid 7, address 192.0.2.100, password "hunter2" (the
end-to-end tests' settings), so only the broken part differs from a real advertisement.
"""
import hashlib
import hmac
import socket
import struct
import sys
import time

SOURCE, GROUP, VIP = "192.0.2.50", "224.0.0.18", "192.0.2.100"
VHID, PASSWORD = 7, b"hunter2"


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def carp_header(counter, password=PASSWORD, version=2, advbase=1, advskew=0):
    message = bytes([2, 1, VHID]) + socket.inet_aton(VIP) + struct.pack("!Q", counter)
    digest = hmac.new(password, message, hashlib.sha1).digest()
    header = struct.pack("!BBBBBBH", version << 4 | 1, VHID, advskew, 7, 0, advbase, 0)
    header += struct.pack("!Q", counter) + digest
    return header[:6] + struct.pack("!H", checksum(header)) + header[8:]


def frame(kind, counter):
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
    interface, kind = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((interface, 0))
    for counter in range(1, count + 1):
        raw.send(frame(kind, counter))
        time.sleep(0.02)


if __name__ == "__main__":
    main()
