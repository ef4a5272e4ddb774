import CARPInstance
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

struct MetricsFileTests {
    @Test func writesTheTextAndLeavesNoTemporaryFile() throws {
        let scratch = try ScratchDirectory()
        let file = MetricsFile(path: FilePath("\(scratch.path)/ucarp.prom"))
        try file.write("ucarp_up 1\n")
        try file.write("# TYPE ucarp_up gauge\nucarp_up 0\n")
        #expect(try scratch.contents(of: file.path.string) == "# TYPE ucarp_up gauge\nucarp_up 0\n")
        #expect(scratch.names == ["ucarp.prom"])
    }

    @Test func aReaderOfTheOldFileSeesItWhole() throws {
        let scratch = try ScratchDirectory()
        let file = MetricsFile(path: FilePath("\(scratch.path)/ucarp.prom"))
        try file.write("ucarp_up 1\n")
        let reader = try System.open(file.path, .readOnly, options: .closeOnExec)
        defer { System.release(reader) }
        try file.write("ucarp_up 0\n")
        #expect(try String(decoding: readAll(reader), as: UTF8.self) == "ucarp_up 1\n")
    }

    @Test func aFailedRenameKeepsWhatWasThereAndRemovesTheTemporaryFile() throws {
        let scratch = try ScratchDirectory()
        // A directory with something in it cannot be replaced by a file.
        let path = "\(scratch.path)/ucarp.prom"
        mkdir(path, 0o755)
        mkdir(path + "/inside", 0o755)
        #expect(throws: DaemonError.self) { try MetricsFile(path: FilePath(path)).write("ucarp_up 1\n") }
        #expect(scratch.names == ["ucarp.prom"])
    }

    @Test func aMissingDirectoryIsAnErrorNamingTheFile() throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/missing/ucarp.prom"
        do {
            try MetricsFile(path: FilePath(path)).write("ucarp_up 1\n")
            Issue.record("written into a missing directory")
        } catch {
            #expect(error.description.contains("\(path).tmp."))
            #expect(error.description.contains("No such file or directory"))
        }
    }
}
