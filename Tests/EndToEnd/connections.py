#!/usr/bin/python3
"""A service and its client, for reload tests and benchmarks: long TCP connections and UDP probes.

    connections.py serve NAME [--port P]
        On a host: a TCP server on every IPv4 address of the host that keeps each connection
        open and answers every line with the line followed by NAME; and a UDP responder that
        answers every datagram with it followed by NAME. Until killed.
    connections.py client ADDRESS [--connections N] [--rate R] [--duration S] [--port P]
                   [--out FILE]
        On a client host: opens N TCP connections (default 50) to ADDRESS, then until S
        seconds have passed (default 60) or SIGTERM or SIGINT: every 50 ms, sends a line on
        each connection in turn (each sees one exchange a second or so) and R UDP probes a
        second (default 200). A connection is broken when it is reset, closed, or its answer
        has not come within 2 s; a probe is lost when its answer has not come within 1 s.
        Then prints (and writes to FILE) one summary line:
            connections N broken B exchanges E probes P lost L responders NAME[,NAME...]
        and, for each broken connection, a line "broken INDEX SECONDS REASON" (SECONDS since
        the start). Exit status 0, or 1 when the connections could not all be opened.

The responders' names tell which host had the address. Debian's python3, standard library only.
Bounded: at most 500 connections, 2000 probes a second, 600 s.
"""

import argparse
import selectors
import signal
import socket
import struct
import sys
import time

PORT = 7078
MAX_CONNECTIONS = 500
MAX_RATE = 2000
MAX_DURATION = 600.0
ANSWER_TIMEOUT = 2.0
PROBE_TIMEOUT = 1.0
TICK = 0.05


def serve(name, port):
    """The TCP echo service and the UDP responder, until killed."""
    suffix = (" " + name + "\n").encode()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(1024)
    listener.setblocking(False)
    responder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    responder.bind(("0.0.0.0", port))
    responder.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "listener")
    selector.register(responder, selectors.EVENT_READ, "responder")
    pending = {}
    while True:
        for key, _ in selector.select():
            if key.data == "listener":
                try:
                    connection, _ = listener.accept()
                except OSError:
                    continue
                connection.setblocking(False)
                pending[connection] = b""
                selector.register(connection, selectors.EVENT_READ, "connection")
            elif key.data == "responder":
                try:
                    data, peer = responder.recvfrom(64)
                    responder.sendto(data + name.encode(), peer)
                except OSError:
                    pass
            else:
                connection = key.fileobj
                try:
                    data = connection.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    selector.unregister(connection)
                    pending.pop(connection, None)
                    connection.close()
                    continue
                buffered = pending[connection] + data
                *lines, rest = buffered.split(b"\n")
                pending[connection] = rest[-1024:]
                for line in lines:
                    try:
                        connection.sendall(line + suffix)
                    except OSError:
                        pass


class Client:
    """N connections and a stream of probes to one address, with what happened to them."""

    def __init__(self, address, port, count, rate):
        self.address = address
        self.port = port
        self.rate = rate
        self.start = time.monotonic()
        self.selector = selectors.DefaultSelector()
        self.connections = []
        self.buffers = {}
        self.waiting = {}  # connection index -> deadline of its answer
        self.broken = {}  # connection index -> (seconds, reason)
        self.exchanges = 0
        self.responders = set()
        for index in range(count):
            sock = socket.create_connection((address, port), timeout=5)
            sock.setblocking(False)
            self.connections.append(sock)
            self.buffers[index] = b""
            self.selector.register(sock, selectors.EVENT_READ, index)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.setblocking(False)
        self.selector.register(self.udp, selectors.EVENT_READ, "udp")
        self.sent = {}  # sequence -> time sent
        self.answered = set()
        self.sequence = 0
        self.next_exchange = 0

    def elapsed(self):
        return time.monotonic() - self.start

    def breaks(self, index, reason):
        if index in self.broken:
            return
        self.broken[index] = (self.elapsed(), reason)
        self.waiting.pop(index, None)
        sock = self.connections[index]
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    def tick(self, probes):
        """One tick's sends: the next connections in turn, and PROBES probes."""
        count = len(self.connections)
        per_tick = max(1, round(count * TICK))
        now = time.monotonic()
        for _ in range(per_tick):
            index = self.next_exchange
            self.next_exchange = (self.next_exchange + 1) % count
            if index in self.broken or index in self.waiting:
                continue
            try:
                self.connections[index].send(b"%d %d\n" % (index, self.exchanges))
                self.waiting[index] = now + ANSWER_TIMEOUT
            except OSError as error:
                self.breaks(index, type(error).__name__)
        for _ in range(probes):
            self.sequence += 1
            try:
                self.udp.sendto(struct.pack("!Q", self.sequence), (self.address, self.port))
            except OSError:
                pass
            self.sent[self.sequence] = now

    def receive(self, timeout):
        for key, _ in self.selector.select(timeout):
            if key.data == "udp":
                while True:
                    try:
                        data = self.udp.recv(128)
                    except OSError:
                        break
                    if len(data) >= 8:
                        (sequence,) = struct.unpack("!Q", data[:8])
                        if sequence in self.sent and time.monotonic() - self.sent[sequence] <= PROBE_TIMEOUT:
                            self.answered.add(sequence)
                            self.responders.add(data[8:].decode(errors="replace"))
                continue
            index = key.data
            try:
                data = key.fileobj.recv(4096)
            except ConnectionResetError:
                self.breaks(index, "reset")
                continue
            except OSError as error:
                self.breaks(index, type(error).__name__)
                continue
            if not data:
                self.breaks(index, "closed")
                continue
            buffered = self.buffers[index] + data
            *lines, rest = buffered.split(b"\n")
            self.buffers[index] = rest
            for line in lines:
                self.exchanges += 1
                self.waiting.pop(index, None)
                words = line.split()
                if words:
                    self.responders.add(words[-1].decode(errors="replace"))

    def expire(self):
        now = time.monotonic()
        for index, deadline in list(self.waiting.items()):
            if now > deadline:
                self.breaks(index, "no answer")

    def run(self, duration, stopping):
        carry = 0.0
        end = self.start + duration
        next_tick = time.monotonic()
        while time.monotonic() < end and not stopping():
            carry += self.rate * TICK
            probes = int(carry)
            carry -= probes
            self.tick(probes)
            next_tick += TICK
            while True:
                left = next_tick - time.monotonic()
                if left <= 0:
                    break
                self.receive(left)
            self.expire()
        # The last answers.
        linger = time.monotonic() + max(ANSWER_TIMEOUT, PROBE_TIMEOUT)
        while time.monotonic() < linger and (self.waiting or len(self.answered) < len(self.sent)):
            self.receive(0.05)
            if all(time.monotonic() - sent > PROBE_TIMEOUT for sent in self.sent.values()) and not self.waiting:
                break
            self.expire()
        self.expire()

    def summary(self):
        lost = len(self.sent) - len(self.answered)
        lines = [
            "connections %d broken %d exchanges %d probes %d lost %d responders %s"
            % (
                len(self.connections),
                len(self.broken),
                self.exchanges,
                len(self.sent),
                lost,
                ",".join(sorted(self.responders)) or "-",
            )
        ]
        for index, (seconds, reason) in sorted(self.broken.items()):
            lines.append("broken %d %.3f %s" % (index, seconds, reason))
        return "\n".join(lines) + "\n"


def client(arguments):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    try:
        session = Client(arguments.address, arguments.port, arguments.connections, arguments.rate)
    except OSError as error:
        print("cannot open the connections to %s: %s" % (arguments.address, error), file=sys.stderr)
        return 1
    print("connected %d" % arguments.connections, flush=True)
    session.run(arguments.duration, lambda: bool(stop))
    text = session.summary()
    sys.stdout.write(text)
    if arguments.out:
        with open(arguments.out, "w") as out:
            out.write(text)
    return 0


def bounded(low, high, kind):
    def parse(text):
        value = kind(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError("%s is not within %s..%s" % (text, low, high))
        return value

    return parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("serve")
    server.add_argument("name")
    server.add_argument("--port", type=bounded(1, 65535, int), default=PORT)
    sender = commands.add_parser("client")
    sender.add_argument("address")
    sender.add_argument("--connections", type=bounded(1, MAX_CONNECTIONS, int), default=50)
    sender.add_argument("--rate", type=bounded(0, MAX_RATE, int), default=200)
    sender.add_argument("--duration", type=bounded(0.1, MAX_DURATION, float), default=60.0)
    sender.add_argument("--port", type=bounded(1, 65535, int), default=PORT)
    sender.add_argument("--out")
    arguments = parser.parse_args()
    if arguments.command == "serve":
        serve(arguments.name, arguments.port)
        return 0
    return client(arguments)


if __name__ == "__main__":
    sys.exit(main())
