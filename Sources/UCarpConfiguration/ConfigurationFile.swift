/// A Red Hat style `vip-NNN.conf` or `vip-common.conf`: shell variable assignments, parsed
/// and never executed.
///
/// What a shell would accept for plain assignments is accepted: `NAME=value`, `export NAME=value`,
/// several assignments on a line, `;` between statements, `#` comments, single and double
/// quotes, backslash escapes and line continuations. Anything that would need a shell to run
/// (commands, `$` expansion, backquotes) is an error naming the file and line.
public struct ConfigurationFile: Equatable, Sendable {
    public struct Assignment: Equatable, Sendable {
        public var name: String
        public var value: String
        /// The line the assignment starts on, from 1.
        public var line: Int
    }

    public var path: String
    public var assignments: [Assignment]

    /// The last value given to `name`, with its line.
    public func value(of name: String) -> Assignment? {
        assignments.last { $0.name == name }
    }

    public static func parse(_ text: [UInt8], path: String) throws(ConfigurationError) -> ConfigurationFile {
        var lexer = Lexer(bytes: text, path: path)
        var assignments: [Assignment] = []
        while let statement = try lexer.nextStatement() {
            var words = statement.words
            if words.first?.text == "export", words.first?.quoted == false {
                words.removeFirst()
                // `export NAME` alone marks a variable for export: nothing to do here.
                words.removeAll { $0.assignment == nil && isName($0.text) && !$0.quoted }
            }
            for word in words {
                guard let (name, value) = word.assignment else {
                    let hint =
                        word.quoted && word.nameEnd == nil && word.text.contains("=")
                        ? "the name before '=' may have no quotes or backslashes"
                        : "the file is read, not run by a shell"
                    throw ConfigurationError(
                        path: path, line: word.line,
                        message: "'\(word.text)' is not a variable assignment (NAME=value): \(hint)")
                }
                assignments.append(Assignment(name: name, value: value, line: word.line))
            }
        }
        return ConfigurationFile(path: path, assignments: assignments)
    }

    static func isName(_ text: some StringProtocol) -> Bool {
        guard let first = text.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    /// One shell word: its text after quote removal, and where an unquoted `=` split it.
    struct Word {
        var text = ""
        var quoted = false
        var line: Int
        /// The text before the first unquoted `=`, if that is a valid name and nothing before
        /// it was quoted.
        var assignment: (String, String)? {
            // In scalars, as nameEnd counts: an invalid UTF-8 byte (one replacement character
            // for several bytes) must not shift the split off the `=`.
            let scalars = text.unicodeScalars
            guard let equals = nameEnd,
                let index = scalars.index(scalars.startIndex, offsetBy: equals, limitedBy: scalars.endIndex),
                index < scalars.endIndex, scalars[index] == "="
            else { return nil }
            let name = String(scalars[..<index])
            guard ConfigurationFile.isName(name) else { return nil }
            return (name, String(scalars[scalars.index(after: index)...]))
        }
        /// Offset in Unicode scalars of the first `=` seen while the word was still unquoted.
        var nameEnd: Int?
    }

    struct Statement {
        var words: [Word]
    }

    struct Lexer {
        let bytes: [UInt8]
        let path: String
        var position = 0
        var line = 1

        init(bytes: [UInt8], path: String) {
            self.bytes = bytes
            self.path = path
        }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func advance() {
            if current == UInt8(ascii: "\n") { line += 1 }
            position += 1
        }

        func error(_ message: String, line: Int? = nil) -> ConfigurationError {
            ConfigurationError(path: path, line: line ?? self.line, message: message)
        }

        /// The words up to the end of the next non-empty statement; nil at the end of input.
        mutating func nextStatement() throws(ConfigurationError) -> Statement? {
            var words: [Word] = []
            while let byte = current {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    advance()
                case UInt8(ascii: "\n"), UInt8(ascii: ";"):
                    advance()
                    if !words.isEmpty { return Statement(words: words) }
                case UInt8(ascii: "#"):
                    while let next = current, next != UInt8(ascii: "\n") { advance() }
                case UInt8(ascii: "\\") where position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "\n"):
                    advance()
                    advance()
                default:
                    words.append(try nextWord())
                }
            }
            return words.isEmpty ? nil : Statement(words: words)
        }

        mutating func nextWord() throws(ConfigurationError) -> Word {
            var word = Word(line: line)
            var text: [UInt8] = []
            var count = 0  // characters so far, for nameEnd
            func append(_ byte: UInt8) {
                text.append(byte)
                // Count characters, not UTF-8 continuation bytes.
                if byte & 0xC0 != 0x80 { count += 1 }
            }
            while let byte = current {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ";"):
                    word.text = String(decoding: text, as: UTF8.self)
                    return word
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
                    guard let escaped = current else { throw error("a backslash ends the file") }
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
                    if [
                        UInt8(ascii: "|"), UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("),
                        UInt8(ascii: ")"),
                    ].contains(byte) {
                        throw error(
                            "'\(Character(Unicode.Scalar(byte)))' would need a shell: quote the value "
                                + "(the file is read, not run)")
                    }
                    append(byte)
                    advance()
                }
            }
            word.text = String(decoding: text, as: UTF8.self)
            return word
        }

        func refuseExpansion(_ byte: UInt8) throws(ConfigurationError) {
            if byte == UInt8(ascii: "$") || byte == UInt8(ascii: "`") {
                throw error(
                    "'\(Character(Unicode.Scalar(byte)))' expansion is not supported (the file is read, not run "
                        + "by a shell): write the value literally, in single quotes if it holds a $")
            }
        }
    }
}

/// A configuration file that cannot be used, with where and why.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var message: String

    public init(path: String, line: Int?, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { "\(path):\(line): \(message)" } else { "\(path): \(message)" }
    }
}
