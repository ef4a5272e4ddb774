#!/usr/bin/env python3
"""The arithmetic of Benchmarks/run's fencing phase (the etcd guard's takeover when the holder
dies, with etcd's leader or without it): one calculation a call, then the table.

    fencing.py takeover PROBES OLD NEW AFTER
        From probe.py's record PROBES: NEW's first answer after AFTER, and OLD's last answer
        before it. Prints "GAP LAST-OLD FIRST-NEW" (answer times, Unix seconds; GAP is their
        difference), or "- - -" if NEW never answered. Answer times, not send times: a frozen
        holder answers the probes queued while it was stopped once it runs again.
    fencing.py elected AFTER LOG...
        The first time after AFTER that a member's log (etcd 3.4 with --logger=zap) says it
        became leader, as a Unix time, or "-".
    fencing.py table SAMPLES
        The table of the samples the phase wrote, one a line:
            fencing SETTING CASE RUN TTL TAKEOVER OVERLAP UP DOWN LEADER
        (seconds: the lease's TTL, the client's takeover, two holders at once, the event to
        the backup's up script, to the old holder's down script, to a new etcd leader; "-"
        where none). For a partition it also shows when etcd last confirmed a renewal of the
        cut-off holder: its down script runs at its deadline, TTL - TTL/6 after it sent that
        renewal. Where etcd elected a new leader, it shows how long after the end of the
        lease that leader gave it (its election, plus the election timeout that SETTING names
        as "electionMS", plus the TTL) the backup took over: etcd's expiry check (every 0.5 s)
        and the backup's next try (every advertisement interval).

Python's standard library only.
"""

import datetime
import json
import re
import statistics
import sys
from collections import defaultdict

CASES = {
    "crash-follower": "(a) holder's host crashes, etcd leader elsewhere",
    "crash-leader": "(b) holder's host crashes with etcd's leader",
    "partition": "(c) holder and etcd leader cut off together",
    "freeze": "(d) holder frozen (SIGSTOP), etcd leader elsewhere",
}


def read_probes(lines):
    """(answered, responder) of every answered probe, in the order answered."""
    answered = []
    for line in lines:
        fields = line.split()
        if len(fields) < 5 or fields[0].startswith("#") or fields[4] == "-":
            continue
        answered.append((float(fields[3]), fields[4]))
    return sorted(answered)


def takeover(lines, old, new, after):
    """GAP LAST-OLD FIRST-NEW for the hand-over from OLD to NEW after AFTER, or "- - -"."""
    probes = read_probes(lines)
    first_new = next((when for when, who in probes if who == new and when > after), None)
    if first_new is None:
        return "- - -"
    before = [when for when, who in probes if who == old and when < first_new]
    if not before:
        return "- - %.6f" % first_new
    return "%.3f %.6f %.6f" % (first_new - before[-1], before[-1], first_new)


def leader_times(lines):
    """The Unix times at which a zap-logging etcd 3.4 member says it became leader."""
    times = []
    for line in lines:
        if "became leader" not in line:
            continue
        try:
            stamp = json.loads(line)["ts"]
        except (ValueError, KeyError, TypeError):
            continue
        try:
            when = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        times.append(when.timestamp())
    return times


def elected(after, logs):
    """The first leader election after AFTER in the LOGS' lines, or "-"."""
    times = [t for lines in logs for t in leader_times(lines) if t > after]
    return "%.6f" % min(times) if times else "-"


def numbers(values):
    return [float(v) for v in values if v != "-"]


def spread(values):
    """"median (min-max)" of VALUES, "-" for none."""
    if not values:
        return "-"
    return "%.2f (%.2f-%.2f)" % (statistics.median(values), min(values), max(values))


def table(lines):
    """The fencing table: one row per setting and case."""
    rows = defaultdict(list)
    for line in lines:
        fields = line.split()
        if len(fields) != 10 or fields[0] != "fencing":
            continue
        rows[(fields[1], fields[2])].append(fields[4:])
    out = [
        "%-22s %-52s %4s %-19s %-19s %-19s %-19s %-19s %-19s %s"
        % ("setting", "case", "runs", "takeover, client", "event -> new up", "event -> etcd leader",
           "event -> old down", "last renewal acked", "up after expiry", "two holders (max)"),
    ]
    order = list(CASES)
    for setting, case in sorted(rows, key=lambda k: (k[0], order.index(k[1]) if k[1] in order else 9)):
        samples = rows[(setting, case)]
        column = lambda i: numbers(s[i] for s in samples)  # noqa: E731
        overlap = column(2)
        acked = []
        if case == "partition":
            acked = [float(s[4]) - float(s[0]) * 5 / 6 for s in samples if s[4] != "-"]
        election = re.search(r"election(\d+)", setting)
        late = []
        if election:
            extension = int(election.group(1)) / 1000
            late = [float(s[3]) - float(s[5]) - extension - float(s[0])
                    for s in samples if s[3] != "-" and s[5] != "-"]
        out.append(
            "%-22s %-52s %4d %-19s %-19s %-19s %-19s %-19s %-19s %s"
            % (setting, CASES.get(case, case), len(samples), spread(column(1)), spread(column(3)),
               spread(column(5)), spread(column(4)), spread(acked), spread(late),
               "%.2f s" % max(overlap) if overlap else "-"))
    return "\n".join(out)


def _read(name):
    with open(name) as file:
        return file.read().splitlines()


def main(argv):
    if len(argv) >= 5 and argv[0] == "takeover":
        print(takeover(_read(argv[1]), argv[2], argv[3], float(argv[4])))
    elif len(argv) >= 2 and argv[0] == "elected":
        print(elected(float(argv[1]), [_read(name) for name in argv[2:]]))
    elif len(argv) == 2 and argv[0] == "table":
        print(table(_read(argv[1])))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
