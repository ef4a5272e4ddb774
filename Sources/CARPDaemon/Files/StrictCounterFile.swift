import CARPCore
import CARPInstance
import Glibc
import SystemPackage

/// `--auth=strict`'s state on disk (``StrictState``): read at start, the next epoch written
/// durably before the first advert, so that our counter never goes back across restarts; and
/// the counters accepted from peers, written when a peer starts and when we leave, so that a
/// restarted receiver does not take their old adverts for new ones.
enum StrictCounterFile {
    /// The first counter of this run, and the peers' counters the previous run kept: the epoch
    /// after the one in the file at `path` (absent: none yet) and at least the wall clock's
    /// seconds, written back to the file first. Without a `path` the wall clock alone gives
    /// the epoch and nothing is remembered.
    static func start(path: FilePath?) throws(DaemonError) -> (counter: UInt64, peers: [StrictState.Peer]) {
        let seconds = UInt64(clamping: System.clock(CLOCK_REALTIME).tv_sec)
        guard let path else {
            let epoch = StrictCounter.epoch(persisted: nil, secondsSinceEpoch: seconds) ?? 0
            return (StrictCounter.firstCounter(epoch: epoch), [])
        }
        let previous = try read(path)
        guard let epoch = StrictCounter.epoch(persisted: previous?.epoch, secondsSinceEpoch: seconds) else {
            throw .authState(
                path: path.string, reason: "holds the last epoch there is (\(UInt32.max)): remove it to start again")
        }
        let peers = previous?.peers ?? []
        try write(StrictState(epoch: epoch, peers: peers), to: path)
        return (StrictCounter.firstCounter(epoch: epoch), peers)
    }

    /// Replaces the file with `state`, keeping the higher of its epoch and the one in the file
    /// (a leaving advert sent for a dead instance may have opened a newer one). Nothing without
    /// a `path`.
    static func record(_ state: StrictState, path: FilePath?) throws(DaemonError) {
        guard let path else { return }
        var state = state
        if let kept = try? read(path) { state.epoch = max(state.epoch, kept.epoch) }
        try write(state, to: path)
    }

    private static func write(_ state: StrictState, to path: FilePath) throws(DaemonError) {
        try System.replaceFile(at: path, contents: state.text, permissions: [.ownerReadWrite], durable: true)
    }

    /// The state in the file, nil if there is no file; a link or a foreign text is refused.
    private static func read(_ path: FilePath) throws(DaemonError) -> StrictState? {
        let file: FileDescriptor
        do throws(DaemonError) {
            file = try System.open(path, .readOnly, options: [.closeOnExec, .noFollow])
        } catch {
            if case .system(_, _, let code) = error, code == .noSuchFileOrDirectory { return nil }
            throw error
        }
        defer { System.release(file) }
        // An epoch and at most 16 peers are far below this; a longer file is not ours.
        var bytes: [UInt8] = []
        while bytes.count <= 8192 {
            let chunk = try System.read(file, upTo: 4096, subject: path.string)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        guard bytes.count <= 8192, let state = StrictState(text: bytes) else {
            throw .authState(path: path.string, reason: "does not hold EPOCH=<number>: is it another file?")
        }
        return state
    }
}
