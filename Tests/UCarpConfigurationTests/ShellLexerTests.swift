import Testing

@testable import UCarpConfiguration

/// The one lexer of the files and of `OPTIONS`: the dialects differ only where the shell would.
struct ShellLexerTests {
    func words(_ text: String) throws(ShellLexer.Error) -> [String] {
        try ShellLexer.words(text)
    }

    @Test func optionsWordsKeepWhatAFileWouldRefuse() throws {
        #expect(try words("--xparam=a$b --pass=x;y --xparam=#1") == ["--xparam=a$b", "--pass=x;y", "--xparam=#1"])
        #expect(try words("--xparam=a|b \"c`d\"") == ["--xparam=a|b", "c`d"])
        #expect(try words("a\rb") == ["a\rb"])
    }

    @Test func optionsWordsAreSplitAtBlanksAndNewlinesAndGroupedByQuotes() throws {
        #expect(try words("  --preempt\t--shutdown\n--advskew=10 ") == ["--preempt", "--shutdown", "--advskew=10"])
        #expect(
            try words("--xparam='two words' \"--xparam=\\\"q\\\"\" a\\ b ''") == [
                "--xparam=two words", "--xparam=\"q\"", "a b", "",
            ])
        #expect(try words("\"a\\b\"") == ["a\\b"])
        #expect(try words("") == [])
    }

    /// A backslash-newline joins lines, as in a shell: between words it leaves no empty word.
    @Test func aLineContinuationBetweenWordsLeavesNoWord() throws {
        #expect(try words("--preempt \\\n --shutdown") == ["--preempt", "--shutdown"])
        #expect(try words("--pre\\\nempt") == ["--preempt"])
    }

    @Test func unfinishedQuotingIsAnError() {
        #expect(throws: ShellLexer.Error(message: "unterminated single quote", line: 1)) { try words("'a") }
        #expect(throws: ShellLexer.Error(message: "unterminated double quote", line: 1)) { try words("\"a") }
        #expect(throws: ShellLexer.Error(message: "a backslash ends the value", line: 1)) { try words("a\\") }
    }

    /// A shell reads bytes: a quote followed by a combining mark still opens a quotation.
    @Test func quotesAreBytesNotCharacters() throws {
        #expect(try words("'\u{301}a b'") == ["\u{301}a b"])
    }

    @Test func theFileDialectEndsStatementsAndSkipsComments() throws {
        var lexer = ShellLexer(Array("A=1 B=2; C=3 # D=4\n\nE='x\ny'\n".utf8), dialect: .file)
        var statements: [[String]] = []
        while let statement = try lexer.nextStatement() { statements.append(statement.map(\.text)) }
        #expect(statements == [["A=1", "B=2"], ["C=3"], ["E=x\ny"]])
    }
}
