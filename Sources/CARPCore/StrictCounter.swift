/// The counter of `--auth=strict`: it never goes back, across restarts and reboots, so that a
/// receiver can drop anything not above the last it accepted (``StrictReplayWindow``).
///
/// Its high 32 bits are an epoch chosen at each start, its low 32 bits count the adverts of
/// that run from 0 (64 bits counted by one: a run that sends 2³² adverts carries into the next
/// epoch, and that is still above every earlier counter). The epoch of a start is above the one
/// persisted by the previous start (the `--auth-state` file, written before the first advert)
/// and at least the wall clock in seconds since 1970:
///
/// - the persisted epoch keeps the counter growing whatever the clock does, as long as the
///   file survives (a restart, and a reboot with the file on a persistent file system);
/// - the wall clock keeps it growing when the file is lost or was never kept (no
///   `--auth-state`, a `/run` emptied at reboot), as long as the clock is not set back past
///   the previous start. A run of 2³² adverts lasts 136 years at advbase 1 (194 days at the
///   fastest rate, 256 a second): the epoch never overtakes the clock in practice.
public enum StrictCounter {
    /// The epoch of a start; nil when the persisted one is the last there is (2³² − 1).
    public static func epoch(persisted: UInt32?, secondsSinceEpoch: UInt64) -> UInt32? {
        let clock = UInt32(clamping: secondsSinceEpoch)
        guard let persisted else { return clock }
        guard persisted < .max else { return nil }
        return max(persisted + 1, clock)
    }

    /// The counter of the first advert of a run in `epoch`.
    public static func firstCounter(epoch: UInt32) -> UInt64 {
        UInt64(epoch) << 32
    }
}
