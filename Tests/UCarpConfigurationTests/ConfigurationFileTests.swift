import CARPCore
import Testing

@testable import UCarpConfiguration

struct ConfigurationFileTests {
    func parse(_ text: String) throws(ConfigurationError) -> ConfigurationFile {
        try ConfigurationFile.parse(Array(text.utf8), path: "/etc/ucarp/vip-001.conf")
    }

    func values(_ text: String) throws -> [String: String] {
        Dictionary(try parse(text).assignments.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
    }

    func error(_ text: String) -> ConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsTheRedHatExampleUnchanged() throws {
        let file = try parse(ConfigurationOptionsTests.redHatExample + "\n")
        #expect(
            file.assignments.map(\.name) == [
                "ID", "VIP_ADDRESS", "PASSWORD", "BIND_INTERFACE", "SOURCE_ADDRESS", "OPTIONS",
            ])
        #expect(file.value(of: "ID") == .init(name: "ID", value: "001", line: 2))
        #expect(file.value(of: "OPTIONS")?.value == "--shutdown --preempt --advskew=10")
        #expect(file.value(of: "OPTIONS")?.line == 7)
    }

    @Test func quotingAsAShellDoes() throws {
        let parsed = try values(
            #"""
            A=plain
            B='single $quoted "text"'
            C="double \"escaped\" \$ \\ and 'single'"
            D=con"cat"'enated'
            E=back\ slash
            F=
            G=""
            H="a=b"
            """#)
        #expect(parsed["A"] == "plain")
        #expect(parsed["B"] == #"single $quoted "text""#)
        #expect(parsed["C"] == #"double "escaped" $ \ and 'single'"#)
        #expect(parsed["D"] == "concatenated")
        #expect(parsed["E"] == "back slash")
        #expect(parsed["F"] == "")
        #expect(parsed["G"] == "")
        #expect(parsed["H"] == "a=b")
    }

    @Test func commentsBlankLinesExportAndSeparators() throws {
        let parsed = try values(
            """

               # indented comment
            export A=1   # trailing comment
            B=2; C=3
            D=4 E=5
            F=x#not-a-comment
            export G
            """)
        #expect(parsed == ["A": "1", "B": "2", "C": "3", "D": "4", "E": "5", "F": "x#not-a-comment"])
    }

    @Test func multiLineValuesKeepTheirStartingLine() throws {
        let file = try parse("A=1\nB=\"two\nlines\"\nC=con\\\ntinued\nD=4\n")
        #expect(file.value(of: "B") == .init(name: "B", value: "two\nlines", line: 2))
        #expect(file.value(of: "C") == .init(name: "C", value: "continued", line: 4))
        #expect(file.value(of: "D")?.line == 6)
    }

    @Test func laterAssignmentsWin() throws {
        #expect(try parse("A=1\nA=2\n").value(of: "A")?.value == "2")
    }

    @Test(
        arguments: [
            ("A=\"open\nB=2\n", 1, "unterminated double quote"),
            ("A=1\nB='open\n", 2, "unterminated single quote"),
            ("A=1\n\nB=$HOME\n", 3, "'$' expansion is not supported"),
            ("B=\"${X}\"\n", 1, "'$' expansion is not supported"),
            ("B=`id`\n", 1, "'`' expansion is not supported"),
            ("echo hello\n", 1, "'echo' is not a variable assignment"),
            ("A=1\n1A=2\n", 2, "'1A=2' is not a variable assignment"),
            ("A=b|c\n", 1, "would need a shell"),
            ("A=1 && rm -rf /\n", 1, "would need a shell"),
            ("A=1\nB=trailing\\", 2, "a backslash ends the file"),
            ("PASS\\WORD=x\n", 1, "'PASSWORD=x' is not a variable assignment (NAME=value): the name before '='"),
            ("\"PASSWORD\"=x\n", 1, "the name before '=' may have no quotes or backslashes"),
        ] as [(String, Int, String)])
    func badFilesNameTheLineAndTheProblem(text: String, line: Int, message: String) throws {
        let failure = try #require(error(text))
        #expect(failure.line == line)
        #expect(failure.path == "/etc/ucarp/vip-001.conf")
        #expect(failure.message.contains(message), "\(failure.message)")
        #expect(failure.description.hasPrefix("/etc/ucarp/vip-001.conf:\(line): "))
    }

    /// A backslash-newline joins lines even inside a name; an escaped `=` is part of the value.
    @Test func backslashNewlineContinuesAName() throws {
        #expect(try values("PASS\\\nWORD=x\nA=b\\=c\n") == ["PASSWORD": "x", "A": "b=c"])
    }

    /// A stray byte that is not UTF-8 before the `=` once made `PASSWORD<0x80>=secret` the
    /// password `=secret`; a shell would not take it for an assignment either.
    @Test func anInvalidByteInTheNameIsNoAssignment() throws {
        let bytes = Array("PASSWORD".utf8) + [0x80] + Array("=secret\n".utf8)
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.parse(bytes, path: "vip-001.conf") }
        // A combining mark right after the `=` belongs to the value.
        #expect(try values("A=\u{301}x\n") == ["A": "\u{301}x"])
    }
}
