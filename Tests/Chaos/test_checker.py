"""The checker's rules on made-up histories, and the schedule's determinism (no root needed)."""

import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chaos  # noqa: E402
import checker  # noqa: E402

HOSTS = ["h1", "h2", "h3"]


def history(timeline, faults=(), guard=False, exits=(), end=None):
    """TIMELINE: [(t, held, present, alive)] as strings of host numbers ("12" for h1 and h2)."""
    samples = []
    for t, held, present, alive in timeline:
        samples.append({"t": t, "held": ["h" + c for c in held], "present": ["h" + c for c in present],
                        "alive": ["h" + c for c in alive]})
    last = end if end is not None else timeline[-1][0] + 0.05
    return {"meta": {"label": "test", "seed": 1, "bound": 2.0, "guard": guard, "check_from": 0.0, "end": last,
                     "hosts": HOSTS, "probe_rate": 100},
            "faults": list(faults), "samples": samples, "exits": list(exits), "resources": {}, "probes": []}


def steady(start, stop, held, present=None, alive="123", step=0.05):
    out = []
    t = start
    while t < stop - 1e-9:
        out.append((round(t, 3), held, held if present is None else present, alive))
        t += step
    return out


def invariants(h):
    return [v["invariant"] for v in checker.check(h)[0]]


class CheckerTests(unittest.TestCase):
    def test_one_holder_throughout_is_clean(self):
        self.assertEqual(invariants(history(steady(0, 10, "1"))), [])

    def test_two_holders_under_a_partition_and_its_bound_are_excused(self):
        partition = {"kind": "partition", "host": "h1", "begin": 2.0, "end": 5.0}
        timeline = steady(0, 3, "1") + steady(3, 6.5, "12") + steady(6.5, 10, "1")
        self.assertEqual(invariants(history(timeline, [partition])), [])

    def test_two_holders_past_the_bound_are_not(self):
        partition = {"kind": "partition", "host": "h1", "begin": 2.0, "end": 5.0}
        timeline = steady(0, 3, "1") + steady(3, 8, "12") + steady(8, 10, "1")
        found = checker.check(history(timeline, [partition]))[0]
        self.assertEqual([v["invariant"] for v in found], ["two-holders"])
        self.assertAlmostEqual(found[0]["time"], 7.0, places=1)

    def test_the_guard_excuses_a_partition_no_longer_but_a_frozen_holder_still(self):
        partition = {"kind": "partition", "host": "h1", "begin": 2.0, "end": 5.0}
        timeline = steady(0, 3, "1") + steady(3, 4, "12") + steady(4, 10, "2")
        self.assertEqual(invariants(history(timeline, [partition], guard=True)), ["two-holders"])
        stop = {"kind": "stop", "host": "h1", "begin": 2.0, "end": 5.0}
        self.assertEqual(invariants(history(timeline, [stop], guard=True)), [])

    def test_a_frozen_backup_excuses_nothing(self):
        stop = {"kind": "stop", "host": "h3", "begin": 2.0, "end": 5.0}
        timeline = steady(0, 3, "1") + steady(3, 4, "12") + steady(4, 10, "1")
        self.assertEqual(invariants(history(timeline, [stop])), ["two-holders"])

    def test_a_make_before_break_hand_over_is_excused_where_the_history_says_so(self):
        usr2 = {"kind": "usr2", "host": "h1", "begin": 2.0, "end": 2.0}
        timeline = steady(0, 2, "1") + steady(2, 2.3, "12") + steady(2.3, 10, "2")
        self.assertEqual(invariants(history(timeline, [usr2])), ["two-holders"])
        h = history(timeline, [usr2])
        h["meta"]["handover_overlap"] = 2.5
        self.assertEqual(invariants(h), [])
        late = steady(0, 2, "1") + steady(2, 5, "12") + steady(5, 10, "2")
        h = history(late, [usr2])
        h["meta"]["handover_overlap"] = 2.5
        self.assertEqual(invariants(h), ["two-holders"])

    def test_nobody_holding_after_the_bound_is_a_violation_within_it_not(self):
        vipdel = {"kind": "vipdel", "host": "h1", "begin": 2.0, "end": 2.0}
        quick = steady(0, 2, "1") + steady(2, 3, "") + steady(3, 10, "1")
        self.assertEqual(invariants(history(quick, [vipdel])), [])
        never = steady(0, 2, "1") + steady(2, 10, "")
        self.assertEqual(invariants(history(never, [vipdel])), ["one-holder"])

    def test_an_address_outliving_its_daemon_and_an_unbidden_exit(self):
        kill = {"kind": "kill", "host": "h1", "begin": 2.0, "end": 6.0}
        timeline = steady(0, 2, "1") + steady(2, 6, "1", alive="23") + steady(6, 10, "1")
        self.assertEqual(invariants(history(timeline, [kill])), ["outlives"])
        brief = steady(0, 2, "1") + steady(2, 2.5, "1", alive="23") + steady(2.5, 10, "1")
        self.assertEqual(invariants(history(brief, [kill])), [])
        exits = [{"t": 3.0, "host": "h2", "how": "exit status 3"}]
        self.assertEqual(invariants(history(steady(0, 10, "1"), exits=exits)), ["unexpected-exit"])

    def test_resources_grow(self):
        h = history(steady(0, 10, "1"))
        h["resources"] = {"h1": {"start": {"pid": 5, "fds": 8, "rss_kb": 4000},
                                 "end": {"pid": 5, "fds": 9, "rss_kb": 9000}},
                          "h2": {"start": {"pid": 6, "fds": 8, "rss_kb": 4000},
                                 "end": {"pid": 7, "fds": 20, "rss_kb": 4000}}}
        self.assertEqual(invariants(h), ["resources", "resources"])

    def test_every_long_lived_process_is_judged_for_growth(self):
        h = history(steady(0, 10, "1"))
        steady_use = [[t, 8 + (t % 7 == 0), 4000] for t in range(60)]
        leaking = [[t, 8 + t // 10, 4000] for t in range(60)]
        short = [[t, 8 + t, 4000] for t in range(20)]
        h["usage"] = {"5": {"host": "h1", "samples": steady_use}, "6": {"host": "h2", "samples": leaking},
                      "7": {"host": "h3", "samples": short}}
        found = checker.check(h)[0]
        self.assertEqual([v["invariant"] for v in found], ["resources"])
        self.assertIn("h2", found[0]["what"])

    def test_a_reused_pid_is_another_process(self):
        # swiftcarp-etcd seed 307: h2's supervisor (12 descriptors) gone at 34 s, its pid taken
        # at 172 s by h1's new worker (15, then 16): two processes, neither grown; a process of
        # its own that grows on its pid is still caught.
        h = history(steady(0, 10, "1"))
        h["usage"] = {}
        for t in range(8, 34):
            chaos.record(h["usage"], "h2-parent", {"pid": 30458, "started": 100, "fds": 12, "rss_kb": 11856}, t)
        for t in range(172, 194):
            fds = 15 if t < 174 else 16
            chaos.record(h["usage"], "h1", {"pid": 30458, "started": 17200, "fds": fds, "rss_kb": 18908}, t)
        self.assertEqual(sorted(e["host"] for e in h["usage"].values()), ["h1", "h2-parent"])
        self.assertEqual(checker.check(h)[0], [])
        for t in range(172, 194):
            chaos.record(h["usage"], "h2-parent", {"pid": 30458, "started": 100, "fds": 16, "rss_kb": 11856}, t)
        found = checker.check(h)[0]
        self.assertEqual([v["invariant"] for v in found], ["resources"])
        self.assertIn("h2-parent's daemon (pid 30458) grew from 12 to 16", found[0]["what"])

    def test_start_and_end_of_a_reused_pid_are_not_compared(self):
        h = history(steady(0, 10, "1"))
        h["resources"] = {"h2-parent": {"start": {"pid": 9, "started": 100, "fds": 12, "rss_kb": 11856},
                                        "end": {"pid": 9, "started": 17200, "fds": 16, "rss_kb": 18908}},
                          "h3-parent": {"start": {"pid": 8, "started": 100, "fds": 12, "rss_kb": 11856},
                                        "end": {"pid": 8, "started": 100, "fds": 16, "rss_kb": 11856}}}
        found = checker.check(h)[0]
        self.assertEqual([v["invariant"] for v in found], ["resources"])
        self.assertIn("h3-parent", found[0]["what"])

    def test_figures(self):
        h = history(steady(0, 2, "1") + steady(2, 3, "") + steady(3, 4, "12") + steady(4, 10, "1"),
                    [{"kind": "loss", "host": None, "begin": 1.5, "end": 3.5}])
        h["probes"] = [[i / 100.0, 0 if 200 <= i < 300 else 1, "h1"] for i in range(1000)]
        _, figure = checker.check(h)
        self.assertAlmostEqual(figure["availability"], 0.9, places=3)
        self.assertAlmostEqual(figure["longest_outage"], 1.0, places=2)
        self.assertAlmostEqual(figure["no_holder"], 1.0, places=2)
        self.assertAlmostEqual(figure["two_holders"], 1.0, places=2)
        self.assertEqual(figure["two_unexcused"], 0.0)
        self.assertEqual(figure["kinds"]["loss"]["lost"], 100)

    def test_a_summary_weighs_availability_by_probes_and_counts_violations(self):
        def run(label, sent, availability, longest, violations):
            figure = {"implementation": label, "seed": 1, "seconds": 10.0, "probes": sent,
                      "availability": availability, "longest_outage": longest, "two_holders": 1.0,
                      "two_unexcused": 0.0, "no_holder": 0.5, "tcp_breaks": 1, "kinds": {"kill": {"count": 2}}}
            return figure, [{"invariant": name} for name in violations]
        text = checker.summary([run("a", 1000, 0.9, 2.0, []), run("a", 3000, 0.5, 4.0, ["outlives"]),
                                run("b", 100, 1.0, 0.0, [])])
        rows = [line.split(" | ") for line in text.splitlines()[2:]]
        self.assertEqual(rows[0][:6], ["| a", "2", "20", "4", "0.6000", "4.00"])
        self.assertEqual(rows[0][-1], "outlives 1 |")
        self.assertEqual(rows[1][-1], "none |")


class ScheduleTests(unittest.TestCase):
    def test_a_seed_gives_one_schedule(self):
        self.assertEqual(chaos.schedule(42, 120), chaos.schedule(42, 120))
        self.assertNotEqual(chaos.schedule(42, 120), chaos.schedule(43, 120))

    def test_the_etcd_faults_leave_the_others_schedule_as_it_was(self):
        for seed in (5, 7, 23):
            plain = [f for f in chaos.schedule(seed, 120) if f["kind"] not in chaos.ETCD_KINDS]
            self.assertEqual(plain, chaos.base_schedule(seed, 120))
            self.assertFalse(any(chaos.applies(kind, "swiftcarp") for kind in chaos.ETCD_KINDS))
            self.assertTrue(all(chaos.applies(kind, "swiftcarp-etcd") for kind in chaos.ETCD_KINDS))

    def test_faults_end_within_the_campaign(self):
        for seed in range(20):
            for fault in chaos.schedule(seed, 60):
                self.assertLessEqual(fault["at"] + fault["duration"], 60.01)

    def test_the_bound(self):
        self.assertAlmostEqual(chaos.bound_for("swiftcarp"), 3 * (1 + 100 / 256) + 1 + 0.5)
        self.assertAlmostEqual(chaos.bound_for("ucarp"), chaos.bound_for("swiftcarp") + 1)


class UsageTests(unittest.TestCase):
    """chaos.usage samples a pid only once it runs the daemon's binary: `ip netns exec` keeps
    its pid across the exec, and a sample before it (its 5 descriptors, 2.5 MB) made a later
    one of the daemon look like growth (swiftcarp-watchdog seed 307)."""

    def test_a_pid_is_sampled_only_once_it_runs_the_binary(self):
        sleep = shutil.which("sleep")
        # A shell that execs sleep once told to: the same pid, first the shell, then sleep.
        process = subprocess.Popen(["sh", "-c", "read go; exec %s 30" % sleep], stdin=subprocess.PIPE)
        try:
            self.assertTrue(chaos.alive(process.pid))
            self.assertIsNone(chaos.usage(process.pid, sleep))
            self.assertIsNotNone(chaos.usage(process.pid))
            process.stdin.write(b"go\n")
            process.stdin.close()
            for _ in range(500):
                if chaos.runs(process.pid, sleep):
                    break
                time.sleep(0.01)
            use = chaos.usage(process.pid, sleep)
            self.assertIsNotNone(use)
            self.assertEqual(use["pid"], process.pid)
            self.assertGreater(use["fds"], 0)
        finally:
            process.kill()
            process.wait()

    def test_gone_pid_is_not_sampled(self):
        process = subprocess.Popen(["true"])
        process.wait()
        self.assertIsNone(chaos.usage(process.pid, shutil.which("true")))
        self.assertIsNone(chaos.usage(process.pid))


if __name__ == "__main__":
    unittest.main()
