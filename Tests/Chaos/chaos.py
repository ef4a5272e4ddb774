#!/usr/bin/env python3
"""The fault campaign (issue 27): a seeded random schedule of faults against three CARP hosts.

    chaos.py [--impl swiftcarp,ucarp,keepalived] [--seconds N] [--seed S] [--out DIR]
    chaos.py schedule --seed S --seconds N [--impl IMPL]    prints the schedule only

Three hosts (h1, h2, h3: advskew 0, 50, 100, or keepalived priorities 254, 206, 156) and a client
(h4) in network namespaces on one bridge. The client sends UDP probes to the virtual address,
100 a second, and records who answered, and holds a TCP connection to it (a byte echoed every
100 ms; a broken one is recorded and opened again); a sampler reads every host's own address list over
rtnetlink every 50 ms. The schedule (random.Random(SEED)) starts faults at random times, some
overlapping, for SECONDS; each implementation gets the same schedule, less the kinds that do
not apply to it. Then the checker (checker.py) judges the history; the exit status is 1 if an
invariant was broken. Everything of a run is in DIR/IMPL-seedS/ (history.json, logs).

Implementations: swiftcarp (SwiftCARP under --daemonize with a pid file, --shutdown: its
supervisor restarts a killed worker), swiftcarp-fg (in the foreground: the campaign restarts
it when the schedule has killed it, as systemd's Restart= would, but nothing cleans up
after it), swiftcarp-watchdog (in the foreground with --watchdog: its own supervising parent
cleans up after a killed instance and restarts it, as under --daemonize), ucarp (Debian's, foreground, --shutdown; restarted likewise), keepalived
(Debian's, --dont-fork: its parent restarts a killed VRRP child), swiftcarp-etcd (as swiftcarp,
with the etcd guard: three etcd members, one on each host, --etcd-ttl=2; the checker then
excuses two holders only while a holder is frozen, and its bound has the TTL added).

Fault kinds: kill (SIGKILL of the daemon that does CARP, as the OOM killer picks it), stop
(SIGSTOP, SIGCONT at the end), partition (the bridge drops everything to and from one host),
loss (a share of CARP/VRRP packets dropped at random on the bridge), flap (the host's eth0
down, then up), ifrecreate (the host's veth deleted and created again, as a network restart),
vipdel (the virtual address deleted from the holder), term (a planned stop with TERM, started
again at the end), usr2 (a step-down; not keepalived's), crash (every process of the host
killed, its switch port down, its addresses flushed; at the end all back and the daemon
started), clockstep (the host's wall clock stepped by libfaketime, stepped back at the end);
with etcd only, etcdstop (the host's member killed, started again at the end) and etcdcut
(the host reaches no member's client port).
Targets: "master" is the host holding the address when the fault starts, "backup" another;
a host already under a fault is not given a second one (the fault goes to a free host, or is
skipped, and the history says so).
"""

import argparse
import glob
import heapq
import json
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import checker  # noqa: E402
import netlink  # noqa: E402

VIP = "192.0.2.100"
PASS = "hunter2"
HOSTS = ["h1", "h2", "h3"]
CLIENT = "h4"
SKEW = {"h1": 0, "h2": 50, "h3": 100}
ADVBASE, DEADRATIO = 1, 3
SCRIPT_TIME = 0.5
# SwiftCARP's make-before-break hand-over (README): the leaving master's down script runs at the
# new master's second advertisement, or after --handover-wait (two intervals, at least 1 s).
HANDOVER_OVERLAP = max(1.0, 2 * ADVBASE) + SCRIPT_TIME
PROBE_RATE = 100
PROBE_PORT = 7077
TCP_PORT = 7078
SAMPLE_EVERY = 0.05
KINDS = ["kill", "stop", "partition", "loss", "flap", "ifrecreate", "vipdel", "term", "usr2", "crash", "clockstep"]
NOT_FOR = {"keepalived": {"usr2"}}
DURATION = {
    "kill": (1.0, 4.0), "stop": (1.0, 6.0), "partition": (2.0, 8.0), "loss": (3.0, 10.0), "flap": (1.0, 6.0),
    "ifrecreate": (0.3, 2.0), "vipdel": (0.0, 0.0), "term": (1.0, 5.0), "usr2": (0.0, 0.0), "crash": (2.0, 8.0),
    "clockstep": (2.0, 10.0),
}
CLOCK_STEPS = ["-1h", "+1h", "-90", "+10m", "-1d"]
MEAN_GAP = 5.0
# With --etcd (swiftcarp-etcd): three etcd members, one on each host; the lease's TTL; and two
# more fault kinds: etcdstop (the host's member killed, started again at the end), etcdcut (the
# host reaches no member's client port, its own included).
ETCD_KINDS = ["etcdstop", "etcdcut"]
ETCD_MEAN_GAP = 15.0
ETCD_TTL = 2
FAKETIME = (glob.glob("/usr/lib/*/faketime/libfaketime.so.1") or [None])[0]


def bound_for(label):
    """The protocol's detection bound plus one interval and the scripts' time (ucarp: its capture
    delivers at most once a second, one more second)."""
    bound = DEADRATIO * (ADVBASE + max(SKEW.values()) / 256.0) + ADVBASE + SCRIPT_TIME
    if label.endswith("-etcd"):
        bound += ETCD_TTL  # a crashed master's successor waits for its lease to expire
    return bound + (1.0 if label == "ucarp" else 0.0)


# --- The schedule ---------------------------------------------------------------------------

def schedule(seed, seconds):
    """The faults of SEED over SECONDS: [{at, kind, target, duration, param}], by start time:
    those of every implementation, then the etcd ones (from a stream of their own, so that a
    seed's schedule without etcd stays what it was)."""
    faults = base_schedule(seed, seconds)
    rng = random.Random("%s-etcd" % seed)
    t = rng.uniform(3.0, 10.0)
    while t < seconds:
        kind = rng.choice(ETCD_KINDS)
        duration = round(min(rng.uniform(2.0, 8.0), max(0.0, seconds - t)), 2)
        faults.append({"at": round(t, 2), "kind": kind, "target": rng.choice(["master", "backup"]),
                       "duration": duration, "param": None})
        t += rng.expovariate(1.0 / ETCD_MEAN_GAP)
    return sorted(faults, key=lambda f: f["at"])


def base_schedule(seed, seconds):
    rng = random.Random(seed)
    faults = []
    t = rng.uniform(1.0, 3.0)
    while t < seconds:
        kind = rng.choice(KINDS)
        low, high = DURATION[kind]
        duration = round(min(rng.uniform(low, high), max(0.0, seconds - t)), 2)
        target = rng.choice(["master", "master", "backup"])
        param = None
        if kind == "loss":
            param = rng.choice([20, 35, 50, 65])
            target = "segment"
        elif kind == "clockstep":
            param = rng.choice(CLOCK_STEPS)
        faults.append({"at": round(t, 2), "kind": kind, "target": target, "duration": duration, "param": param})
        t += rng.expovariate(1.0 / MEAN_GAP)
    return faults


def applies(kind, label):
    if kind in ETCD_KINDS:
        return label.endswith("-etcd")
    if kind in NOT_FOR.get(label, set()):
        return False
    if kind == "clockstep" and not FAKETIME:
        return False
    return True


def print_schedule(seed, seconds, label, out=sys.stdout):
    out.write("schedule: seed %s, %s s, %s\n" % (seed, seconds, label))
    for fault in schedule(seed, seconds):
        skipped = "" if applies(fault["kind"], label) else "   (does not apply to %s: skipped)" % label
        out.write("  t=%7.2f  %-10s %-8s %5.2f s %s%s\n" % (fault["at"], fault["kind"], fault["target"],
                                                            fault["duration"], fault["param"] or "", skipped))
    out.flush()


# --- Shell-outs -------------------------------------------------------------------------------

def run(*command, check=True):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and result.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(command), result.stdout.strip()))
    return result


class Topology:
    """Namespaces PREFIX-sw (bridge br0), PREFIX-h1..h3 and the client PREFIX-h4 (topology.sh's)."""

    def __init__(self, prefix):
        self.prefix = prefix

    def ns(self, host):
        return "%s-%s" % (self.prefix, host)

    @staticmethod
    def address(host):
        return "192.0.2.%d" % (10 + int(host[1:]))

    def up(self):
        sw = self.ns("sw")
        run("ip", "netns", "add", sw)
        run("ip", "netns", "exec", sw, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", check=False)
        run("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", sw, "link", "set", "br0", "up")
        run("ip", "netns", "exec", sw, "sh", "-c", "echo 0 > /sys/class/net/br0/bridge/multicast_snooping",
            check=False)
        for host in HOSTS + [CLIENT]:
            run("ip", "netns", "add", self.ns(host))
            run("ip", "-n", self.ns(host), "link", "set", "lo", "up")
            self.plug(host)

    def plug(self, host):
        """HOST's eth0 and its switch port pN, up, with the host's address."""
        n = host[1:]
        run("ip", "link", "add", "name", "eth0", "netns", self.ns(host), "type", "veth", "peer", "name", "p" + n,
            "netns", self.ns("sw"))
        run("ip", "-n", self.ns("sw"), "link", "set", "p" + n, "master", "br0", "up")
        run("ip", "-n", self.ns(host), "link", "set", "eth0", "up")
        run("ip", "-n", self.ns(host), "addr", "add", self.address(host) + "/24", "dev", "eth0")

    def pids(self, host):
        result = run("ip", "netns", "pids", self.ns(host), check=False)
        return [int(p) for p in result.stdout.split() if p.isdigit()]

    def down(self):
        for host in HOSTS + [CLIENT, "sw"]:
            for pid in self.pids(host):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for host in HOSTS + [CLIENT, "sw"]:
            run("ip", "netns", "del", self.ns(host), check=False)

    def nft(self, script):
        subprocess.run(["ip", "netns", "exec", self.ns("sw"), "nft", "-f", "-"], input=script, text=True,
                       check=True, stdout=subprocess.DEVNULL)


# --- Processes --------------------------------------------------------------------------------

def alive(pid):
    """PID exists and is neither a zombie nor dead (a stopped process is alive)."""
    try:
        with open("/proc/%d/stat" % pid) as file:
            state = file.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as file:
            return [int(p) for p in file.read().split()]
    except OSError:
        return []


def runs(pid, binary):
    """PID runs BINARY (/proc/PID/exe, a binary replaced since its exec counting as itself).
    `ip netns exec` (and `env` under faketime) keeps its pid when it execs the daemon: until
    then the pid is theirs, with their few descriptors and their memory."""
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return False
    if exe.endswith(" (deleted)"):
        exe = exe[:-len(" (deleted)")]
    return exe == os.path.realpath(binary)


def usage(pid, binary=None):
    """Descriptors and resident memory of PID, None if it is gone or (given BINARY) does not
    run it yet."""
    if binary is not None and not runs(pid, binary):
        return None
    try:
        fds = len(os.listdir("/proc/%d/fd" % pid))
        with open("/proc/%d/status" % pid) as file:
            rss = next(int(line.split()[1]) for line in file if line.startswith("VmRSS:"))
        started = started_at(pid)
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    return {"pid": pid, "started": started, "fds": fds, "rss_kb": rss}


def started_at(pid):
    """When PID started (clock ticks since boot, /proc/PID/stat's 22nd field): with the pid, a
    process's identity (pids wrap: pid_max 32768 and a campaign's thousands of processes reuse
    them within minutes)."""
    with open("/proc/%d/stat" % pid) as file:
        return int(file.read().rsplit(")", 1)[1].split()[19])


def record(usages, name, use, now):
    """Appends USE (of the process NAME, e.g. h2-parent) at NOW to USAGES, one entry a process:
    keyed by pid and start time, so a pid reused by another process starts an entry of its own
    rather than continuing the old one (seen: swiftcarp-etcd seed 307, h1's new worker on the
    pid of h2's supervisor gone 140 s before, judged as that supervisor grown from 12 to 16
    descriptors)."""
    key = "%d@%s" % (use["pid"], use.get("started"))
    entry = usages.setdefault(key, {"host": name, "pid": use["pid"], "samples": []})
    entry["samples"].append([round(now, 2), use["fds"], use["rss_kb"]])


def signal_pid(pid, number):
    try:
        os.kill(pid, number)
        return True
    except (ProcessLookupError, TypeError):
        return False


class Daemon:
    """One host's daemon, whichever the implementation: start(), alive(), carp_pid() (the
    process that does CARP: the worker, the VRRP child), main_pid() (the one signals go to)."""

    def __init__(self, label, host, topology, work, binary):
        self.label, self.host, self.topology, self.work, self.binary = label, host, topology, work, binary
        self.popen = None
        self.pidfile = os.path.join(work, "%s.pid" % host)
        self.vrrp_pidfile = os.path.join(work, "vrrp.%s.pid" % host)
        self.clock = os.path.join(work, "clock.%s" % host)
        self.log = os.path.join(work, "%s.log" % host)
        self.supervisor = None
        self.daemonized = label in ("swiftcarp", "swiftcarp-etcd")
        # In the foreground, the instance a child of the process started (--watchdog).
        self.watched = label == "swiftcarp-watchdog"
        self.etcd_options = []
        if label == "swiftcarp-etcd":
            self.etcd_options = ["--etcd=" + ",".join("http://%s:2379" % Topology.address(h) for h in HOSTS),
                                 "--etcd-ttl=%d" % ETCD_TTL]
        self.keepalived_conf = os.path.join(work, "keepalived.%s.conf" % host)
        with open(self.clock, "w") as file:
            file.write("+0\n")

    def environment(self):
        if not FAKETIME:
            return []
        return ["env", "LD_PRELOAD=" + FAKETIME, "FAKETIME_TIMESTAMP_FILE=" + self.clock, "FAKETIME_NO_CACHE=1",
                "FAKETIME_DONT_FAKE_MONOTONIC=1"]

    def carp_options(self):
        return ["--interface=eth0", "--srcip=" + Topology.address(self.host), "--vhid=7", "--pass=" + PASS,
                "--addr=" + VIP, "--advbase=%d" % ADVBASE, "--advskew=%d" % SKEW[self.host],
                "--deadratio=%d" % DEADRATIO, "--shutdown", "--upscript=" + os.path.join(self.work, "up"),
                "--downscript=" + os.path.join(self.work, "down"), "--facility=none"]

    def write_keepalived_conf(self):
        priority = 256 - SKEW[self.host] - 2 if SKEW[self.host] == 0 else 256 - SKEW[self.host]
        with open(self.keepalived_conf, "w") as file:
            file.write("global_defs {\n    router_id %s\n    script_user root\n}\n" % self.host)
            file.write("vrrp_instance VI_7 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 7\n")
            file.write("    priority %d\n    advert_int %d\n" % (priority, ADVBASE))
            file.write("    authentication {\n        auth_type PASS\n        auth_pass %s\n    }\n" % PASS)
            file.write("    virtual_ipaddress {\n        %s/32\n    }\n}\n" % VIP)

    def start(self):
        prefix = ["ip", "netns", "exec", self.topology.ns(self.host)] + self.environment()
        log = open(self.log, "a")
        log.write("--- started at %.3f\n" % time.monotonic())
        log.flush()
        if self.daemonized:
            for stale in (self.pidfile,):
                if os.path.exists(stale):
                    os.unlink(stale)
            subprocess.run(prefix + [self.binary] + self.carp_options() + self.etcd_options
                           + ["--daemonize", "--pidfile=" + self.pidfile],
                           stdout=log, stderr=log, timeout=20)
            self.supervisor = None
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self.supervisor is None:
                try:
                    with open(self.pidfile) as file:
                        self.supervisor = int(file.read().split()[0])
                except (OSError, ValueError, IndexError):
                    time.sleep(0.05)
        elif self.label == "keepalived":
            self.write_keepalived_conf()
            for stale in (self.pidfile, self.vrrp_pidfile):
                if os.path.exists(stale):
                    os.unlink(stale)
            self.popen = subprocess.Popen(prefix + ["keepalived", "--dont-fork", "--log-console", "--no-syslog",
                                                    "--vrrp", "-f", self.keepalived_conf, "-p", self.pidfile,
                                                    "-r", self.vrrp_pidfile], stdout=log, stderr=log)
        else:
            binary = "/usr/sbin/ucarp" if self.label == "ucarp" else self.binary
            watchdog = ["--watchdog"] if self.watched else []
            self.popen = subprocess.Popen(prefix + [binary] + self.carp_options() + watchdog, stdout=log, stderr=log)
        log.close()

    def main_pid(self):
        return self.supervisor if self.daemonized else (self.popen.pid if self.popen else None)

    def carp_pid(self):
        main = self.main_pid()
        if main is None:
            return None
        if self.daemonized or self.watched:
            kids = [p for p in children(main) if alive(p)]
            return kids[0] if kids else None
        if self.label == "keepalived":
            try:
                with open(self.vrrp_pidfile) as file:
                    pid = int(file.read().split()[0])
                return pid if alive(pid) else None
            except (OSError, ValueError, IndexError):
                return None
        return main

    def alive(self):
        main = self.main_pid()
        if main is not None and alive(main):
            return True
        if self.popen is not None:
            self.popen.poll()
        return False

    def exit_description(self):
        if self.popen is not None:
            code = self.popen.poll()
            return "exit status %s" % code if code is not None and code >= 0 else "signal %s" % (-(code or 0))
        return "the supervisor (pid %s) is gone" % self.supervisor

    def restarts_itself(self):
        """A killed CARP process is restarted by the daemon's own parent (SwiftCARP's supervisor,
        keepalived's)."""
        return self.daemonized or self.watched or self.label == "keepalived"

    def executable(self):
        """The binary the daemon's processes run."""
        if self.label == "ucarp":
            return "/usr/sbin/ucarp"
        if self.label == "keepalived":
            return shutil.which("keepalived") or "/usr/sbin/keepalived"
        return self.binary

    def usages(self):
        """Usage of the CARP process and of its parent, each only once it runs the daemon's
        binary (a sample of `ip netns exec` before its exec would be a false start)."""
        result = {}
        carp = self.carp_pid()
        if carp:
            result[self.host] = usage(carp, self.executable())
        if self.restarts_itself() and self.main_pid() and alive(self.main_pid()):
            result[self.host + "-parent"] = usage(self.main_pid(), self.executable())
        return result


# --- The client -------------------------------------------------------------------------------

def client(vip, rate, out):
    """In the client's namespace: probes to VIP at RATE until SIGTERM, then one line each to OUT:
    SENT(monotonic) ANSWERED(0/1) RESPONDER.

    The probes of Benchmarks/probe.py (which answers them here too), not its sender: this one
    runs for the whole campaign (probe.py's stops at 120 s), on the monotonic clock of the
    history's other samples (probe.py's on the wall clock, as the benchmarks' shell), and counts
    an answer later than 1 s as lost."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sent, answered = [], {}
    interval = 1.0 / rate
    due = time.monotonic()
    while not stopping:
        now = time.monotonic()
        while due <= now:
            sequence = len(sent)
            sent.append(time.monotonic())
            try:
                sock.sendto(struct.pack("!Q", sequence), (vip, PROBE_PORT))
            except OSError:
                pass
            due += interval
            if due < now - 0.05:
                due = now
        while True:
            try:
                data = sock.recv(128)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue
            if len(data) > 8:
                (sequence,) = struct.unpack("!Q", data[:8])
                if sequence < len(sent) and sequence not in answered and time.monotonic() - sent[sequence] < 1.0:
                    answered[sequence] = data[8:].decode(errors="replace")
        try:
            select.select([sock], [], [], max(0.0, due - time.monotonic()))
        except InterruptedError:
            pass
    with open(out, "w") as file:
        for sequence, at in enumerate(sent):
            file.write("%.6f %d %s\n" % (at, 1 if sequence in answered else 0, answered.get(sequence, "-")))


def tcp_serve(port):
    """On a host: echoes what every TCP connection sends, until killed."""
    import socketserver

    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            while True:
                data = self.request.recv(64)
                if not data:
                    return
                self.request.sendall(data)

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("0.0.0.0", port), Echo) as server:
        server.serve_forever()


def tcp_client(vip, port, out):
    """In the client's namespace: holds one TCP connection to VIP, a byte each 100 ms echoed within
    a second; a connection that fails is recorded and opened again. Until SIGTERM; then one line
    an event to OUT: TIME(monotonic) connected|broken|refused REASON."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    events = []
    sock = None
    while not stopping:
        if sock is None:
            try:
                sock = socket.create_connection((vip, port), timeout=1.0)
                events.append((time.monotonic(), "connected", "-"))
            except OSError as error:
                events.append((time.monotonic(), "refused", type(error).__name__))
                sock = None
                time.sleep(0.1)
                continue
        try:
            sock.sendall(b"x")
            if sock.recv(1) != b"x":
                raise ConnectionResetError("closed")
        except OSError as error:
            events.append((time.monotonic(), "broken", type(error).__name__))
            sock.close()
            sock = None
            continue
        time.sleep(0.1)
    with open(out, "w") as file:
        for at, what, why in events:
            file.write("%.6f %s %s\n" % (at, what, why))


# --- The campaign -----------------------------------------------------------------------------

class Campaign:
    def __init__(self, label, seed, seconds, out, binary):
        self.label, self.seed, self.seconds, self.binary = label, seed, seconds, binary
        self.work = os.path.join(out, "%s-seed%s" % (label, seed))
        os.makedirs(self.work, exist_ok=True)
        self.topology = Topology("cz%dx%d" % (os.getpid() % 100000, random.randrange(1000)))
        self.bound = bound_for(label)
        self.samples, self.faults, self.exits, self.log_lines = [], [], [], []
        self.lock = threading.Lock()
        self.stop_sampling = threading.Event()
        self.busy = {}  # host -> the fault on it
        self.down = set()  # hosts whose daemon the schedule has stopped, until the fault ends
        self.pending_restart = {}  # host -> the time the campaign restarts its dead daemon
        self.rng = random.Random("%s-runtime" % seed)
        self.responders = {}
        self.tcp_servers = {}
        self.usage = {}
        self.etcd = {}
        self.loss_active = False
        self.daemons = {}

    def say(self, text):
        line = "%8.2f  %s" % (self.now(), text)
        self.log_lines.append(line)
        print("[%s] %s" % (self.label, line), flush=True)

    def now(self):
        return time.monotonic() - self.t0

    # The hosts' scripts and the responders.
    def write_scripts(self):
        for name, body in (("up", 'ip addr add "$2/32" dev "$1"\n'),
                           ("down", 'ip addr del "$2/32" dev "$1" 2>/dev/null\nexit 0\n')):
            path = os.path.join(self.work, name)
            with open(path, "w") as file:
                file.write("#!/bin/sh\n" + body)
            os.chmod(path, 0o755)

    def responder_up(self, host):
        pid = self.responders.get(host)
        if pid and alive(pid):
            return
        process = subprocess.Popen(["ip", "netns", "exec", self.topology.ns(host), sys.executable, "-B",
                                    os.path.join(ROOT, "Benchmarks", "probe.py"), "respond", host],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.responders[host] = process.pid
        server = subprocess.Popen(["ip", "netns", "exec", self.topology.ns(host), sys.executable, "-B",
                                   os.path.abspath(__file__), "tcpserve"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.tcp_servers[host] = server.pid

    # The sampler: every host's address list every SAMPLE_EVERY, on a thread of its own.
    def etcd_start(self, host):
        cluster = ",".join("%s=http://%s:2380" % (h, Topology.address(h)) for h in HOSTS)
        url = "http://%s:2379" % Topology.address(host)
        log = open(os.path.join(self.work, "etcd.%s.log" % host), "a")
        process = subprocess.Popen(["ip", "netns", "exec", self.topology.ns(host), "etcd", "--name", host,
                                    "--data-dir", os.path.join(self.work, "etcd-" + host),
                                    "--listen-client-urls", url, "--advertise-client-urls", url,
                                    "--listen-peer-urls", "http://%s:2380" % Topology.address(host),
                                    "--initial-advertise-peer-urls", "http://%s:2380" % Topology.address(host),
                                    "--initial-cluster", cluster, "--initial-cluster-state", "new",
                                    "--initial-cluster-token", self.topology.prefix, "--pre-vote"],
                                   stdout=log, stderr=log)
        log.close()
        self.etcd[host] = process

    def etcd_writable(self, host):
        result = subprocess.run(["ip", "netns", "exec", self.topology.ns(host), "env", "ETCDCTL_API=3", "etcdctl",
                                 "--endpoints=http://%s:2379" % Topology.address(host), "--dial-timeout=1s",
                                 "--command-timeout=2s", "put", "/chaos/probe", host],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return result.returncode == 0

    def sampler(self):
        sockets = {host: netlink.Host(self.topology.ns(host)) for host in HOSTS}
        while not self.stop_sampling.is_set():
            t = self.now()
            held, present, live = [], [], []
            for host, sock in sockets.items():
                try:
                    has, holds = sock.vip_state(VIP)
                except OSError:
                    has, holds = False, False
                if has:
                    present.append(host)
                if holds:
                    held.append(host)
                if self.daemons[host].alive():
                    live.append(host)
            with self.lock:
                self.samples.append({"t": round(t, 3), "held": held, "present": present, "alive": live})
            time.sleep(max(0.0, SAMPLE_EVERY - (self.now() - t)))

    def holders(self):
        with self.lock:
            return list(self.samples[-1]["held"]) if self.samples else []

    # Faults.
    def pick(self, target):
        """The host a fault on TARGET goes to, or None: the holder for "master", another for "backup";
        a busy host never (another free host instead)."""
        holders = self.holders()
        free = [h for h in HOSTS if h not in self.busy]
        if not free:
            return None
        if target == "master":
            wanted = [h for h in holders if h in free]
        else:
            wanted = [h for h in free if h not in holders]
        return (wanted or free)[self.rng.randrange(len(wanted or free))]

    def begin(self, planned):
        kind = planned["kind"]
        fault = {"kind": kind, "target": planned["target"], "planned_at": planned["at"], "param": planned["param"],
                 "begin": round(self.now(), 3), "host": None}
        if kind == "loss":
            if self.loss_active:
                self.say("skipped: %s (a loss is already in force)" % kind)
                return None
            self.loss_active = True
            self.topology.nft("table bridge chaos_loss {\n chain forward {\n  type filter hook forward priority 0;\n"
                              "  ip protocol 112 numgen random mod 100 < %d drop\n }\n}\n" % planned["param"])
            self.say("loss %d%% of CARP packets begins" % planned["param"])
            return fault
        host = self.pick(planned["target"])
        if host is None:
            self.say("skipped: %s (every host is under a fault)" % kind)
            return None
        fault["host"] = host
        self.busy[host] = fault
        daemon = self.daemons[host]
        ns = self.topology.ns(host)
        n = host[1:]
        holder = "holder" if host in self.holders() else "non-holder"
        self.say("%s on %s (%s, target %s) begins" % (kind, host, holder, planned["target"]))
        if kind == "kill":
            pid = daemon.carp_pid()
            fault["pid"] = pid
            signal_pid(pid, signal.SIGKILL)
            if not daemon.restarts_itself():
                self.down.add(host)
        elif kind == "stop":
            fault["pid"] = daemon.carp_pid()
            signal_pid(fault["pid"], signal.SIGSTOP)
        elif kind == "partition":
            self.topology.nft("table bridge chaos_part_%s {\n chain forward {\n  type filter hook forward priority 0;\n"
                              "  iifname \"p%s\" drop\n  oifname \"p%s\" drop\n }\n}\n" % (host, n, n))
        elif kind == "flap":
            run("ip", "-n", ns, "link", "set", "eth0", "down")
        elif kind == "ifrecreate":
            run("ip", "-n", ns, "link", "del", "eth0")
        elif kind == "vipdel":
            run("ip", "-n", ns, "addr", "del", VIP + "/32", "dev", "eth0", check=False)
        elif kind == "term":
            self.down.add(host)
            signal_pid(daemon.main_pid(), signal.SIGTERM)
        elif kind == "usr2":
            signal_pid(daemon.main_pid(), signal.SIGUSR2)
        elif kind == "crash":
            self.down.add(host)
            run("ip", "-n", self.topology.ns("sw"), "link", "set", "p" + n, "down")
            for pid in self.topology.pids(host):
                if pid not in (self.responders.get(host), self.tcp_servers.get(host)):
                    signal_pid(pid, signal.SIGKILL)
            run("ip", "-n", ns, "addr", "flush", "dev", "eth0", check=False)
        elif kind == "clockstep":
            with open(daemon.clock, "w") as file:
                file.write(planned["param"] + "\n")
        elif kind == "etcdstop":
            signal_pid(self.etcd[host].pid, signal.SIGKILL)
        elif kind == "etcdcut":
            subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], check=True, text=True,
                           input="table inet etcdcut {\n chain output {\n  type filter hook output priority 0;\n"
                                 "  tcp dport 2379 drop\n }\n}\n")
        return fault

    def end(self, fault):
        kind, host = fault["kind"], fault["host"]
        fault["end"] = round(self.now(), 3)
        if kind == "loss":
            self.topology.nft("delete table bridge chaos_loss\n")
            self.loss_active = False
            self.say("loss ends")
            return
        daemon = self.daemons[host]
        ns = self.topology.ns(host)
        n = host[1:]
        if kind == "kill" and host in self.down:
            self.start_daemon(host, "restarted after the kill, as a service manager would")
        elif kind == "stop":
            signal_pid(fault.get("pid"), signal.SIGCONT)
        elif kind == "partition":
            self.topology.nft("delete table bridge chaos_part_%s\n" % host)
        elif kind == "flap":
            run("ip", "-n", ns, "link", "set", "eth0", "up")
        elif kind == "ifrecreate":
            self.topology.plug(host)
        elif kind == "term":
            deadline = time.monotonic() + 3
            while daemon.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if daemon.alive():
                self.say("%s's daemon still runs 3 s after TERM" % host)
            else:
                self.start_daemon(host, "started again after the planned stop")
        elif kind == "crash":
            run("ip", "-n", ns, "addr", "add", Topology.address(host) + "/24", "dev", "eth0", check=False)
            run("ip", "-n", self.topology.ns("sw"), "link", "set", "p" + n, "up")
            self.responder_up(host)
            if host in self.etcd:
                self.etcd_start(host)
            self.start_daemon(host, "rebooted")
        elif kind == "clockstep":
            with open(daemon.clock, "w") as file:
                file.write("+0\n")
        elif kind == "etcdstop":
            self.etcd[host].wait(timeout=5)
            self.etcd_start(host)
        elif kind == "etcdcut":
            run("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "etcdcut", check=False)
        self.down.discard(host)
        del self.busy[host]
        self.say("%s on %s ends" % (kind, host))

    def start_daemon(self, host, why):
        self.daemons[host].start()
        self.say("%s's daemon %s" % (host, why))

    def record_usage(self):
        """Descriptors and memory of every daemon process, once a second, by process (the
        checker compares each process's last ten seconds with its first)."""
        for host, daemon in self.daemons.items():
            for name, use in daemon.usages().items():
                if use:
                    record(self.usage, name, use, self.now())

    def watchdog(self):
        """A daemon that has gone without the schedule's doing is recorded once and restarted a
        second later (Restart=always), once no fault holds its host."""
        for host, daemon in self.daemons.items():
            if host in self.down:
                continue
            if daemon.alive():
                self.pending_restart.pop(host, None)
                continue
            if host not in self.pending_restart:
                # The supervisor may be starting a new worker: a second look before judging.
                time.sleep(0.05)
                if daemon.alive():
                    continue
                how = daemon.exit_description()
                self.exits.append({"t": round(self.now(), 3), "host": host, "how": how})
                self.say("UNEXPECTED: %s's daemon has gone (%s)" % (host, how))
                self.pending_restart[host] = self.now() + 1.0
            elif self.now() >= self.pending_restart[host] and host not in self.busy:
                del self.pending_restart[host]
                self.start_daemon(host, "restarted after its unexpected end")

    def converge(self, timeout):
        deadline = self.now() + timeout
        while self.now() < deadline:
            if len(self.holders()) == 1:
                return True
            time.sleep(0.1)
        return False

    def run(self):
        self.write_scripts()
        self.topology.up()
        self.t0 = time.monotonic()
        client_out = os.path.join(self.work, "probes.txt")
        tcp_out = os.path.join(self.work, "tcp.txt")
        try:
            for host in HOSTS:
                self.responder_up(host)
                self.daemons[host] = Daemon(self.label, host, self.topology, self.work, self.binary)
            if self.label.endswith("-etcd"):
                for host in HOSTS:
                    self.etcd_start(host)
                deadline = time.monotonic() + 40
                for host in HOSTS:
                    while not self.etcd_writable(host) and time.monotonic() < deadline:
                        time.sleep(0.5)
                self.say("etcd members up (writable: %s)" % [h for h in HOSTS if self.etcd_writable(h)])
            sampler = threading.Thread(target=self.sampler, daemon=True)
            sampler.start()
            for i, host in enumerate(HOSTS):
                self.start_daemon(host, "started")
                time.sleep(3.0 if i == 0 else 0.5)
            if not self.converge(20):
                self.say("no single holder 20 s after the start: holders %s" % self.holders())
            client_process = subprocess.Popen(["ip", "netns", "exec", self.topology.ns(CLIENT), sys.executable, "-B",
                                               os.path.abspath(__file__), "client", VIP, "--out", client_out])
            tcp_process = subprocess.Popen(["ip", "netns", "exec", self.topology.ns(CLIENT), sys.executable, "-B",
                                            os.path.abspath(__file__), "tcpclient", VIP, "--out", tcp_out])
            time.sleep(2.0)
            check_from = self.now()
            resources = {}
            for daemon in self.daemons.values():
                for name, use in daemon.usages().items():
                    resources.setdefault(name, {})["start"] = use
            plan = [f for f in schedule(self.seed, self.seconds) if applies(f["kind"], self.label)]
            actions = []  # (time, order, what, fault)
            for order, planned in enumerate(plan):
                heapq.heappush(actions, (check_from + planned["at"], order, "begin", planned))
            last_watch = last_usage = 0.0
            finish = check_from + self.seconds
            while actions or self.now() < finish:
                now = self.now()
                while actions and actions[0][0] <= now:
                    _, order, what, item = heapq.heappop(actions)
                    if what == "begin":
                        fault = self.begin(item)
                        if fault is not None:
                            self.faults.append(fault)
                            heapq.heappush(actions, (now + item["duration"], order, "end", fault))
                    else:
                        self.end(item)
                if now - last_watch >= 0.2:
                    self.watchdog()
                    last_watch = now
                if now - last_usage >= 1.0:
                    self.record_usage()
                    last_usage = now
                time.sleep(0.02)
            # The tail: every fault has ended; the bound and a margin for the last to settle.
            tail_end = self.now() + self.bound + 3.0
            while self.now() < tail_end:
                self.watchdog()
                time.sleep(0.2)
            end = self.now()
            for daemon in self.daemons.values():
                for name, use in daemon.usages().items():
                    resources.setdefault(name, {})["end"] = use
            client_process.send_signal(signal.SIGTERM)
            client_process.wait(timeout=30)
            tcp_process.send_signal(signal.SIGTERM)
            tcp_process.wait(timeout=30)
            self.stop_sampling.set()
            sampler.join(timeout=5)
        finally:
            self.stop_sampling.set()
            self.topology.down()
        probes = []
        if os.path.exists(client_out):
            with open(client_out) as file:
                for line in file:
                    at, ok, who = line.split()
                    probes.append((round(float(at) - self.t0, 4), int(ok), who))
        tcp = []
        if os.path.exists(tcp_out):
            with open(tcp_out) as file:
                for line in file:
                    at, what, why = line.split()
                    tcp.append((round(float(at) - self.t0, 4), what, why))
        history = {
            "meta": {"label": self.label, "seed": self.seed, "seconds": self.seconds, "bound": round(self.bound, 3),
                     "guard": self.label.endswith("-etcd"),
                     "handover_overlap": HANDOVER_OVERLAP if self.label in ("swiftcarp", "swiftcarp-fg", "swiftcarp-watchdog") else 0.0,
                     "check_from": round(check_from, 3), "end": round(end, 3), "hosts": HOSTS,
                     "probe_rate": PROBE_RATE, "advbase": ADVBASE, "deadratio": DEADRATIO, "skews": SKEW},
            "schedule": schedule(self.seed, self.seconds), "faults": self.faults, "samples": self.samples,
            "exits": self.exits, "resources": resources, "usage": self.usage, "probes": probes, "tcp": tcp, "log": self.log_lines,
        }
        path = os.path.join(self.work, "history.json")
        with open(path, "w") as file:
            json.dump(history, file)
        return path


def main(argv):
    if len(argv) > 1 and argv[1] == "client":
        parser = argparse.ArgumentParser(prog="chaos.py client")
        parser.add_argument("vip")
        parser.add_argument("--rate", type=int, default=PROBE_RATE)
        parser.add_argument("--out", required=True)
        args = parser.parse_args(argv[2:])
        client(args.vip, args.rate, args.out)
        return 0
    if len(argv) > 1 and argv[1] == "tcpserve":
        tcp_serve(TCP_PORT)
        return 0
    if len(argv) > 1 and argv[1] == "tcpclient":
        tcp_client(argv[2], TCP_PORT, argv[4])
        return 0
    parser = argparse.ArgumentParser(description="The fault campaign (issue 27).")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "schedule"])
    parser.add_argument("--impl", default=os.environ.get("CHAOS_IMPLS", "swiftcarp,ucarp,keepalived"))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("CHAOS_SECONDS", 120)))
    parser.add_argument("--seed", default=os.environ.get("CHAOS_SEED") or None)
    parser.add_argument("--out", default=os.path.join(ROOT, ".build", "chaos"))
    parser.add_argument("--binary", default=os.environ.get("SWIFTCARP", os.path.join(ROOT, ".build", "debug", "ucarp")))
    args = parser.parse_args(argv[1:])
    seed = int(args.seed) if args.seed is not None else random.SystemRandom().randrange(1, 100000)
    labels = [label for label in args.impl.split(",") if label]
    if args.command == "schedule":
        for label in labels:
            print_schedule(seed, args.seconds, label)
        return 0
    if os.geteuid() != 0:
        print("chaos.py needs root (network namespaces)", file=sys.stderr)
        return 2
    print("chaos: seed %d, %g s; replay with: make chaos CHAOS_SEED=%d CHAOS_SECONDS=%g CHAOS_IMPLS=%s"
          % (seed, args.seconds, seed, args.seconds, ",".join(labels)), flush=True)
    if not FAKETIME:
        print("chaos: no libfaketime: the clockstep faults are skipped", flush=True)
    histories = []
    for label in labels:
        print_schedule(seed, args.seconds, label)
        histories.append(Campaign(label, seed, args.seconds, args.out, args.binary).run())
    return checker.main(["checker.py"] + histories)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
