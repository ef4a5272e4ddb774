#!/usr/bin/python3
"""The client's view as a picture: Benchmarks/plot.py SAMPLES PNG.

For each implementation, a time line of the probes around a crash of the master and around a
planned hand-over (TERM with --shutdown): when the virtual address answered, and from which
host, and when it did not. Reads the "client" samples of Benchmarks/run (report.py has their
format and the statistics) and the probe files they name. Needs matplotlib (Debian's
python3-matplotlib, for Debian's /usr/bin/python3).
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

COLOURS = {"h1": "#4c72b0", "h2": "#55a868", None: "#d62728"}
NAMES = {"ours": "SwiftCARP", "ucarp": "ucarp 1.5.2", "keepalived": "keepalived"}
PANELS = (
    ("crash", "crash of the master (kill -9 at 0 s, switch port down)"),
    ("TERM", "planned hand-over (TERM with --shutdown at 0 s)"),
)
BEFORE, AFTER = 1.0, 5.5


def segments(probes, event):
    """(start, width, responder) bars, relative to EVENT, of the runs within the window."""
    bars = []
    for start, end, who, count in report.runs(probes):
        start, end = start - event, end - event
        if end < -BEFORE or start > AFTER:
            continue
        start, end = max(start, -BEFORE), min(end, AFTER)
        bars.append((start, max(end - start, 0.002), who))
    return bars


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: plot.py SAMPLES PNG\n")
        return 2
    with open(argv[0]) as file:
        samples = report.read_samples(file)

    def load(path):
        with open(path) as file:
            return file.readlines()

    found = report.load_client_runs(samples, load)
    bound = report.protocol_bound(report.CLIENT_ADVBASE, report.CLIENT_BACKUP_SKEW)
    figure, axes = plt.subplots(len(PANELS), 1, figsize=(9, 4.6), sharex=True)
    for axis, (scenario, title) in zip(axes, PANELS):
        labels = []
        for row, impl in enumerate(report.CLIENT_IMPLEMENTATIONS):
            labels.append(NAMES[impl])
            runs = found.get((impl, scenario))
            if not runs:
                axis.text(0, row, "not measured", va="center", fontsize=8)
                continue
            run = report.worst(runs)
            for start, width, who in segments(run.probes, run.event):
                axis.broken_barh([(start, width)], (row - 0.35, 0.7), facecolors=COLOURS.get(who, "#8172b2"))
                if who is None and width < 0.05:
                    # Too short to see at this scale: marked above the bar.
                    axis.plot(start + width / 2, row - 0.42, marker="v", color=COLOURS[None], markersize=6, clip_on=False)
            text = "%d lost, gap %.3f s" % (run.lost, run.gap or 0.0) if run.recovered else "%d lost, not back" % run.lost
            axis.text(AFTER + 0.05, row, text, va="center", fontsize=8)
        axis.axvline(0, color="black", linewidth=0.8)
        if scenario == "crash":
            axis.axvline(bound, color="black", linewidth=0.8, linestyle="--")
            axis.text(bound + 0.03, len(labels) - 0.45, "protocol bound %.3f s" % bound, fontsize=7, va="bottom")
        axis.set_yticks(range(len(labels)))
        axis.set_yticklabels(labels)
        axis.set_ylim(-0.6, len(labels) - 0.1)
        axis.invert_yaxis()
        axis.set_title(title, fontsize=9, loc="left")
        axis.tick_params(labelsize=8)
    axes[-1].set_xlim(-BEFORE, AFTER)
    axes[-1].set_xlabel("seconds from the event (send time of each probe)", fontsize=8)
    figure.legend(
        handles=[
            Patch(color=COLOURS["h1"], label="answered by h1 (the master)"),
            Patch(color=COLOURS["h2"], label="answered by h2 (the backup)"),
            Patch(color=COLOURS[None], label="no answer"),
        ],
        loc="lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    figure.suptitle("What a client sees: UDP probes to the virtual address", fontsize=10)
    figure.tight_layout(rect=(0, 0.06, 0.88, 1))
    figure.savefig(argv[1], dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
