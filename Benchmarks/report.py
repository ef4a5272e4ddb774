#!/usr/bin/env python3
"""The table of Benchmarks/run: statistics, goals and verdicts from the raw samples.

Benchmarks/run measures and writes one sample a line, "MEASURE IMPLEMENTATION VALUE...",
IMPLEMENTATION being "ours" (SwiftCARP) or "ucarp":

    crash IMPL SECONDS        crash takeover at advbase 1: master's last advert -> up script
    rss IMPL KB, anon IMPL KB, ring IMPL KB
                              VmRSS, RssAnon and capture ring of one master at advbase 1
    TERM IMPL SECONDS, USR2 IMPL SECONDS
                              planned hand-over and step-down: signal -> backup's up script
    spurious IMPL COUNT       script runs in the steady state at advbase 0
    crash0 IMPL SECONDS       crash takeover at advbase 0
    attempt0 IMPL OUTCOME     one advbase-0 attempt: measured, flapped (the backup was master
                              already), failed (no takeover) or no-master (none came up)
    cpu IMPL TICKS SCHED      CPU seconds of the 80 daemons: utime+stime, sum_exec_runtime
    pss IMPL KB               the 80 daemons' Pss summed
    callgrind IMPL ROLE SECONDS IR ADVERTS ELAPSED
                              one daemon under callgrind sending or receiving (ROLE) for
                              SECONDS: its instructions and the adverts on the wire
    guardcrash IMPL SECONDS, guardTERM IMPL SECONDS
                              with the etcd guard (TTL 2 s): kill -9 or TERM with --shutdown
                              of the master -> the backup's up script
    partition-guard IMPL SECONDS TAKEOVER, partition-none IMPL SECONDS TAKEOVER
                              an 8 s partition of the master, with the guard or without: how
                              long both hosts held the address, and cut -> backup's up script
    size IMPL BYTES, libs IMPL LINES
                              the binary's size and its lines of ldd
    client IMPL SCENARIO EVENT PROBES
                              the client's view (the second table; IMPL also "keepalived"):
                              SCENARIO crash, TERM, USR2, check or crash40, EVENT the Unix
                              time of the crash or signal, PROBES the file probe.py wrote

    Benchmarks/report.py [--takeover-runs N] [--handover-runs N] [--guard-runs N] [--elapsed S] SAMPLES
    Benchmarks/report.py --timeline EVENT PROBES
                              who answered the probes of one probe.py file, over time
                              relative to the Unix time EVENT (etc/demo.sh)
    Benchmarks/report.py calc NAME ARG...
                              one computation of Benchmarks/run (CALCULATIONS: differences
                              of times, adverts in a capture, memory and CPU of processes,
                              callgrind totals, probe summaries, two masters' overlap)

Python's standard library only.
"""

import argparse
import os
import statistics
import sys
from collections import defaultdict, namedtuple

IMPLEMENTATIONS = ("ours", "ucarp")
ROW = "%-50s | %-19s | %-19s | %-17s | %s"


def read_samples(lines):
    """Samples by (measure, implementation): a list of each line's values (strings)."""
    samples = defaultdict(list)
    for line in lines:
        fields = line.split()
        if len(fields) < 3 or fields[0].startswith("#"):
            continue
        samples[(fields[0], fields[1])].append(fields[2:])
    return samples


def rounded(value):
    """VALUE as the table shows it, three decimals; comparisons use the shown value."""
    return float("%.3f" % value)


def median_max(values):
    """(median, max) of VALUES, each rounded to three decimals; None when there are none."""
    if not values:
        return None
    return rounded(statistics.median(values)), rounded(max(values))


def verdict(condition):
    """'yes', 'NO', or '-' when the figure is missing (CONDITION is None)."""
    if condition is None:
        return "-"
    return "yes" if condition else "NO"


def protocol_bound(advbase, advskew):
    """The longest a backup may wait before taking over: 3 x advbase + advskew / 256."""
    return rounded(3 * advbase + advskew / 256)


def mib(kilobytes):
    return "%.1f MiB" % (kilobytes / 1024)


def med_max_cell(pair):
    return "-" if pair is None else "%.3f / %.3f s" % pair


class Report:
    """The figures of one run, read from its samples."""

    def __init__(self, samples):
        self.samples = samples

    def values(self, measure, impl, field=0):
        return [float(v[field]) for v in self.samples.get((measure, impl), [])]

    def last(self, measure, impl):
        found = self.samples.get((measure, impl), [])
        return found[-1] if found else None

    def stats(self, measure, impl):
        return median_max(self.values(measure, impl))

    def median(self, measure, impl):
        pair = self.stats(measure, impl)
        return None if pair is None else pair[0]

    def attempts0(self, impl):
        """'measured / attempts' at advbase 0, or None when that phase did not run."""
        outcomes = [v[0] for v in self.samples.get(("attempt0", impl), [])]
        if not outcomes:
            return None
        return "%d / %d" % (outcomes.count("measured"), len(outcomes))

    def flapped0(self, impl):
        return [v[0] for v in self.samples.get(("attempt0", impl), [])].count("flapped")

    def instructions_per_advert(self, impl, role):
        """From the shortest and the longest callgrind run: the difference in instructions
        over the difference in adverts (start-up and exit cancel out); None if unknown."""
        # (seconds, instructions, adverts) of each run of that role, shortest first.
        runs = sorted(
            (float(v[1]), float(v[2]), float(v[3]))
            for v in self.samples.get(("callgrind", impl), [])
            if v[0] == role
        )
        if len(runs) < 2:
            return None
        (_, short_ir, short_adverts), (_, long_ir, long_adverts) = runs[0], runs[-1]
        if long_adverts == short_adverts or short_ir == 0 or long_ir == 0:
            return None
        return (long_ir - short_ir) / (long_adverts - short_adverts)


# The guard phase's lease TTL (Benchmarks/run guard: --etcd-ttl=2, advbase 1, skew 0/50).
GUARD_TTL = 2


def guard_rows(report, row, lines, guard_runs):
    """The etcd guard's rows, when the guard phase ran: its crash takeover and hand-over, and
    how long a partition of the master gives two masters with the guard and without."""
    measures = ("guardcrash", "guardTERM", "partition-guard", "partition-none")
    if not any(report.values(m, i) for m in measures for i in IMPLEMENTATIONS):
        return
    lines.extend([
        "Guard: etcd 3.4, three members (one on each host and the client), --etcd-ttl=2, advbase 1,",
        "  skew 0/50, %d runs each. Partition: h1 alone on its side of the bridge for 8 s, then healed;"
        % guard_runs,
        "  two masters: the time both hosts' scripts said they held the address.",
    ])

    def cell(measure, impl, unit="s"):
        pair = report.stats(measure, impl)
        return "-" if pair is None else "%.3f / %.3f %s" % (pair + (unit,))

    def max_of(measure):
        pair = report.stats(measure, "ours")
        return None if pair is None else pair[1]

    bound = rounded(GUARD_TTL + protocol_bound(1, 50))
    crash = max_of("guardcrash")
    row(
        "guard: crash takeover, kill -> up (med / max)",
        cell("guardcrash", "ours"),
        "n/a: no guard",
        "<= TTL + %.3f s" % protocol_bound(1, 50),
        verdict(None if crash is None else crash <= bound),
    )
    term = max_of("guardTERM")
    row(
        "guard: hand-over, TERM with --shutdown (med / max)",
        cell("guardTERM", "ours"),
        "n/a: no guard",
        "< 0.2 s",
        verdict(None if term is None else term < 0.2),
    )
    dual = max_of("partition-guard")
    row(
        "partition, with the guard: two masters (med / max)",
        cell("partition-guard", "ours"),
        "n/a: no guard",
        "0 s",
        verdict(None if dual is None else dual == 0),
    )
    row(
        "partition, without it: two masters (med / max)",
        cell("partition-none", "ours"),
        cell("partition-none", "ucarp"),
        "",
        "",
    )
    row(
        "  partition, with the guard: cut -> backup's up",
        "-" if not report.values("partition-guard", "ours", 1)
        else "%.3f / %.3f s" % median_max(report.values("partition-guard", "ours", 1)),
        "",
        "",
        "",
    )
    lines.append("")


def table(samples, takeover_runs=7, handover_runs=3, elapsed=None, guard_runs=3):
    """The text Benchmarks/run prints: an explanation, the table, the total run time."""
    report = Report(samples)
    lines = [
        "",
        "Each column: that implementation on both hosts, same namespaces, same options, one after the other.",
        "Crash takeover: from the master's last advertisement seen on the bridge (tcpdump -tt, kernel",
        "  timestamp) to the backup's up script running (its first command: date +%s.%N); kill -9 at a",
        "  random point of the interval. Hand-over, step-down: from the signal to the backup's up script.",
        "  Median / max of %d crash runs, %d hand-over runs, 3 advbase-0 runs (at most 6"
        % (takeover_runs, handover_runs),
        "  attempts: an attempt in which the backup was already master when the master died is not measured).",
        "CPU: run time of all 80 daemons (/proc/PID/schedstat, ns) during 20 s after the elections.",
        "Memory: one master at advbase 1. Instructions: callgrind, user space only, per advertisement.",
        "",
    ]

    def row(*cells):
        lines.append(ROW % cells)

    def both(cell):
        return cell("ours"), cell("ucarp")

    def goal_max(measure, test):
        pair = report.stats(measure, "ours")
        return verdict(None if pair is None else test(pair[1]))

    row("measure", "SwiftCARP", "ucarp", "goal", "met?")
    row("-" * 50, "-" * 19, "-" * 19, "-" * 17, "----")

    bound1 = protocol_bound(1, 50)
    row(
        "crash takeover, advbase 1, skew 0/50 (med / max)",
        *both(lambda i: med_max_cell(report.stats("crash", i))),
        "<= bound + 0.05 s",
        goal_max("crash", lambda m: m <= rounded(bound1 + 0.05)),
    )
    row("  protocol bound 3 x advbase + advskew/256", "%.3f s" % bound1, "%.3f s" % bound1, "", "")
    row(
        "hand-over, TERM with --shutdown (median / max)",
        *both(lambda i: med_max_cell(report.stats("TERM", i))),
        "< 0.2 s",
        goal_max("TERM", lambda m: m < 0.2),
    )
    row(
        "step-down, USR2 (median / max)",
        *both(lambda i: med_max_cell(report.stats("USR2", i))),
        "< 0.2 s",
        goal_max("USR2", lambda m: m < 0.2),
    )

    def spurious(impl):
        found = report.last("spurious", impl)
        return None if found is None else int(found[0])

    ours = spurious("ours")
    row(
        "advbase 0, skew 26/40: role changes in 15 s",
        *both(lambda i: "-" if spurious(i) is None else str(spurious(i))),
        "0",
        verdict(None if ours is None else ours == 0),
    )

    def crash0(impl):
        pair = report.stats("crash0", impl)
        flapped = report.flapped0(impl)
        if pair is None and flapped > 0:
            return "n/a: flapped %d/%d" % (flapped, flapped)
        return med_max_cell(pair)

    bound0 = protocol_bound(0, 40)
    row(
        "advbase 0, skew 26/40: crash takeover (med / max)",
        *both(crash0),
        "<= bound + 0.05 s",
        goal_max("crash0", lambda m: m <= rounded(bound0 + 0.05)),
    )
    row("  runs measured / attempts", *both(lambda i: report.attempts0(i) or "-"), "", "")
    row("  protocol bound 3 x 0 + 40/256", "%.3f s" % bound0, "%.3f s" % bound0, "", "")

    def cpu(impl, field):
        found = report.last("cpu", impl)
        return None if found is None else found[field]

    sched = both(lambda i: cpu(i, 1))
    row(
        "CPU of 80 daemons (40 addresses x 2 hosts), 20 s",
        *("" if s is None else "%s s" % s for s in sched),
        "<= ucarp",
        verdict(None if None in sched else float(sched[0]) <= float(sched[1])),
    )
    row(
        "  same, utime+stime (10 ms ticks per process)",
        *both(lambda i: "" if cpu(i, 0) is None else "%s s" % cpu(i, 0)),
        "",
        "",
    )
    row(
        "  memory of the 80 daemons (sum of Pss)",
        *both(lambda i: "" if report.last("pss", i) is None else mib(float(report.last("pss", i)[0]))),
        "",
        "",
    )
    rss = both(lambda i: report.median("rss", i))
    row(
        "resident memory (VmRSS) of one master",
        *("" if m is None else mib(m) for m in rss),
        "<= 2 x ucarp",
        verdict(None if None in rss else rss[0] <= 2 * rss[1]),
    )
    for label, measure in (
        ("  of which anonymous (RssAnon)", "anon"),
        ("  of which the capture ring (socket mapping)", "ring"),
    ):
        row(label, *both(lambda i: "-" if report.median(measure, i) is None else mib(report.median(measure, i))), "", "")

    def size(impl):
        found = report.last("size", impl)
        if found is None:
            return "-"
        size = float(found[0])
        return "%.1f MiB" % (size / 1048576) if impl == "ours" else "%.1f KiB" % (size / 1024)

    row("installed binary, stripped", *both(size), "", "")
    row(
        "  lines of ldd (shared libraries loaded)",
        *both(lambda i: "-" if report.last("libs", i) is None else report.last("libs", i)[0]),
        "",
        "",
    )
    for role, label in (("receive", "received"), ("send", "sent")):
        row(
            "instructions per advert %s (callgrind)" % label,
            *both(
                lambda i: "-"
                if report.instructions_per_advert(i, role) is None
                else "%.0f" % report.instructions_per_advert(i, role)
            ),
            "",
            "",
        )
    lines.append("")
    guard_rows(report, row, lines, guard_runs)
    if elapsed is not None:
        lines.append("total run time: %.0f s" % elapsed)
    return "\n".join(lines) + "\n"

# ---------------------------------------------------------------------------------------------
# The client's view: probe.py's probes around one event per scenario, three implementations.

CLIENT_IMPLEMENTATIONS = ("ours", "ucarp", "keepalived")
CLIENT_ROW = "%-44s | %-20s | %-20s | %-20s | %-15s | %s"
# What an implementation cannot do, so that a scenario was not run for it.
NOT_AVAILABLE = {
    ("ucarp", "check"): "n/a: no health check",
    ("keepalived", "USR2"): "n/a: no such signal",
}
# Crash goal: the backup's master-down interval (advbase 1, advskew 50; keepalived's backup
# has priority 206, the same skew) plus 50 ms.
CLIENT_ADVBASE = 1
CLIENT_BACKUP_SKEW = 50

Probe = namedtuple("Probe", "sequence address sent answered responder")


def read_probes(lines):
    """The probes of one probe.py file, in the order they were sent."""
    probes = []
    for line in lines:
        fields = line.split()
        if len(fields) != 5 or fields[0].startswith("#"):
            continue
        answered = None if fields[3] == "-" else float(fields[3])
        responder = None if fields[4] == "-" else fields[4]
        probes.append(Probe(int(fields[0]), int(fields[1]), float(fields[2]), answered, responder))
    probes.sort(key=lambda probe: probe.sequence)
    return probes


def lost(probes):
    """How many probes nobody answered."""
    return sum(1 for probe in probes if probe.answered is None)


def runs(probes):
    """Consecutive probes with the same fate: a list of (start, end, responder or None, count).
    START is the run's first send time, END the next run's first send time (the last run ends
    with its last probe)."""
    result = []
    for probe in probes:
        if result and result[-1][2] == probe.responder:
            start, _, who, count = result[-1]
            result[-1] = (start, probe.sent, who, count + 1)
        else:
            if result:
                start, _, who, count = result[-1]
                result[-1] = (start, probe.sent, who, count)
            result.append((probe.sent, probe.sent, probe.responder, 1))
    return result


def by_address(probes):
    """The probes of each address (index), in the order they were sent."""
    groups = defaultdict(list)
    for probe in probes:
        groups[probe.address].append(probe)
    return groups


def longest_gap(probes):
    """The longest time between two answered probes in a row (send times), each address on its
    own; a silence that lasts to the end of the file counts to its last probe. None without
    probes."""
    longest = None
    for group in by_address(probes).values():
        previous = None
        for probe in group:
            if probe.answered is None:
                continue
            if previous is not None:
                longest = max(longest or 0.0, probe.sent - previous)
            previous = probe.sent
        if group and group[-1].answered is None:
            start = previous if previous is not None else group[0].sent
            longest = max(longest or 0.0, group[-1].sent - start)
    return None if longest is None else rounded(longest)


def answered_at_end(probes):
    """Every address answered its last probe: the service came back."""
    groups = by_address(probes)
    return bool(groups) and all(group[-1].answered is not None for group in groups.values())


def all_again(probes, event, responder):
    """Seconds from EVENT until every address has answered from RESPONDER (the send time of
    each address's first probe RESPONDER answered after EVENT, the latest of them); None when
    one never did."""
    latest = None
    for group in by_address(probes).values():
        first = next((p.sent for p in group if p.sent >= event and p.responder == responder), None)
        if first is None:
            return None
        latest = first if latest is None else max(latest, first)
    return None if latest is None else rounded(latest - event)


ClientRun = namedtuple("ClientRun", "probes event lost gap recovered")


def client_run(probes, event):
    return ClientRun(probes, event, lost(probes), longest_gap(probes), answered_at_end(probes))


def worst(found):
    """The run that lost most (then: with the longest gap)."""
    return max(found, key=lambda run: (not run.recovered, run.lost, run.gap or 0.0))


def describe(probes, event, limit=6):
    """Who answered over time, relative to EVENT: "h1 -2.000..+0.001 (2001); none ..."."""
    parts = []
    for start, end, who, count in runs(probes):
        if who is None:
            parts.append("none %+.3f..%+.3f (%d lost)" % (start - event, end - event, count))
        else:
            parts.append("%s %+.3f..%+.3f (%d)" % (who, start - event, end - event, count))
    if len(parts) > limit:
        parts = parts[: limit - 1] + ["... %d more runs" % (len(parts) - limit)] + parts[-1:]
    return "; ".join(parts)


def timeline_text(probes, event):
    """Who answered over time, one line per run, relative to EVENT (for the demo)."""
    lines = []
    for start, end, who, count in runs(probes):
        what = "no answer" if who is None else "answered by %s" % who
        unit = "probes lost" if who is None else "probes"
        lines.append("%-16s %+7.3f s .. %+7.3f s  %6d %s" % (what, start - event, end - event, count, unit))
    return lines


def load_client_runs(samples, load):
    """(implementation, scenario) -> [ClientRun], from the client samples; LOAD(path) gives the
    lines of a probe file."""
    found = defaultdict(list)
    for impl in CLIENT_IMPLEMENTATIONS:
        for values in samples.get(("client", impl), []):
            if len(values) < 3:
                continue
            scenario, event, path = values[0], float(values[1]), values[2]
            found[(impl, scenario)].append(client_run(read_probes(load(path)), event))
    return found


def client_table(samples, load=None, rate=None):
    """The second table: what the client saw, per scenario and implementation, with the goals;
    then every run's time line."""

    def default_load(path):
        with open(path) as file:
            return file.readlines()

    found = load_client_runs(samples, load or default_load)
    bound = rounded(protocol_bound(CLIENT_ADVBASE, CLIENT_BACKUP_SKEW) + 0.05)
    lines = [
        "",
        "Client view: a client on the bridge sends %s UDP probes a second to the virtual address; a"
        % (rate or "a fixed number of"),
        "  responder on each host answers with its name. Lost: probes nobody answered; gap: the longest",
        "  time between two answered probes (send times). A crash cuts the master's switch port and",
        "  kills its daemon (keepalived: both processes); the 40-address row gives the time from the",
        "  crash until all 40 addresses answer from the other host.",
        "",
    ]

    def row(*cells):
        lines.append(CLIENT_ROW % cells)

    def cell(impl, scenario, text):
        if (impl, scenario) in NOT_AVAILABLE:
            return NOT_AVAILABLE[(impl, scenario)]
        if not found.get((impl, scenario)):
            return "-"
        return text(worst(found[(impl, scenario)]))

    def lost_gap(run):
        if not run.recovered:
            return "%d lost, not back" % run.lost
        return "%d lost, %.3f s" % (run.lost, run.gap or 0.0)

    def again(run):
        seconds = all_again(run.probes, run.event, "h2")
        return "%d lost, not all" % run.lost if seconds is None else "%.3f s, %d lost" % (seconds, run.lost)

    def goal(scenario, test):
        runs_of_ours = found.get(("ours", scenario))
        return verdict(None if not runs_of_ours else all(test(run) for run in runs_of_ours))

    row("scenario (probes lost, longest gap)", "SwiftCARP", "ucarp", "keepalived", "goal", "met?")
    row("-" * 44, "-" * 20, "-" * 20, "-" * 20, "-" * 15, "----")
    row(
        "crash of the master (kill -9, port down)",
        *(cell(i, "crash", lost_gap) for i in CLIENT_IMPLEMENTATIONS),
        "gap <= %.3f s" % bound,
        goal("crash", lambda run: run.recovered and run.gap is not None and run.gap <= bound),
    )
    for scenario, label in (
        ("TERM", "planned hand-over (TERM with --shutdown)"),
        ("USR2", "step-down (USR2)"),
        ("check", "failed health check"),
    ):
        row(
            label,
            *(cell(i, scenario, lost_gap) for i in CLIENT_IMPLEMENTATIONS),
            "0 lost",
            goal(scenario, lambda run: run.recovered and run.lost == 0),
        )

    def all_again_within(run):
        seconds = all_again(run.probes, run.event, "h2")
        return seconds is not None and seconds <= bound

    row(
        "host with 40 addresses crashes: all 40 again",
        *(cell(i, "crash40", again) for i in CLIENT_IMPLEMENTATIONS),
        "<= %.3f s" % bound,
        goal("crash40", all_again_within),
    )
    row("  protocol bound 3 x advbase + skew/256", *(["%.3f s" % (bound - 0.05)] * 3), "", "")
    lines.append("")
    lines.append("Who answered, in seconds from the event (the crash, the signal, the failing check's first")
    lines.append("  moment); probes in brackets:")
    names = {"ours": "SwiftCARP", "ucarp": "ucarp", "keepalived": "keepalived"}
    for scenario in ("crash", "TERM", "USR2", "check", "crash40"):
        for impl in CLIENT_IMPLEMENTATIONS:
            for number, run in enumerate(found.get((impl, scenario), []), 1):
                if scenario == "crash40":
                    text = "all 40 answer from h2 %s after the crash; %d lost" % (
                        "never" if all_again(run.probes, run.event, "h2") is None
                        else "%.3f s" % all_again(run.probes, run.event, "h2"),
                        run.lost,
                    )
                else:
                    text = describe(run.probes, run.event)
                lines.append("  %-7s %-10s %d: %s" % (scenario, names[impl], number, text))
    lines.append("")
    return "\n".join(lines) + "\n"


# The arithmetic of Benchmarks/run: what it computes between measurements, one function each.
# `report.py calc NAME ARG...` runs one (CALCULATIONS) and prints its result; "-" stands for a
# file or standard input. Times are Unix times in seconds, as strings with decimals
# (date +%s.%N, $EPOCHREALTIME, tcpdump -tt).


def difference(later, earlier):
    """LATER - EARLIER in seconds, to the millisecond: "0.123"."""
    return "%.3f" % (float(later) - float(earlier))


def remaining(since, seconds, now):
    """What is left at NOW of SECONDS from SINCE, none if they have passed: what to sleep."""
    return "%.3f" % max(0.0, float(since) + float(seconds) - float(now))


def advert_times(lines):
    """The times of the CARP advertisements in tcpdump's -tt -T carp lines."""
    return [float(line.split()[0]) for line in lines if "CARP" in line and line.split()]


def adverts_between(times, start, end):
    """How many of TIMES lie in [START, END]."""
    return sum(1 for time in times if float(start) <= time <= float(end))


def last_before(times, moment):
    """The last of TIMES before MOMENT, or None."""
    earlier = [time for time in times if time < float(moment)]
    return max(earlier) if earlier else None


def memory_kb(status, smaps, smaps_rollup):
    """(VmRSS, RssAnon, capture ring, Pss) in kB of one process from the texts of its
    /proc/PID/status, smaps and smaps_rollup. The ring is the Rss of the packet socket's
    mapping (libpcap's kernel ring buffer)."""
    fields = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon"):
            fields[name] = int(value.split()[0])
    ring = 0
    in_socket = False
    for line in smaps.splitlines():
        words = line.split()
        if not words:
            continue
        if "-" in words[0] and not words[0].endswith(":"):
            in_socket = len(words) >= 6 and words[5].startswith("socket:")
        elif in_socket and words[0] == "Rss:":
            ring += int(words[1])
    pss = next(int(line.split()[1]) for line in smaps_rollup.splitlines() if line.startswith("Pss:"))
    return fields["VmRSS"], fields["RssAnon"], ring, pss


def memory_total(rows):
    """Of several memory_kb rows: "VmRSS Pss" summed in kB, then both in MiB (rounded down)."""
    rss = sum(row[0] for row in rows)
    pss = sum(row[3] for row in rows)
    return "%d %d %d %d" % (rss, pss, rss // 1024, pss // 1024)


def cpu_of(stat, schedstat):
    """(utime + stime in clock ticks, sum_exec_runtime in ns) of one process from the texts of
    its /proc/PID/stat and schedstat."""
    after_name = stat[stat.rindex(")") + 2:].split()
    return int(after_name[11]) + int(after_name[12]), int(schedstat.split()[0])


def cpu_used(before, after, hz):
    """The CPU used between two cpu_of sums (TICKS NS each): "SECONDS SCHED-SECONDS"."""
    ticks0, ns0 = (float(value) for value in before.split())
    ticks1, ns1 = (float(value) for value in after.split())
    return "%.2f %.3f" % ((ticks1 - ticks0) / float(hz), (ns1 - ns0) / 1e9)


def callgrind_total(lines):
    """The total instructions (Ir) of a callgrind profile: its summary (or totals) line; None
    without one."""
    for line in lines:
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    return None


def advert_rate(sample_lines):
    """Adverts a second between the last two callgrind samples (their ADVERTS over ELAPSED)."""
    last = [fields for fields in (line.split() for line in sample_lines) if fields[:1] == ["callgrind"]][-2:]
    if len(last) < 2:
        return "0.0"
    elapsed = float(last[1][6]) - float(last[0][6])
    return "%.1f" % ((int(last[1][5]) - int(last[0][5])) / elapsed if elapsed > 0 else 0.0)


def probe_summary(probes):
    """"N probes, N lost" of one probe file."""
    return "%d probes, %d lost" % (len(probes), lost(probes))


def responders(probes):
    """The hosts that answered, sorted."""
    return sorted({probe.responder for probe in probes if probe.responder is not None})


def overlap_seconds(events, now):
    """How long at least two hosts held the address at once: EVENTS maps a host to its script
    lines ("TIME UP|DOWN ADDRESS"); a host holds it from an UP until its next DOWN, or NOW."""
    timeline = sorted(
        (float(fields[0]), fields[1], host)
        for host, lines in events.items()
        for fields in (line.split() for line in lines)
        if len(fields) >= 2 and fields[1] in ("UP", "DOWN"))
    holders = set()
    total = 0.0
    start = None
    for time, kind, host in timeline:
        if kind == "UP" and host not in holders:
            holders.add(host)
            if len(holders) == 2:
                start = time
        elif kind == "DOWN" and host in holders:
            if len(holders) >= 2:
                total += time - start
            holders.discard(host)
    if len(holders) >= 2:
        total += float(now) - start
    return "%.3f" % total


def _read(name):
    if name == "-":
        return sys.stdin.read()
    with open(name) as file:
        return file.read()


def _lines(name):
    return _read(name).splitlines()


def _optional(value):
    return "" if value is None else str(value)


def _memory_of(pid):
    base = "/proc/%s/" % pid
    return memory_kb(_read(base + "status"), _read(base + "smaps"), _read(base + "smaps_rollup"))


def _memory(*pids):
    for pid in pids:
        yield " ".join(str(value) for value in _memory_of(pid))


def _cpu(*pids):
    ticks = ns = 0
    for pid in pids:
        one = cpu_of(_read("/proc/%s/stat" % pid), _read("/proc/%s/schedstat" % pid))
        ticks += one[0]
        ns += one[1]
    yield "%d %d" % (ticks, ns)


CALCULATIONS = {
    # NAME ARGUMENTS: what it prints
    "difference": lambda later, earlier: [difference(later, earlier)],
    # remaining SINCE SECONDS NOW: what is left of SECONDS from SINCE
    "remaining": lambda since, seconds, now: [remaining(since, seconds, now)],
    # adverts-between TCPDUMP-OUTPUT FROM TO: how many adverts
    "adverts-between": lambda name, start, end: [adverts_between(advert_times(_lines(name)), start, end)],
    # last-advert-before TCPDUMP-OUTPUT TIME: its time, or nothing
    "last-advert-before": lambda name, moment: [_optional(last_before(advert_times(_lines(name)), moment))],
    # memory PID...: "VmRSS RssAnon ring Pss" (kB) per process
    "memory": _memory,
    # memory-total PID...: "VmRSS Pss" summed (kB), then both in MiB
    "memory-total": lambda *pids: [memory_total([_memory_of(pid) for pid in pids])],
    # cpu PID...: "TICKS NS" of the processes together
    "cpu": _cpu,
    "cpu-used": lambda before, after, hz: [cpu_used(before, after, hz)],
    # callgrind-total PROFILE: Ir, or nothing
    "callgrind-total": lambda name: [_optional(callgrind_total(_lines(name)))],
    # advert-rate SAMPLES: adverts a second between its last two (callgrind) samples
    "advert-rate": lambda name: [advert_rate(_lines(name))],
    "probe-summary": lambda name: [probe_summary(read_probes(_lines(name)))],
    # responders PROBES: the hosts that answered, space-separated
    "responders": lambda name: [" ".join(responders(read_probes(_lines(name))))],
    # overlap NOW HOST=EVENTS-FILE...: seconds during which two hosts held the address
    "overlap": lambda now, *files: [overlap_seconds(
        {host: (_lines(name) if os.path.exists(name) else []) for host, _, name in (f.partition("=") for f in files)},
        now)],
}


def calc(argv):
    """report.py calc NAME ARG...: one of CALCULATIONS, printed a line at a time."""
    if not argv or argv[0] not in CALCULATIONS:
        sys.stderr.write("report.py calc: one of %s\n" % ", ".join(sorted(CALCULATIONS)))
        return 2
    for line in CALCULATIONS[argv[0]](*argv[1:]):
        print(line)
    return 0


def main(argv):
    if argv and argv[0] == "calc":
        return calc(argv[1:])
    parser = argparse.ArgumentParser(description="The table of Benchmarks/run.")
    parser.add_argument("--takeover-runs", type=int, default=7)
    parser.add_argument("--handover-runs", type=int, default=3)
    parser.add_argument("--guard-runs", type=int, default=3)
    parser.add_argument("--elapsed", type=float, help="seconds the run took")
    parser.add_argument("--probe-rate", type=int, help="probes a second of the client")
    parser.add_argument("--timeline", type=float, metavar="EVENT", help="SAMPLES is a probe file: its time line")
    parser.add_argument("samples", help="the samples file Benchmarks/run wrote")
    options = parser.parse_args(argv)
    if options.timeline is not None:
        with open(options.samples) as file:
            for line in timeline_text(read_probes(file), options.timeline):
                print(line)
        return 0
    with open(options.samples) as file:
        samples = read_samples(file)
    sys.stdout.write(table(samples, options.takeover_runs, options.handover_runs, options.elapsed, options.guard_runs))
    if any(measure == "client" for measure, _ in samples):
        sys.stdout.write(client_table(samples, rate=options.probe_rate))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
