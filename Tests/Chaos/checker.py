#!/usr/bin/env python3
"""The fault campaign's checker (issue 27): invariants and figures over one run's history.

    checker.py HISTORY.json...      checks each run and prints its violations and figures,
                                    then (given several) each implementation's over all its
                                    runs; exit status 1 if any run broke an invariant.

A history (chaos.py writes it) holds the run's parameters, its faults as run (kind, host,
begin, end: seconds on the campaign's monotonic clock), the samples of who had the virtual
address (every ~50 ms, from each host's own address list), the client's probes, the daemons'
unexpected exits and their descriptors and memory at the start and the end.

Invariants (each breach is a violation, with its time):
  one-holder     outside every fault's window (the fault and BOUND after it) exactly one host
                 holds the address; BOUND is the protocol's detection bound, deadratio *
                 (advbase + the largest advskew / 256), plus one advertisement interval and
                 the scripts' time.
  two-holders    two hosts hold it only where nothing can prevent it: without the guard while a
                 partition, CARP loss, a link flap or a frozen holder lasts, plus BOUND; with
                 the guard only while a holder is frozen (plus BOUND). And, where the history's
                 meta has handover_overlap (SwiftCARP's make-before-break, README: the leaving
                 master keeps the address until the new one has announced it, two intervals
                 at most), for that long after a USR2 or TERM to a holder: by design.
  unexpected-exit  no daemon ends that the schedule did not end (kill, term, crash).
  outlives       no address stays on a host whose daemon has gone (grace 1 s: the time a
                 supervisor or a restart needs to release it).
  resources      a daemon that lived from start to end has no more descriptors at the end, and
                 not more than 25% + 1 MiB of resident memory; and every daemon process seen
                 for 30 s or more (most are restarted by the schedule), its last 10 s against
                 its first 10 s (sampled once a second) likewise, with a slack of 2 descriptors.
                 A process is a pid and its start time (pids wrap within a campaign).
Python's standard library only.
"""

import json
import sys

MAX_STEP = 0.5  # a sample stands for at most this long (a stalled sampler proves nothing)
OUTLIVES_GRACE = 1.0
USAGE_SPAN = 30.0  # a process judged for growth lived this long at least
USAGE_WINDOW = 10.0  # its first and its last seconds compared
FD_SLACK = 2
EXCUSING_KINDS = ("partition", "loss", "flap")


def intervals(samples, predicate, end):
    """[(start, stop)] of the runs of samples for which PREDICATE holds."""
    runs = []
    start = None
    for i, sample in enumerate(samples):
        t = sample["t"]
        following = samples[i + 1]["t"] if i + 1 < len(samples) else end
        if predicate(sample):
            if start is None:
                start = t
            stop = min(following, t + MAX_STEP)
            if following - t > MAX_STEP:  # a gap: close the run here
                runs.append((start, stop))
                start = None
        elif start is not None:
            runs.append((start, t))
            start = None
    if start is not None:
        runs.append((start, end))
    return runs


def total(runs):
    return sum(b - a for a, b in runs)


def window(fault, bound):
    """The time a fault may disturb: from its start until BOUND after its end."""
    return fault["begin"], fault["end"] + bound


def within(t, fault, bound):
    a, b = window(fault, bound)
    return a <= t <= b


def excused_two(sample, faults, bound, guard, handover=0.0):
    """Two holders at SAMPLE are excused by a fault in force (see the module's summary)."""
    holders = set(sample["held"])
    for fault in faults:
        if (fault["kind"] in ("usr2", "term") and fault.get("host") in holders
                and fault["begin"] <= sample["t"] <= fault["begin"] + handover):
            return True
        if not within(sample["t"], fault, bound):
            continue
        if fault["kind"] == "stop" and fault.get("host") in holders:
            return True
        if not guard and fault["kind"] in EXCUSING_KINDS:
            return True
    return False


def handover_overlap(meta):
    """The make-before-break overlap the history allows (older histories: SwiftCARP's 2.5 s)."""
    if "handover_overlap" in meta:
        return meta["handover_overlap"]
    return 2.5 if meta["label"].startswith("swiftcarp") else 0.0


def quiet(t, faults, bound):
    return not any(within(t, fault, bound) for fault in faults)


def describe(runs, limit=12):
    return ", ".join("%.2f-%.2f s (%.2f s)" % (a, b, b - a) for a, b in runs[:limit]) + (
        " ..." if len(runs) > limit else ""
    )


def active_at(t, faults, bound):
    names = ["%s %s@%.1f" % (f["kind"], f.get("host") or "", f["begin"]) for f in faults if within(t, f, bound)]
    return "; ".join(names) or "no fault"


def check(history):
    """(violations, figures) of one run: violations a list of {invariant, time, what}."""
    meta = history["meta"]
    bound = meta["bound"]
    guard = meta.get("guard", False)
    start, end = meta["check_from"], meta["end"]
    faults = history["faults"]
    samples = [s for s in history["samples"] if start <= s["t"] <= end]
    violations = []

    def flag(invariant, runs, what):
        for a, b in runs:
            violations.append(
                {"invariant": invariant, "time": round(a, 2), "what": "%s for %.2f s (%.2f-%.2f s; faults: %s)"
                 % (what, b - a, a, b, active_at(a, faults, bound))}
            )

    two = intervals(samples, lambda s: len(s["held"]) >= 2, end)
    unexcused = intervals(samples, lambda s: len(s["held"]) >= 2 and not excused_two(s, faults, bound, guard,
                                                                                       handover_overlap(meta)), end)
    none = intervals(samples, lambda s: len(s["held"]) == 0, end)
    flag("two-holders", unexcused, "two hosts held the address, nothing excusing it")
    flag("one-holder", intervals(samples, lambda s: len(s["held"]) == 0 and quiet(s["t"], faults, bound), end),
         "nobody held the address after every fault had ended")
    for event in history.get("exits", []):
        if start <= event["t"] <= end + 5:
            violations.append({"invariant": "unexpected-exit", "time": round(event["t"], 2),
                               "what": "%s's daemon ended unbidden: %s (faults: %s)"
                               % (event["host"], event["how"], active_at(event["t"], faults, bound))})
    for host in meta["hosts"]:
        runs = intervals(samples, lambda s, h=host: h in s["present"] and h not in s["alive"], end)
        runs = [(a, b) for a, b in runs if b - a > OUTLIVES_GRACE]
        flag("outlives", [(a, b) for a, b in runs], "%s kept the address with no daemon running" % host)
    for host, usage in sorted(history.get("resources", {}).items()):
        first, last = usage.get("start"), usage.get("end")
        # The same process: the same pid and, where recorded, start time (pids are reused).
        if not first or not last or (first.get("pid"), first.get("started")) != (last.get("pid"), last.get("started")):
            continue
        if last["fds"] > first["fds"]:
            violations.append({"invariant": "resources", "time": round(end, 2),
                               "what": "%s's daemon (pid %s): %d descriptors at the start, %d at the end"
                               % (host, first["pid"], first["fds"], last["fds"])})
        if last["rss_kb"] > first["rss_kb"] * 1.25 + 1024:
            violations.append({"invariant": "resources", "time": round(end, 2),
                               "what": "%s's daemon (pid %s): %d kB resident at the start, %d kB at the end"
                               % (host, first["pid"], first["rss_kb"], last["rss_kb"])})
    for key, entry in sorted(history.get("usage", {}).items()):
        pid = entry.get("pid", key)  # keyed by pid@start since pids wrapped (by pid before)
        samples = entry["samples"]
        if len(samples) < 2 or samples[-1][0] - samples[0][0] < USAGE_SPAN:
            continue
        first = [x for x in samples if x[0] <= samples[0][0] + USAGE_WINDOW]
        last = [x for x in samples if x[0] >= samples[-1][0] - USAGE_WINDOW]
        # The fewest descriptors of each window, with a slack of FD_SLACK: a script running holds
        # a pipe or two, the etcd guard's HTTP client a connection to a member or two, for
        # seconds at a time (seen: 14 to 16 and back, again and again, in the etcd runs).
        if min(x[1] for x in last) > min(x[1] for x in first) + FD_SLACK:
            violations.append({"invariant": "resources", "time": round(samples[-1][0], 2),
                               "what": "%s's daemon (pid %s) grew from %d to %d descriptors over %.0f s"
                               % (entry["host"], pid, min(x[1] for x in first), min(x[1] for x in last),
                                  samples[-1][0] - samples[0][0])})
        if min(x[2] for x in last) > max(x[2] for x in first) * 1.25 + 1024:
            violations.append({"invariant": "resources", "time": round(samples[-1][0], 2),
                               "what": "%s's daemon (pid %s) grew from %d to %d kB resident over %.0f s"
                               % (entry["host"], pid, max(x[2] for x in first), min(x[2] for x in last),
                                  samples[-1][0] - samples[0][0])})
    violations.sort(key=lambda v: v["time"])
    return violations, figures(history, samples, two, unexcused, none)


def probe_figures(probes, start, end, interval):
    """(sent, answered, longest run of unanswered probes in seconds) between START and END."""
    sent = answered = 0
    longest = 0.0
    first_lost = None
    last_lost = None
    for at, ok in probes:
        if not start <= at <= end:
            continue
        sent += 1
        if ok:
            answered += 1
            if first_lost is not None:
                longest = max(longest, last_lost - first_lost + interval)
                first_lost = None
        else:
            if first_lost is None:
                first_lost = at
            last_lost = at
    if first_lost is not None:
        longest = max(longest, last_lost - first_lost + interval)
    return sent, answered, longest


def overlap(runs, a, b):
    return sum(max(0.0, min(y, b) - max(x, a)) for x, y in runs)


def figures(history, samples, two, unexcused, none):
    meta = history["meta"]
    bound = meta["bound"]
    start, end = meta["check_from"], meta["end"]
    interval = 1.0 / meta.get("probe_rate", 100)
    probes = [(p[0], p[1]) for p in history.get("probes", [])]
    sent, answered, longest = probe_figures(probes, start, end, interval)
    result = {
        "implementation": meta["label"],
        "seed": meta["seed"],
        "seconds": round(end - start, 1),
        "probes": sent,
        "availability": (answered / sent) if sent else None,
        "longest_outage": round(longest, 3),
        "two_holders": round(total(two), 3),
        "two_unexcused": round(total(unexcused), 3),
        "no_holder": round(total(none), 3),
        "tcp_breaks": sum(1 for e in history.get("tcp", []) if e[1] == "broken" and start <= e[0] <= end),
        "kinds": {},
    }
    for fault in history["faults"]:
        kind = result["kinds"].setdefault(fault["kind"], {"count": 0, "lost": 0, "sent": 0, "two": 0.0,
                                                            "unexcused": 0.0, "none": 0.0})
        a, b = window(fault, bound)
        kind["count"] += 1
        s, ok, _ = probe_figures(probes, a, min(b, end), interval)
        kind["sent"] += s
        kind["lost"] += s - ok
        kind["two"] += overlap(two, a, b)
        kind["unexcused"] += overlap(unexcused, a, b)
        kind["none"] += overlap(none, a, b)
    return result


def table(results):
    """The figures of several runs as Markdown: one line per run, then one per run and kind."""
    lines = ["| implementation | seed | s | availability | longest outage (s) | two holders (s) | "
             "unexcused (s) | no holder (s) | TCP connections broken | violations |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for figure, violations in results:
        availability = "-" if figure["availability"] is None else "%.4f" % figure["availability"]
        lines.append("| %s | %s | %s | %s | %.2f | %.2f | %.2f | %.2f | %d | %d |" % (
            figure["implementation"], figure["seed"], figure["seconds"], availability, figure["longest_outage"],
            figure["two_holders"], figure["two_unexcused"], figure["no_holder"], figure.get("tcp_breaks", 0),
            len(violations)))
    lines += ["", "| implementation | seed | fault kind | faults | probes lost / sent in its windows | "
              "two holders (s) | unexcused (s) | no holder (s) |", "|---|---|---|---|---|---|---|---|"]
    for figure, _ in results:
        for name, kind in sorted(figure["kinds"].items()):
            lines.append("| %s | %s | %s | %d | %d / %d | %.2f | %.2f | %.2f |" % (
                figure["implementation"], figure["seed"], name, kind["count"], kind["lost"], kind["sent"],
                kind["two"], kind["unexcused"], kind["none"]))
    return "\n".join(lines)


def summary(results):
    """Per implementation, over all its runs, as Markdown: availability as probes answered over
    probes sent in all of them (not a mean of the runs' ratios), the longest outage of any, and
    the sums of the rest."""
    rows = {}
    for figure, violations in results:
        row = rows.setdefault(figure["implementation"], {"runs": 0, "seconds": 0.0, "sent": 0, "answered": 0.0,
                                                         "longest": 0.0, "two": 0.0, "unexcused": 0.0,
                                                         "none": 0.0, "tcp": 0, "faults": 0, "violations": {}})
        row["runs"] += 1
        row["seconds"] += figure["seconds"]
        if figure["availability"] is not None:
            row["sent"] += figure["probes"]
            row["answered"] += figure["availability"] * figure["probes"]
        row["longest"] = max(row["longest"], figure["longest_outage"])
        row["two"] += figure["two_holders"]
        row["unexcused"] += figure["two_unexcused"]
        row["none"] += figure["no_holder"]
        row["tcp"] += figure.get("tcp_breaks", 0)
        row["faults"] += sum(kind["count"] for kind in figure["kinds"].values())
        for v in violations:
            row["violations"][v["invariant"]] = row["violations"].get(v["invariant"], 0) + 1
    lines = ["| implementation | runs | seconds | faults | availability | longest outage (s) | two holders (s) | "
             "unexcused (s) | no holder (s) | TCP connections broken | violations by invariant |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        availability = "%.4f" % (row["answered"] / row["sent"]) if row["sent"] else "-"
        broken = ", ".join("%s %d" % item for item in sorted(row["violations"].items())) or "none"
        lines.append("| %s | %d | %.0f | %d | %s | %.2f | %.2f | %.2f | %.2f | %d | %s |" % (
            name, row["runs"], row["seconds"], row["faults"], availability, row["longest"], row["two"],
            row["unexcused"], row["none"], row["tcp"], broken))
    return "\n".join(lines)


def main(argv):
    results = []
    broken = False
    for path in argv[1:]:
        with open(path) as file:
            history = json.load(file)
        violations, figure = check(history)
        results.append((figure, violations))
        print("%s seed %s: %d violation(s)" % (figure["implementation"], figure["seed"], len(violations)))
        for v in violations:
            print("  VIOLATION %-15s t=%7.2f s  %s" % (v["invariant"], v["time"], v["what"]))
        broken = broken or bool(violations)
    print()
    print(table(results))
    if len(results) > 1:
        print()
        print(summary(results))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
