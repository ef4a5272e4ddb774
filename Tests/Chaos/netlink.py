"""Which addresses each host has, read over rtnetlink from inside its network namespace.

A route socket opened in a namespace stays in it: the sampler opens one per host (entering the
namespace with setns(2) for a moment, on its own thread) and then dumps addresses and links
every few tens of milliseconds without starting a process. Python's standard library only.
"""

import ctypes
import os
import socket
import struct

CLONE_NEWNET = 0x40000000
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR = 16, 18, 20, 22
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
IFLA_IFNAME = 3
IFA_ADDRESS, IFA_LOCAL = 1, 2
IFF_UP, IFF_LOWER_UP = 0x1, 0x10000

_libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    """Moves the calling thread into the network namespace at PATH."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), path)
    finally:
        os.close(fd)


def route_socket_in(namespace):
    """A NETLINK_ROUTE socket in NAMESPACE (a name under /run/netns)."""
    own = "/proc/self/task/%d/ns/net" % _native_thread_id()
    back = os.open(own, os.O_RDONLY)
    try:
        setns("/run/netns/" + namespace)
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        sock.bind((0, 0))
        sock.settimeout(1.0)
    finally:
        if _libc.setns(back, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back failed")
        os.close(back)
    return sock


def _native_thread_id():
    import threading

    return threading.get_native_id()


def _attributes(data, offset, end):
    while offset + 4 <= end:
        length, kind = struct.unpack_from("HH", data, offset)
        if length < 4:
            break
        yield kind, data[offset + 4 : offset + length]
        offset += (length + 3) & ~3


def _dump(sock, kind, body, sequence):
    header = struct.pack("IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0)
    sock.send(header + body)
    messages = []
    while True:
        data = sock.recv(1 << 16)
        offset = 0
        while offset + 16 <= len(data):
            length, mtype, _, seq, _ = struct.unpack_from("IHHII", data, offset)
            if length < 16:
                return messages
            if seq == sequence:
                if mtype == NLMSG_DONE:
                    return messages
                if mtype == NLMSG_ERROR:
                    return messages
                messages.append((mtype, data[offset + 16 : offset + length]))
            offset += (length + 3) & ~3


class Host:
    """A host's route socket: links() and ipv4() read its state now."""

    def __init__(self, namespace):
        self.sock = route_socket_in(namespace)
        self.sequence = 0

    def _next(self):
        self.sequence += 1
        return self.sequence

    def links(self):
        """{interface name: (index, up and carrier)}."""
        result = {}
        body = struct.pack("BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)
        for mtype, payload in _dump(self.sock, RTM_GETLINK, body, self._next()):
            if mtype != RTM_NEWLINK or len(payload) < 16:
                continue
            _, _, index, flags, _ = struct.unpack_from("BxHiII", payload, 0)
            for kind, value in _attributes(payload, 16, len(payload)):
                if kind == IFLA_IFNAME:
                    name = value.rstrip(b"\0").decode()
                    result[name] = (index, bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP))
        return result

    def ipv4(self):
        """[(interface index, address)] of every IPv4 address."""
        result = []
        body = struct.pack("BBBBI", socket.AF_INET, 0, 0, 0, 0)
        for mtype, payload in _dump(self.sock, RTM_GETADDR, body, self._next()):
            if mtype != RTM_NEWADDR or len(payload) < 8:
                continue
            _, _, _, _, index = struct.unpack_from("BBBBI", payload, 0)
            local = address = None
            for kind, value in _attributes(payload, 8, len(payload)):
                if kind == IFA_LOCAL and len(value) == 4:
                    local = socket.inet_ntoa(value)
                elif kind == IFA_ADDRESS and len(value) == 4:
                    address = socket.inet_ntoa(value)
            result.append((index, local or address))
        return result

    def vip_state(self, vip, interface="eth0"):
        """(has VIP on any interface, has it on INTERFACE while that is up with a carrier)."""
        links = self.links()
        addresses = self.ipv4()
        present = any(a == vip for _, a in addresses)
        held = False
        if interface in links:
            index, up = links[interface]
            held = up and any(i == index and a == vip for i, a in addresses)
        return present, held
