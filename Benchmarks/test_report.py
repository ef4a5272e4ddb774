"""Unit tests of report.py: python3 -B -m unittest discover -s Benchmarks -p 'test_*.py'"""

import unittest

import report


def samples(text):
    return report.read_samples(text.strip().splitlines())


def row_of(table, measure):
    """The cells of the table row whose first cell is MEASURE."""
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if cells[0] == measure.strip():
            return cells
    raise AssertionError("no row %r in:\n%s" % (measure, table))


class MedianMaxTests(unittest.TestCase):
    def test_odd_count_takes_the_middle_value(self):
        self.assertEqual(report.median_max([3.3, 3.1, 3.2]), (3.2, 3.3))

    def test_even_count_averages_the_two_middle_values(self):
        self.assertEqual(report.median_max([4.585, 3.989, 3.0, 5.0]), (4.287, 5.0))

    def test_no_values_give_no_statistics(self):
        self.assertIsNone(report.median_max([]))

    def test_figures_are_rounded_to_milliseconds(self):
        self.assertEqual(report.median_max([0.0064, 0.0066]), (0.007, 0.007))


class GoalTests(unittest.TestCase):
    def test_protocol_bound_is_three_intervals_plus_the_skew(self):
        self.assertEqual(report.protocol_bound(1, 50), 3.195)
        self.assertEqual(report.protocol_bound(0, 40), 0.156)

    def test_crash_goal_is_judged_on_the_maximum(self):
        table = report.table(samples("crash ours 3.200\ncrash ours 3.250\ncrash ours 3.100"))
        self.assertEqual(row_of(table, "crash takeover, advbase 1, skew 0/50 (med / max)")[1:],
                         ["3.200 / 3.250 s", "-", "<= bound + 0.05 s", "NO"])
        table = report.table(samples("crash ours 3.200\ncrash ours 3.245"))
        self.assertEqual(row_of(table, "crash takeover, advbase 1, skew 0/50 (med / max)")[4], "yes")

    def test_missing_figures_give_no_verdict(self):
        table = report.table(samples(""))
        self.assertEqual(row_of(table, "hand-over, TERM with --shutdown (median / max)")[1:],
                         ["-", "-", "< 0.2 s", "-"])
        self.assertEqual(row_of(table, "resident memory (VmRSS) of one master")[1:],
                         ["", "", "<= 2 x ucarp", "-"])

    def test_memory_goal_compares_medians_with_twice_ucarps(self):
        table = report.table(samples("rss ours 10240\nrss ours 12288\nrss ours 8192\nrss ucarp 5120"))
        self.assertEqual(row_of(table, "resident memory (VmRSS) of one master")[1:],
                         ["10.0 MiB", "5.0 MiB", "<= 2 x ucarp", "yes"])
        table = report.table(samples("rss ours 10241\nrss ucarp 5120"))
        self.assertEqual(row_of(table, "resident memory (VmRSS) of one master")[4], "NO")


class AdvbaseZeroTests(unittest.TestCase):
    def test_attempts_count_every_outcome(self):
        table = report.table(samples("attempt0 ucarp flapped\nattempt0 ucarp measured\nattempt0 ucarp failed"))
        self.assertEqual(row_of(table, "  runs measured / attempts")[2], "1 / 3")

    def test_only_flapped_attempts_show_as_such(self):
        table = report.table(samples("attempt0 ucarp flapped\nattempt0 ucarp flapped"))
        self.assertEqual(row_of(table, "advbase 0, skew 26/40: crash takeover (med / max)")[2],
                         "n/a: flapped 2/2")


class InstructionTests(unittest.TestCase):
    def test_cost_per_advert_is_the_difference_of_two_runs(self):
        figures = samples("callgrind ours send 12 58000000 300 13.0\ncallgrind ours send 4 50000000 100 5.0")
        self.assertEqual(report.Report(figures).instructions_per_advert("ours", "send"), 40000)

    def test_no_cost_without_a_profile_or_a_difference_in_adverts(self):
        figures = samples("callgrind ours send 4 0 100 5.0\ncallgrind ours send 12 58000000 300 13.0\n"
                          "callgrind ucarp send 4 5000 100 5.0\ncallgrind ucarp send 12 9000 100 13.0")
        self.assertIsNone(report.Report(figures).instructions_per_advert("ours", "send"))
        self.assertIsNone(report.Report(figures).instructions_per_advert("ucarp", "send"))
        self.assertIsNone(report.Report(figures).instructions_per_advert("ours", "receive"))


class TableTests(unittest.TestCase):
    def test_rows_keep_their_columns(self):
        table = report.table(samples("TERM ours 0.006\nsize ours 15309848\nsize ucarp 44442"), elapsed=412.4)
        self.assertIn("hand-over, TERM with --shutdown (median / max)     | 0.006 / 0.006 s     | "
                      "-                   | < 0.2 s           | yes\n", table)
        self.assertIn("installed binary, stripped                         | 14.6 MiB            | "
                      "43.4 KiB            |                   | \n", table)
        self.assertTrue(table.endswith("\ntotal run time: 412 s\n"))

    def test_comments_and_short_lines_are_ignored(self):
        self.assertEqual(dict(samples("# crash ours 1\ncrash\ncrash ours 2")), {("crash", "ours"): [["2"]]})


if __name__ == "__main__":
    unittest.main()
