import CARPInstance
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

struct SystemReplaceFileTests {
    @Test func theContentsArriveWholeAndNoTemporaryFileStays() throws {
        let scratch = try ScratchDirectory()
        let path = FilePath("\(scratch.path)/target")
        let contents = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try System.replaceFile(at: path, contents: Array("old".utf8), permissions: .ownerReadWrite, durable: false)
        try System.replaceFile(at: path, contents: contents, permissions: .ownerReadWrite, durable: true)
        let reader = try System.open(path, .readOnly, options: .closeOnExec)
        defer { System.release(reader) }
        #expect(try readAll(reader) == contents)
        #expect(scratch.names == ["target"])
    }

    @Test func aSymbolicLinkAtTheTargetIsReplacedNotFollowed() throws {
        let scratch = try ScratchDirectory()
        let victim = "\(scratch.path)/victim"
        let target = "\(scratch.path)/target"
        try System.replaceFile(
            at: FilePath(victim), contents: Array("keep\n".utf8), permissions: .ownerReadWrite, durable: false)
        try #require(symlink(victim, target) == 0)
        try System.replaceFile(
            at: FilePath(target), contents: Array("new\n".utf8), permissions: .ownerReadWrite, durable: false)
        #expect(try scratch.contents(of: victim) == "keep\n")
        #expect(try scratch.contents(of: target) == "new\n")
        var info = stat()
        try #require(lstat(target, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFREG)
    }

    @Test(arguments: [0o600, 0o644] as [CModeT])
    func theFileHasTheModeAskedLessTheUmask(mode: CModeT) throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/target"
        try System.replaceFile(
            at: FilePath(path), contents: [1], permissions: FilePermissions(rawValue: mode), durable: false)
        var info = stat()
        try #require(lstat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == mode & ~(try currentUmask()))
    }

    @Test func temporaryNamesAreUnpredictableAndBesideTheTarget() {
        let path = FilePath("/run/ucarp/state")
        let first = System.temporaryPath(beside: path).string
        let second = System.temporaryPath(beside: path).string
        #expect(first != second)
        for name in [first, second] {
            #expect(name.hasPrefix("/run/ucarp/state.tmp."))
            let suffix = name.dropFirst("/run/ucarp/state.tmp.".count)
            #expect(suffix.count == 16 && suffix.allSatisfy(\.isHexDigit))
        }
    }

    @Test func aMissingDirectoryIsAnErrorNamingTheTemporaryFile() {
        let path = "/nonexistent-swiftcarp-directory/state"
        let error = #expect(throws: DaemonError.self) {
            try System.replaceFile(at: FilePath(path), contents: [1], permissions: .ownerReadWrite, durable: true)
        }
        let description = error?.description ?? ""
        #expect(description.hasPrefix("open on \(path).tmp."))
        #expect(description.hasSuffix(" failed: No such file or directory"))
    }
}

/// The process's umask, from `/proc/self/status` (reading it with `umask` would change it).
private func currentUmask() throws -> CModeT {
    let file = try System.open("/proc/self/status", .readOnly, options: .closeOnExec)
    defer { System.release(file) }
    let status = String(decoding: try readAll(file), as: UTF8.self)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Umask:") })
    return try #require(CModeT(String(line.dropFirst("Umask:".count).filter { !$0.isWhitespace }), radix: 8))
}
