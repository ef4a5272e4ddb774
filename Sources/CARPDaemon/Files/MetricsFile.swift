import CARPInstance
import SystemPackage

/// `--metrics-file`: node_exporter's textfile collector reads it, and must never see half a
/// file, so it is replaced whole (``System/replaceFile(at:contents:permissions:durable:)``).
///
/// Unlike ``StateFile`` it is not synced: it is rewritten every few seconds, and after a crash
/// a stale or missing file says just what happened; the rename alone keeps readers safe. The
/// temporary name does not end in `.prom`, so the collector never reads it.
struct MetricsFile {
    let path: FilePath

    /// Replaces the file with `text`, or throws and leaves the file at `path` as it was.
    func write(_ text: String) throws(DaemonError) {
        try System.replaceFile(
            at: path, contents: Array(text.utf8), permissions: [.ownerReadWrite, .groupRead, .otherRead],
            durable: false)
    }
}
