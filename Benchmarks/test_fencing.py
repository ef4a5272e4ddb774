"""Unit tests of Benchmarks/fencing.py: python3 -m unittest discover -s Benchmarks -p 'test_*.py'."""

import unittest

import fencing

PROBES = [
    "# 192.0.2.100 rate 200",
    "1 0 100.000 100.001 h1",
    "2 0 100.005 100.006 h1",
    "3 0 100.010 - -",
    "4 0 103.500 - -",
    "5 0 103.505 103.506 h2",
    "6 0 103.510 103.511 h1",
    "7 0 103.515 103.516 h2",
]


class TakeoverTests(unittest.TestCase):
    def test_gap_runs_from_the_old_holders_last_answer_to_the_new_ones_first(self):
        self.assertEqual(fencing.takeover(PROBES, "h1", "h2", 100.002), "3.500 100.006000 103.506000")

    def test_a_frozen_holders_late_answers_do_not_shorten_the_gap(self):
        # Probes sent while the holder was stopped, answered once it ran again.
        probes = PROBES[:3] + ["8 0 101.0 104.0 h1", "9 0 101.005 104.001 h1"] + PROBES[4:]
        self.assertEqual(fencing.takeover(probes, "h1", "h2", 100.002).split()[0], "3.500")

    def test_answers_of_the_new_holder_before_the_event_do_not_count(self):
        probes = ["1 0 99.0 99.001 h2"] + PROBES[1:]
        self.assertEqual(fencing.takeover(probes, "h1", "h2", 100.002).split()[0], "3.500")

    def test_no_answer_from_the_new_holder_is_no_takeover(self):
        self.assertEqual(fencing.takeover(PROBES[:4], "h1", "h2", 100.0), "- - -")


class ElectedTests(unittest.TestCase):
    LOG = [
        '{"level":"info","ts":"2026-12-07T04:51:54.937Z","msg":"6e27 became leader at term 4"}',
        '{"level":"info","ts":"2026-12-07T04:52:20.500Z","msg":"6e27 received MsgVoteResp"}',
        '{"level":"info","ts":"2026-12-07T04:52:21.250Z","msg":"8e1a became leader at term 5"}',
        "not json, became leader",
    ]

    def test_the_first_election_after_the_event(self):
        after = 1796619140.0  # 2026-12-07T04:52:20Z
        self.assertEqual(fencing.elected(after, [self.LOG]), "%.6f" % (after + 1.25))

    def test_no_election_after_the_event(self):
        self.assertEqual(fencing.elected(1796619200.0, [self.LOG]), "-")


class TableTests(unittest.TestCase):
    def test_partition_rows_show_when_the_cut_off_holder_was_last_renewed(self):
        lines = [
            "fencing ttl3-election1000 partition 1 3 6.630 0.000 6.635 3.655 1.113",
            "fencing ttl3-election1000 partition 2 3 6.000 0.000 6.010 3.000 1.000",
            "fencing ttl3-election1000 crash-leader 1 3 5.605 - 5.599 - 1.089",
        ]
        rows = fencing.table(lines).splitlines()
        self.assertEqual(len(rows), 3)
        self.assertIn("(b) holder's host crashes with etcd's leader", rows[1])
        partition = rows[2]
        self.assertIn("6.31 (6.00-6.63)", partition)  # the client's takeover
        self.assertIn("0.83 (0.50-1.15)", partition)  # down - TTL * 5/6
        self.assertIn("1.27 (1.01-1.52)", partition)  # up - (leader + 1 s + TTL)
        self.assertTrue(partition.endswith("0.00 s"))


if __name__ == "__main__":
    unittest.main()
