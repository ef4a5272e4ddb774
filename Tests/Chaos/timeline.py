#!/usr/bin/python3
"""The timeline of fault-campaign runs: who held the address, the faults as bands, the client's
lost probes; one panel per history (Debian's python3-matplotlib, run with /usr/bin/python3).

    timeline.py OUT.png HISTORY.json...
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"kill": "#d62728", "stop": "#9467bd", "partition": "#8c564b", "loss": "#7f7f7f", "flap": "#bcbd22",
           "ifrecreate": "#17becf", "vipdel": "#e377c2", "term": "#2ca02c", "usr2": "#1f77b4", "crash": "#ff7f0e",
           "clockstep": "#aec7e8"}


def runs(samples, predicate, end):
    out, start = [], None
    for i, s in enumerate(samples):
        if predicate(s):
            if start is None:
                start = s["t"]
        elif start is not None:
            out.append((start, s["t"] - start))
            start = None
    if start is not None:
        out.append((start, end - start))
    return out


def panel(axis, history):
    meta = history["meta"]
    t0, end = meta["check_from"], meta["end"]
    samples = history["samples"]
    hosts = meta["hosts"]
    rows = {host: len(hosts) - i + 1 for i, host in enumerate(hosts)}
    for fault in history["faults"]:
        begin, stop = fault["begin"] - t0, max(fault["end"], fault["begin"] + 0.15) - t0
        row = rows.get(fault.get("host"))
        colour = COLOURS.get(fault["kind"], "#cccccc")
        if row is None:
            axis.axvspan(begin, stop, color=colour, alpha=0.15, lw=0)
        else:
            axis.broken_barh([(begin, stop - begin)], (row - 0.45, 0.9), color=colour, alpha=0.35, lw=0)
            axis.text(begin, row + 0.3, fault["kind"], fontsize=5, color=colour)
    for host, row in rows.items():
        held = runs(samples, lambda s, h=host: h in s["held"], end)
        axis.broken_barh([(a - t0, w) for a, w in held], (row - 0.2, 0.4), color="#1f3a93")
        dead = runs(samples, lambda s, h=host: h not in s["alive"], end)
        axis.broken_barh([(a - t0, w) for a, w in dead], (row - 0.45, 0.1), color="black")
    two = runs(samples, lambda s: len(s["held"]) >= 2, end)
    none = runs(samples, lambda s: not s["held"], end)
    axis.broken_barh([(a - t0, w) for a, w in two], (1 - 0.2, 0.4), color="#d62728")
    axis.broken_barh([(a - t0, w) for a, w in none], (1 - 0.2, 0.4), color="#ffbf00")
    lost = [p[0] - t0 for p in history.get("probes", []) if not p[1] and t0 <= p[0] <= end]
    axis.plot(lost, [0] * len(lost), "|", color="#d62728", markersize=6)
    axis.set_yticks([0, 1] + [rows[h] for h in hosts])
    axis.set_yticklabels(["lost probes", "2 holders / none"] + hosts)
    axis.set_xlim(0, end - t0)
    axis.set_ylim(-0.7, len(hosts) + 1.7)
    axis.set_title("%s, seed %s: holder (blue), daemon gone (black), faults as bands" % (meta["label"], meta["seed"]),
                   fontsize=8)
    axis.tick_params(labelsize=7)


def main(argv):
    out, paths = argv[1], argv[2:]
    figure, axes = plt.subplots(len(paths), 1, figsize=(13, 2.3 * len(paths) + 0.5), squeeze=False)
    for axis, path in zip(axes[:, 0], paths):
        with open(path) as file:
            panel(axis, json.load(file))
    axes[-1, 0].set_xlabel("seconds since the first fault could start", fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
