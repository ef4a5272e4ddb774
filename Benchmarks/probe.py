#!/usr/bin/env python3
"""A service's client, for Benchmarks/run and etc/demo.sh: UDP probes to virtual addresses.

Addresses are IPv4 (192.0.2.0/24) or IPv6 (2001:db8::/64), in any mix.

    probe.py respond NAME [--port P]
        On a host: answers every probe with NAME (the host's name), until killed.
    probe.py send ADDRESS... [--rate R] [--duration S] [--port P] --out FILE
        On the client: sends R probes a second (default 1000), in turn to each ADDRESS, for S
        seconds at most (default 10) or until SIGTERM or SIGINT, then waits 0.3 s for the
        last answers and writes one line per probe to FILE:
            SEQUENCE ADDRESS-INDEX SENT ANSWERED RESPONDER
        SENT and ANSWERED are Unix times (CLOCK_REALTIME, as the shell's $EPOCHREALTIME);
        ANSWERED and RESPONDER are "-" for a probe nobody answered. The first line, a
        comment, names the addresses and the rate.

A probe is 8 bytes, its sequence number; the answer is the probe followed by the responder's
name. The responder listens on every address of its host, IPv4 and (where the host has IPv6)
IPv6, so an answer means that the host had the virtual address the probe was sent to (nobody
forwards: each namespace is a host).
Bounded: at most 5000 probes a second for at most 120 s. Python's standard library only.
"""

import argparse
import select
import signal
import socket
import struct
import sys
import time

PORT = 7077
MAX_RATE = 5000
MAX_DURATION = 120.0
LINGER = 0.3
PREFIXES = {socket.AF_INET: "192.0.2.", socket.AF_INET6: "2001:db8::"}


def family_of(address):
    """The address family of ADDRESS, a literal IPv4 or IPv6 address."""
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def respond(name, port):
    """Answers every probe with NAME until killed, over IPv4 and, where the host has it, IPv6."""
    sockets = []
    for family, wildcard in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError:
            continue  # no IPv6 on this host
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((wildcard, port))
        sockets.append(sock)
    suffix = name.encode()
    while True:
        readable, _, _ = select.select(sockets, [], [])
        for sock in readable:
            data, peer = sock.recvfrom(64)
            if len(data) == 8:
                try:
                    sock.sendto(data + suffix, peer)
                except OSError:
                    pass  # no route for a moment (the link is down): the probe is lost, as it should be


def send(addresses, rate, duration, port, out):
    """Sends the probes and writes their fate to OUT (see the module's summary)."""
    rate = min(max(rate, 1), MAX_RATE)
    duration = min(max(duration, 0.0), MAX_DURATION)
    stopping = []
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.append(True))
    sockets = {}  # address family -> its socket
    for family in set(family_of(address) for address in addresses):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        sock.setblocking(False)
        sockets[family] = sock
    routes = [(sockets[family_of(address)], address) for address in addresses]
    sent = []  # (address index, send time) by sequence number
    answered = {}  # sequence number -> (time, responder)
    interval = 1.0 / rate
    start = time.time()
    deadline = start + duration
    due = start

    def receive():
        for sock in sockets.values():
            while True:
                try:
                    data = sock.recv(128)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue  # an ICMP error queued on the socket
                if len(data) > 8:
                    (sequence,) = struct.unpack("!Q", data[:8])
                    if sequence < len(sent) and sequence not in answered:
                        answered[sequence] = (time.time(), data[8:].decode(errors="replace"))

    while not stopping:
        now = time.time()
        if now >= deadline:
            break
        # Every probe that is due, at most 50 ms of them at once (a stalled client catches up
        # at a bounded burst; the send times it records are the real ones).
        burst = 0
        while due <= now and burst < rate // 20 + 1:
            sequence = len(sent)
            index = sequence % len(addresses)
            sock, address = routes[index]
            sent.append((index, time.time()))
            try:
                sock.sendto(struct.pack("!Q", sequence), (address, port))
            except OSError:
                pass  # no neighbour yet, or a full queue: counted as lost
            due += interval
            burst += 1
        if due < now - 0.05:
            due = now
        receive()
        timeout = max(0.0, min(due, deadline) - time.time())
        try:
            select.select(list(sockets.values()), [], [], timeout)
        except InterruptedError:
            pass
    linger_end = time.time() + LINGER
    while time.time() < linger_end:
        select.select(list(sockets.values()), [], [], max(0.0, linger_end - time.time()))
        receive()
    with open(out, "w") as file:
        file.write("# addresses %s rate %d\n" % (",".join(addresses), rate))
        for sequence, (index, at) in enumerate(sent):
            if sequence in answered:
                when, who = answered[sequence]
                file.write("%d %d %.6f %.6f %s\n" % (sequence, index, at, when, who))
            else:
                file.write("%d %d %.6f - -\n" % (sequence, index, at))
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description="UDP probes to virtual addresses.")
    commands = parser.add_subparsers(dest="command", required=True)
    responder = commands.add_parser("respond")
    responder.add_argument("name")
    responder.add_argument("--port", type=int, default=PORT)
    sender = commands.add_parser("send")
    sender.add_argument("addresses", nargs="+")
    sender.add_argument("--rate", type=int, default=1000)
    sender.add_argument("--duration", type=float, default=10.0)
    sender.add_argument("--port", type=int, default=PORT)
    sender.add_argument("--out", required=True)
    options = parser.parse_args(argv)
    for address in getattr(options, "addresses", []):
        if not address.startswith(PREFIXES[family_of(address)]):
            parser.error("%s: only addresses of 192.0.2.0/24 (TEST-NET-1) or 2001:db8::/64 "
                         "(the documentation prefix), in the namespaces" % address)
    if options.command == "respond":
        return respond(options.name, options.port)
    return send(options.addresses, options.rate, options.duration, options.port, options.out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
