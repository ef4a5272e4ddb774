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


def probe_lines(fates, start=100.0, interval=0.001, addresses=1):
    """probe.py lines: one probe per character of FATES ("1", "2": answered by h1, h2; "-": lost),
    sent INTERVAL apart from START, in turn to ADDRESSES addresses."""
    lines = ["# addresses 192.0.2.100 rate 1000"]
    for sequence, fate in enumerate(fates):
        sent = start + sequence * interval
        if fate == "-":
            lines.append("%d %d %.6f - -" % (sequence, sequence % addresses, sent))
        else:
            lines.append("%d %d %.6f %.6f h%s" % (sequence, sequence % addresses, sent, sent + 0.0002, fate))
    return lines


def client_samples(files, text):
    """Samples of TEXT whose probe files are FILES (path -> lines), and their loader."""
    return samples(text), lambda path: files[path]


class GuardTests(unittest.TestCase):
    def test_no_guard_rows_unless_the_guard_phase_ran(self):
        table = report.table(samples("crash ours 3.2"))
        self.assertNotIn("guard", table)

    def test_crash_goal_is_the_ttl_plus_the_protocol_bound(self):
        table = report.table(samples("guardcrash ours 4.1\nguardcrash ours 5.195\nguardcrash ours 4.6"))
        self.assertEqual(row_of(table, "guard: crash takeover, kill -> up (med / max)")[1:],
                         ["4.600 / 5.195 s", "n/a: no guard", "<= TTL + 3.195 s", "yes"])
        table = report.table(samples("guardcrash ours 5.196"))
        self.assertEqual(row_of(table, "guard: crash takeover, kill -> up (med / max)")[4], "NO")

    def test_hand_over_goal_is_under_200_ms(self):
        table = report.table(samples("guardTERM ours 0.012\nguardTERM ours 0.2"))
        self.assertEqual(row_of(table, "guard: hand-over, TERM with --shutdown (med / max)")[4], "NO")

    def test_any_time_with_two_masters_fails_the_guard_and_unguarded_runs_are_only_shown(self):
        figures = samples("partition-guard ours 0.000 4.1\npartition-guard ours 0.002 4.3\n"
                          "partition-none ours 6.8 3.3\npartition-none ucarp 7.0 3.9")
        table = report.table(figures)
        self.assertEqual(row_of(table, "partition, with the guard: two masters (med / max)")[1:],
                         ["0.001 / 0.002 s", "n/a: no guard", "0 s", "NO"])
        self.assertEqual(row_of(table, "partition, without it: two masters (med / max)")[1:],
                         ["6.800 / 6.800 s", "7.000 / 7.000 s", "", ""])
        self.assertEqual(row_of(table, "  partition, with the guard: cut -> backup's up")[1], "4.200 / 4.300 s")


class ProbeTests(unittest.TestCase):
    def test_lost_counts_unanswered_probes(self):
        self.assertEqual(report.lost(report.read_probes(probe_lines("11---22"))), 3)

    def test_gap_runs_between_the_answered_probes_around_the_silence(self):
        probes = report.read_probes(probe_lines("11---22", interval=0.01))
        self.assertEqual(report.longest_gap(probes), 0.04)

    def test_gap_without_loss_is_the_interval(self):
        self.assertEqual(report.longest_gap(report.read_probes(probe_lines("1111", interval=0.002))), 0.002)

    def test_a_silence_to_the_end_counts_and_marks_the_service_as_not_back(self):
        probes = report.read_probes(probe_lines("11----", interval=0.01))
        self.assertEqual(report.longest_gap(probes), 0.04)
        self.assertFalse(report.answered_at_end(probes))
        self.assertTrue(report.answered_at_end(report.read_probes(probe_lines("1--2"))))

    def test_each_address_has_its_own_gaps(self):
        # Two addresses in turn: address 0 answers throughout, address 1 loses two in a row.
        probes = report.read_probes(probe_lines("1111-1-121", interval=0.01, addresses=2))
        self.assertEqual(report.longest_gap(probes), 0.06)

    def test_runs_say_who_answered_and_when(self):
        probes = report.read_probes(probe_lines("11--2", interval=0.5))
        self.assertEqual(report.runs(probes), [(100.0, 101.0, "h1", 2), (101.0, 102.0, None, 2), (102.0, 102.0, "h2", 1)])
        self.assertEqual(report.describe(probes, 101.0),
                         "h1 -1.000..+0.000 (2); none +0.000..+1.000 (2 lost); h2 +1.000..+1.000 (1)")

    def test_timeline_text_has_a_line_per_run(self):
        probes = report.read_probes(probe_lines("11--2", interval=0.5))
        self.assertEqual(report.timeline_text(probes, 101.0), [
            "answered by h1    -1.000 s ..  +0.000 s       2 probes",
            "no answer         +0.000 s ..  +1.000 s       2 probes lost",
            "answered by h2    +1.000 s ..  +1.000 s       1 probes",
        ])

    def test_all_again_waits_for_the_last_address_to_answer_from_the_other_host(self):
        # Address 0 (even sequence numbers) answers from h2 at 100.06, address 1 only at 100.09.
        probes = report.read_probes(probe_lines("11----2-22", interval=0.01, addresses=2))
        self.assertEqual(report.all_again(probes, 100.02, "h2"), 0.07)
        self.assertIsNone(report.all_again(report.read_probes(probe_lines("11-2", addresses=2)), 100.0, "h2"))


class ClientTableTests(unittest.TestCase):
    def test_hand_over_goal_is_no_lost_probe(self):
        figures, load = client_samples(
            {"a": probe_lines("1111122222"), "b": probe_lines("111-122222")},
            "client ours TERM 100.004 a\nclient ucarp TERM 100.004 b",
        )
        table = report.client_table(figures, load)
        self.assertEqual(row_of(table, "planned hand-over (TERM with --shutdown)")[1:],
                         ["0 lost, 0.001 s", "1 lost, 0.002 s", "-", "0 lost", "yes"])
        figures, load = client_samples({"b": probe_lines("111-122222")}, "client ours TERM 100.004 b")
        self.assertEqual(row_of(report.client_table(figures, load), "planned hand-over (TERM with --shutdown)")[5], "NO")

    def test_crash_goal_is_the_protocol_bound_plus_50_ms(self):
        # advbase 1, skew 50: 3.195 s + 0.05 s.
        within, beyond = "1" + "-" * 3243 + "2", "1" + "-" * 3246 + "2"
        figures, load = client_samples({"a": probe_lines(within), "b": probe_lines(beyond)},
                                       "client ours crash 100.0 a\nclient keepalived crash 100.0 b")
        table = report.client_table(figures, load)
        self.assertEqual(row_of(table, "crash of the master (kill -9, port down)")[1:],
                         ["3243 lost, 3.244 s", "-", "3246 lost, 3.247 s", "gap <= 3.245 s", "yes"])
        figures, load = client_samples({"b": probe_lines(beyond)}, "client ours crash 100.0 b")
        self.assertEqual(row_of(report.client_table(figures, load), "crash of the master (kill -9, port down)")[5], "NO")

    def test_a_service_that_never_comes_back_fails_its_goal(self):
        figures, load = client_samples({"a": probe_lines("11----")}, "client ours crash 100.0 a")
        self.assertEqual(row_of(report.client_table(figures, load), "crash of the master (kill -9, port down)")[1:],
                         ["4 lost, not back", "-", "-", "gap <= 3.245 s", "NO"])

    def test_what_an_implementation_cannot_do_is_not_applicable(self):
        table = report.client_table(*client_samples({}, ""))
        self.assertEqual(row_of(table, "failed health check")[2], "n/a: no health check")
        self.assertEqual(row_of(table, "step-down (USR2)")[3], "n/a: no such signal")
        self.assertEqual(row_of(table, "step-down (USR2)")[5], "-")

    def test_the_worst_of_several_runs_is_shown_and_every_run_judged(self):
        figures, load = client_samples({"a": probe_lines("1122"), "b": probe_lines("1-22")},
                                       "client ours USR2 100.001 a\nclient ours USR2 100.001 b")
        table = report.client_table(figures, load)
        self.assertEqual(row_of(table, "step-down (USR2)")[1], "1 lost, 0.002 s")
        self.assertEqual(row_of(table, "step-down (USR2)")[5], "NO")

    def test_forty_addresses_row_gives_the_time_until_all_answer_from_the_other_host(self):
        figures, load = client_samples({"a": probe_lines("11----2-22", interval=0.01, addresses=2)},
                                       "client ucarp crash40 100.02 a")
        self.assertEqual(row_of(report.client_table(figures, load), "host with 40 addresses crashes: all 40 again")[2],
                         "0.070 s, 5 lost")


if __name__ == "__main__":
    unittest.main()


class CalculationTests(unittest.TestCase):
    """The arithmetic Benchmarks/run leaves to report.py calc."""

    def test_difference_is_in_seconds_to_the_millisecond(self):
        self.assertEqual(report.difference("1733500000.123456789", "1733499999.000001"), "1.123")
        self.assertEqual(report.difference("1", "1.5"), "-0.500")

    def test_remaining_is_never_negative(self):
        self.assertEqual(report.remaining("100.25", "8", "100"), "8.250")
        self.assertEqual(report.remaining("100", "8", "108.25"), "0.000")

    def test_memory_total_sums_rss_and_pss_and_gives_mebibytes(self):
        self.assertEqual(report.memory_total([(3100, 900, 2048, 2500), (3000, 800, 2048, 2000)]), "6100 4500 5 4")

    TCPDUMP = [
        "1733500000.100000 IP 192.0.2.11 > 224.0.0.18: CARPv2-advertise 36: vhid=7 advbase=1 advskew=0 authlen=7 counter=1",
        "1733500001.100000 IP 192.0.2.11 > 224.0.0.18: CARPv2-advertise 36: vhid=7 advbase=1 advskew=0 authlen=7 counter=2",
        "1733500001.500000 IP 192.0.2.11 > 224.0.0.18: ip-proto-112 36",
        "",
        "1733500002.100000 IP 192.0.2.11 > 224.0.0.18: CARPv2-advertise 36: vhid=7 advbase=1 advskew=0 authlen=7 counter=3",
    ]

    def test_advert_times_are_the_carp_lines_first_fields(self):
        self.assertEqual(report.advert_times(self.TCPDUMP), [1733500000.1, 1733500001.1, 1733500002.1])

    def test_adverts_between_counts_both_ends(self):
        times = report.advert_times(self.TCPDUMP)
        self.assertEqual(report.adverts_between(times, "1733500000.1", "1733500001.1"), 2)
        self.assertEqual(report.adverts_between(times, "1733500003", "1733500004"), 0)

    def test_last_advert_before_a_moment(self):
        times = report.advert_times(self.TCPDUMP)
        self.assertEqual(report.last_before(times, "1733500002.0"), 1733500001.1)
        self.assertIsNone(report.last_before(times, "1733500000.1"))

    def test_memory_sums_the_rss_of_the_socket_mappings_only(self):
        status = "Name:\tucarp\nVmRSS:\t    3100 kB\nRssAnon:\t     900 kB\n"
        smaps = "\n".join([
            "55d0c0000000-55d0c0100000 r-xp 00000000 08:01 1234    /usr/sbin/ucarp",
            "Rss:                 500 kB",
            "7f0000000000-7f0000200000 rw-s 00000000 00:08 5678    socket:[5678]",
            "Rss:                2048 kB",
            "VmFlags: rd wr sh mr mw me ms",
            "7f0000300000-7f0000400000 rw-p 00000000 00:00 0",
            "Rss:                  12 kB",
        ])
        rollup = "55d0c0000000-7ffd00000000 ---p 00000000 00:00 0    [rollup]\nRss: 3100 kB\nPss: 2500 kB\n"
        self.assertEqual(report.memory_kb(status, smaps, rollup), (3100, 900, 2048, 2500))

    def test_cpu_reads_past_a_command_name_with_spaces(self):
        stat = "4242 (ucarp (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 123 0 0"
        self.assertEqual(report.cpu_of(stat, "987654321 12345 67\n"), (12, 987654321))

    def test_cpu_used_divides_ticks_by_the_clock_rate(self):
        self.assertEqual(report.cpu_used("100 2000000000", "150 2600000000", "100"), "0.50 0.600")

    def test_callgrind_total_is_the_summary_line(self):
        self.assertEqual(report.callgrind_total(["events: Ir", "fl=(1)", "summary: 123456"]), 123456)
        self.assertEqual(report.callgrind_total(["events: Ir", "totals: 42", "summary: 43"]), 42)
        self.assertIsNone(report.callgrind_total(["events: Ir"]))

    def test_advert_rate_between_the_last_two_samples(self):
        lines = ["crash ours 1.2", "callgrind ours send 4 1000 100 4.0", "callgrind ours send 12 3000 304 12.0"]
        self.assertEqual(report.advert_rate(lines), "25.5")
        self.assertEqual(report.advert_rate(lines[:2]), "0.0")

    PROBES = [
        "# probe.py send 192.0.2.100 --rate 1000",
        "0 0 100.000 100.001 h1",
        "1 0 100.001 - -",
        "2 0 100.002 100.004 h2",
    ]

    def test_probe_summary_counts_the_unanswered(self):
        self.assertEqual(report.probe_summary(report.read_probes(self.PROBES)), "3 probes, 1 lost")

    def test_responders_are_the_hosts_that_answered(self):
        self.assertEqual(report.responders(report.read_probes(self.PROBES)), ["h1", "h2"])
        self.assertEqual(report.responders(report.read_probes(self.PROBES[:2] + self.PROBES[1:2])), ["h1"])

    def test_overlap_adds_the_times_both_hosts_held_the_address(self):
        events = {
            "h1": ["10.0 UP 192.0.2.100", "14.5 DOWN 192.0.2.100"],
            "h2": ["12.0 UP 192.0.2.100", "13.0 DOWN 192.0.2.100", "14.0 UP 192.0.2.100"],
        }
        self.assertEqual(report.overlap_seconds(events, "20"), "1.500")

    def test_overlap_runs_until_now_while_both_still_hold_it(self):
        events = {"h1": ["10.0 UP 192.0.2.100"], "h2": ["11.0 UP 192.0.2.100"]}
        self.assertEqual(report.overlap_seconds(events, "13.25"), "2.250")
        self.assertEqual(report.overlap_seconds({"h1": [], "h2": []}, "13.25"), "0.000")
