#!/usr/bin/env python3
"""Prints an option of a process's packet socket, read through a duplicate of its descriptor.

    packet_socket.py PID OPTION     OPTION: ignore-outgoing (SOL_PACKET 23, Linux 4.20)

The socket is the descriptor of PID whose inode /proc/PID/net/packet lists (the process's own
network namespace); pidfd_getfd (Linux 5.6) duplicates it here, where getsockopt can read it.
Prints the option's value, one line a packet socket; exits 1 if PID has none.
"""
import ctypes
import os
import socket
import sys

SOL_PACKET = 263
OPTIONS = {"ignore-outgoing": 23}
SYS_PIDFD_GETFD = 438


def packet_inodes(pid):
    with open(f"/proc/{pid}/net/packet") as table:
        header = table.readline().split()
        column = header.index("Inode")
        return {int(line.split()[column]) for line in table if line.strip()}


def main():
    pid, option = int(sys.argv[1]), OPTIONS[sys.argv[2]]
    inodes = packet_inodes(pid)
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    found = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if not target.startswith("socket:[") or int(target[8:-1]) not in inodes:
            continue
        fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
        if fd < 0:
            sys.exit(f"pidfd_getfd of descriptor {name}: {os.strerror(ctypes.get_errno())}")
        with socket.socket(fileno=fd) as duplicate:
            print(duplicate.getsockopt(SOL_PACKET, option))
        found += 1
    sys.exit(0 if found else 1)


if __name__ == "__main__":
    main()
