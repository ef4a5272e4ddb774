/// Something worth saying at start-up that does not stop it; ``description`` is the log line.
public enum StartupWarning: Equatable, Sendable, CustomStringConvertible {
    /// `--passfile` may be read by group or others; `mode` is the file's permission bits.
    case passfileReadable(path: String, mode: UInt32)
    /// Another file holding a secret may be read by group or others: `what` names it (a
    /// configuration file with `PASSWORD=`, `--etcd-passfile`, `--etcd-key`).
    case secretReadable(what: String, path: String, mode: UInt32)
    /// A configuration file sets a variable ucarp's files do not have; `origin` is `path:line`.
    case unknownVariable(name: String, origin: String)
    /// `ID` is zero-padded, and octal (as ucarp would read it handed verbatim) differs.
    case zeroPaddedID(value: String, origin: String)
    /// `--etcd-user` with an `http://` endpoint: the password goes to etcd unencrypted.
    case etcdPasswordInClear
    /// No `--upscript`: ucarp's own warning, word for word.
    case noUpscript
    /// No `--downscript`: ucarp's own warning, word for word.
    case noDownscript

    public var description: String {
        switch self {
        case .passfileReadable(let path, let mode):
            "passfile \(path) is readable by group or others (mode 0\(String(mode & 0o777, radix: 8))): chmod 600 it"
        case .secretReadable(let what, let path, let mode):
            "\(what) \(path) is readable by group or others (mode 0\(String(mode & 0o777, radix: 8))): chmod 600 it"
        case .unknownVariable(let name, let origin): "\(origin): unknown variable \(name) (ignored)"
        case .zeroPaddedID(let value, let origin):
            "\(origin): ID \(value) is read as the decimal vhid \(Int(value) ?? 0); ucarp handed \(value) "
                + "verbatim would read \(Int(value, radix: 8).map { "octal \($0)" } ?? "an invalid octal number"): "
                + "make sure every host agrees"
        case .etcdPasswordInClear:
            "--etcd-user with an http:// endpoint: the etcd password crosses the network unencrypted; use https://"
        case .noUpscript: "Warning: no script called when going up"
        case .noDownscript: "Warning: no script called when going down"
        }
    }
}
