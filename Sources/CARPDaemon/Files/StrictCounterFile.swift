import CARPCore
import CARPInstance
import Glibc
import SystemPackage

/// `--auth=strict`'s epoch on disk (``StrictCounter``): read at start, the next one written
/// durably before the first advert, so that the counter never goes back across restarts.
enum StrictCounterFile {
    /// The first counter of this run: the epoch after the one in the file at `path` (absent:
    /// none yet) and at least the wall clock's seconds, written back to the file first.
    /// Without a `path` the wall clock alone gives the epoch.
    static func start(path: FilePath?) throws(DaemonError) -> UInt64 {
        let seconds = UInt64(clamping: System.clock(CLOCK_REALTIME).tv_sec)
        guard let path else {
            return StrictCounter.firstCounter(
                epoch: StrictCounter.epoch(persisted: nil, secondsSinceEpoch: seconds) ?? 0)
        }
        let persisted = try read(path)
        guard let epoch = StrictCounter.epoch(persisted: persisted, secondsSinceEpoch: seconds) else {
            throw .authState(
                path: path.string, reason: "holds the last epoch there is (\(UInt32.max)): remove it to start again")
        }
        try System.replaceFile(
            at: path, contents: StrictCounter.stateFile(epoch: epoch), permissions: [.ownerReadWrite], durable: true)
        return StrictCounter.firstCounter(epoch: epoch)
    }

    /// The epoch in the file, nil if there is no file; a link or a foreign text is refused.
    private static func read(_ path: FilePath) throws(DaemonError) -> UInt32? {
        let file: FileDescriptor
        do throws(DaemonError) {
            file = try System.open(path, .readOnly, options: [.closeOnExec, .noFollow])
        } catch {
            if case .system(_, _, let code) = error, code == .noSuchFileOrDirectory { return nil }
            throw error
        }
        defer { System.release(file) }
        // The file is a line; a longer one is not ours.
        let bytes = try System.read(file, upTo: 64, subject: path.string)
        guard let epoch = StrictCounter.epoch(stateFile: bytes) else {
            throw .authState(path: path.string, reason: "does not hold EPOCH=<number>: is it another file?")
        }
        return epoch
    }
}
