/// Splits shell text into words as `sh` would, without running anything: whitespace separates,
/// single and double quotes and backslashes group. One lexer for both places ucarp's files
/// hold shell text, each with its ``Dialect``.
///
/// It reads bytes, as a shell does: a quote is the byte `"`, whatever follows it.
struct ShellLexer {
    /// Where the text comes from.
    enum Dialect {
        /// A `vip-NNN.conf` file: statements end at a newline or `;`, `#` starts a comment,
        /// and anything that would need a shell to run (`$`, backquotes, `|`, redirections...)
        /// is an error.
        case file
        /// The value of `OPTIONS`: only words, every other character literal.
        case words
    }

    struct Error: Swift.Error, Equatable {
        var message: String
        /// The line, from 1, where the faulty text starts.
        var line: Int
    }

    /// One shell word: its text after quote removal, and where an unquoted `=` split it.
    struct Word {
        var text = ""
        /// The text's bytes as read, which need not be UTF-8 (``text`` repairs them).
        var bytes: [UInt8] = []
        /// Whether any of it was quoted or escaped.
        var quoted = false
        var line: Int
        /// Offset in Unicode scalars of the first `=` seen while the word was still unquoted.
        var nameEnd: Int?

        /// The text before the first unquoted `=`, if that is a valid name and nothing before
        /// it was quoted, and the text after it.
        var assignment: (name: String, value: String, valueBytes: [UInt8])? {
            // In scalars, as nameEnd counts: an invalid UTF-8 byte (one replacement character
            // for several bytes) must not shift the split off the `=`.
            let scalars = text.unicodeScalars
            guard let equals = nameEnd,
                let index = scalars.index(scalars.startIndex, offsetBy: equals, limitedBy: scalars.endIndex),
                index < scalars.endIndex, scalars[index] == "="
            else { return nil }
            let name = String(scalars[..<index])
            guard ConfigurationFile.isName(name) else { return nil }
            // The name is ASCII: its length in scalars is its length in bytes.
            let valueBytes = equals < bytes.count ? Array(bytes[(equals + 1)...]) : []
            return (name, String(scalars[scalars.index(after: index)...]), valueBytes)
        }
    }

    let bytes: [UInt8]
    let dialect: Dialect
    private var position = 0
    private(set) var line = 1

    init(_ bytes: [UInt8], dialect: Dialect) {
        self.bytes = bytes
        self.dialect = dialect
    }

    /// The words of `text` in the ``Dialect/words`` dialect.
    static func words(_ text: String) throws(Error) -> [String] {
        try words(bytes: Array(text.utf8)).map(\.text)
    }

    /// The words of `bytes` in the ``Dialect/words`` dialect, each with its bytes as given.
    static func words(bytes: [UInt8]) throws(Error) -> [Word] {
        var lexer = ShellLexer(bytes, dialect: .words)
        return try lexer.nextStatement() ?? []
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func advance() {
        if current == UInt8(ascii: "\n") { line += 1 }
        position += 1
    }

    private func error(_ message: String, line: Int? = nil) -> Error {
        Error(message: message, line: line ?? self.line)
    }

    private func separatesWords(_ byte: UInt8) -> Bool {
        switch dialect {
        case .file: [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains(byte)
        case .words: [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n")].contains(byte)
        }
    }

    private func endsStatement(_ byte: UInt8) -> Bool {
        dialect == .file && (byte == UInt8(ascii: "\n") || byte == UInt8(ascii: ";"))
    }

    /// The words up to the end of the next non-empty statement; nil at the end of input.
    mutating func nextStatement() throws(Error) -> [Word]? {
        var words: [Word] = []
        while let byte = current {
            if separatesWords(byte) {
                advance()
            } else if endsStatement(byte) {
                advance()
                if !words.isEmpty { return words }
            } else if dialect == .file && byte == UInt8(ascii: "#") {
                while let next = current, next != UInt8(ascii: "\n") { advance() }
            } else if byte == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "\n")
            {
                // A line continuation between words.
                advance()
                advance()
            } else {
                words.append(try nextWord())
            }
        }
        return words.isEmpty ? nil : words
    }

    private mutating func nextWord() throws(Error) -> Word {
        var word = Word(line: line)
        var text: [UInt8] = []
        var count = 0  // characters so far, for nameEnd
        func append(_ byte: UInt8) {
            text.append(byte)
            // Count characters, not UTF-8 continuation bytes.
            if byte & 0xC0 != 0x80 { count += 1 }
        }
        while let byte = current, !separatesWords(byte), !endsStatement(byte) {
            switch byte {
            case UInt8(ascii: "'"):
                let opened = line
                word.quoted = true
                advance()
                while let inner = current, inner != UInt8(ascii: "'") {
                    append(inner)
                    advance()
                }
                guard current != nil else { throw error("unterminated single quote", line: opened) }
                advance()
            case UInt8(ascii: "\""):
                let opened = line
                word.quoted = true
                advance()
                while let inner = current, inner != UInt8(ascii: "\"") {
                    if inner == UInt8(ascii: "\\"), position + 1 < bytes.count {
                        let escaped = bytes[position + 1]
                        if escaped == UInt8(ascii: "\n") {
                            advance()
                            advance()
                            continue
                        }
                        if [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "$"), UInt8(ascii: "`")]
                            .contains(escaped)
                        {
                            advance()
                            append(escaped)
                            advance()
                            continue
                        }
                    }
                    try refuseExpansion(inner)
                    append(inner)
                    advance()
                }
                guard current != nil else { throw error("unterminated double quote", line: opened) }
                advance()
            case UInt8(ascii: "\\"):
                advance()
                guard let escaped = current else {
                    throw error(dialect == .file ? "a backslash ends the file" : "a backslash ends the value")
                }
                if escaped != UInt8(ascii: "\n") {
                    // An escaped character is a quoted one: `PASS\WORD=x` is a command to a
                    // shell, not an assignment (a backslash-newline is only a continuation).
                    word.quoted = true
                    append(escaped)
                }
                advance()
            case UInt8(ascii: "="):
                if word.nameEnd == nil && !word.quoted { word.nameEnd = count }
                append(byte)
                advance()
            default:
                try refuseExpansion(byte)
                if dialect == .file,
                    [
                        UInt8(ascii: "|"), UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("),
                        UInt8(ascii: ")"),
                    ].contains(byte)
                {
                    throw error(
                        "'\(Character(Unicode.Scalar(byte)))' would need a shell: quote the value "
                            + "(the file is read, not run)")
                }
                append(byte)
                advance()
            }
        }
        word.text = String(decoding: text, as: UTF8.self)
        word.bytes = text
        return word
    }

    private func refuseExpansion(_ byte: UInt8) throws(Error) {
        guard dialect == .file, byte == UInt8(ascii: "$") || byte == UInt8(ascii: "`") else { return }
        throw error(
            "'\(Character(Unicode.Scalar(byte)))' expansion is not supported (the file is read, not run "
                + "by a shell): write the value literally, in single quotes if it holds a $")
    }
}
