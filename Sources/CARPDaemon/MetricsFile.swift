import Glibc
import SystemPackage

/// `--metrics-file`: node_exporter's textfile collector reads it, and must never see half a
/// file, so the text goes to a temporary file beside it that is renamed into place.
///
/// Unlike ``StateFile`` it is not synced: it is rewritten every few seconds, and after a crash
/// a stale or missing file says just what happened; the rename alone keeps readers safe. The
/// temporary name does not end in `.prom`, so the collector never reads it.
struct MetricsFile {
    let path: String

    /// Replaces the file with `text`, or throws and leaves the old file as it was.
    func write(_ text: String) throws(DaemonError) {
        let temporary = FilePath("\(path).tmp.\(getpid())")
        let file = try System.open(
            temporary, .writeOnly, options: [.create, .truncate, .closeOnExec],
            permissions: [.ownerReadWrite, .groupRead, .otherRead])
        do throws(DaemonError) {
            try System.write(Array(text.utf8), to: file, subject: temporary.string)
        } catch {
            System.release(file)
            try? System.unlink(temporary)
            throw error
        }
        do throws(DaemonError) {
            try System.close(file, subject: temporary.string)
            try System.rename(temporary, to: FilePath(path))
        } catch {
            // Best effort: the error thrown is the one that matters; a leftover is overwritten.
            try? System.unlink(temporary)
            throw error
        }
    }
}
