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
        /// The value's bytes as written, which need not be UTF-8 (``value`` repairs them).
        public var valueBytes: [UInt8]
        /// The line the assignment starts on, from 1.
        public var line: Int

        /// `valueBytes` default to the UTF-8 of `value`.
        public init(name: String, value: String, valueBytes: [UInt8]? = nil, line: Int) {
            self.name = name
            self.value = value
            self.valueBytes = valueBytes ?? Array(value.utf8)
            self.line = line
        }
    }

    public var path: String
    public var assignments: [Assignment]

    /// The last value given to `name`, with its line.
    public func value(of name: String) -> Assignment? {
        assignments.last { $0.name == name }
    }

    public static func parse(_ text: [UInt8], path: String) throws(ConfigurationError) -> ConfigurationFile {
        var lexer = ShellLexer(text, dialect: .file)
        var assignments: [Assignment] = []
        while true {
            let statement: [ShellLexer.Word]
            do {
                guard let next = try lexer.nextStatement() else { break }
                statement = next
            } catch {
                throw ConfigurationError(path: path, line: error.line, message: error.message)
            }
            var words = statement
            if words.first?.text == "export", words.first?.quoted == false {
                words.removeFirst()
                // `export NAME` alone marks a variable for export: nothing to do here.
                words.removeAll { $0.assignment == nil && isName($0.text) && !$0.quoted }
            }
            for word in words {
                guard let (name, value, valueBytes) = word.assignment else {
                    let hint =
                        word.quoted && word.nameEnd == nil && word.text.contains("=")
                        ? "the name before '=' may have no quotes or backslashes"
                        : "the file is read, not run by a shell"
                    throw ConfigurationError(
                        path: path, line: word.line,
                        message: "'\(word.text)' is not a variable assignment (NAME=value): \(hint)")
                }
                assignments.append(Assignment(name: name, value: value, valueBytes: valueBytes, line: word.line))
            }
        }
        return ConfigurationFile(path: path, assignments: assignments)
    }

    static func isName(_ text: some StringProtocol) -> Bool {
        guard let first = text.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
