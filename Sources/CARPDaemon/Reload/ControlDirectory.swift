import Glibc
import SystemPackage

/// Where the control sockets of `ucarp --reload` are, by the daemon's user.
///
/// A daemon run by root puts its socket in `/run/ucarp/control` (root's, 0700). One run by
/// another user (`User=ucarp` with ambient CAP_NET_RAW and CAP_NET_ADMIN, as hardening.conf
/// shows) cannot write there: it uses `/run/ucarp/control-USER` (its own, 0700), which
/// `/run/ucarp` (root's) must already hold when that user cannot create it, as systemd's
/// `RuntimeDirectory=ucarp/control-ucarp` does. `ucarp --reload` looks in all of them.
enum ControlDirectory {
    /// Where every instance's directory is, root's.
    static let runtime = FilePath("/run/ucarp")
    /// Root's instances' directory.
    static let root = runtime.appending("control")

    /// The directory of this process's sockets: root's, or the one named after its user.
    static var own: FilePath {
        let uid = geteuid()
        return uid == 0 ? root : runtime.appending("control-\(userName(uid))")
    }

    /// The user's name from the password database (`getpwuid_r`), or the uid's digits when
    /// it has none.
    static func userName(_ uid: uid_t) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 1024)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let name = entry.pw_name else { return "\(uid)" }
        let text = String(cString: name)
        // A name that is no plain file name component is not used as one.
        guard !text.isEmpty, !text.contains("/"), text != ".", text != ".." else { return "\(uid)" }
        return text
    }

    /// Root's directory, then every `control-*` one in `/run/ucarp`, in name order.
    static func all() -> [FilePath] {
        var names: [String] = []
        if let directory = opendir(runtime.string) {
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.hasPrefix("control-") { names.append(name) }
            }
        }
        return [root] + names.sorted().map { runtime.appending($0) }
    }

    /// Who may ask this daemon: root, and its own user (who could signal or trace it anyway),
    /// so that `ExecReload=` run as `User=` reaches it too.
    static func mayAsk(_ peer: uid_t) -> Bool {
        peer == 0 || peer == geteuid()
    }
}
