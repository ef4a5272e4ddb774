/// A command-line parser with the rules of glibc's `getopt_long`, which ucarp uses.
///
/// Long options as `--name value` or `--name=value`, any unique prefix of a name, short
/// options as `-v 42` or `-v42`, clustered flags (`-PzB`), `--` ending the options, and
/// non-option arguments collected wherever they stand (glibc permutes them to the end).
///
/// One deliberate difference: options are given in two tiers. A prefix that is unique among
/// the first tier (ucarp's own options) resolves there even if it also begins an option of the
/// second tier (our extensions), so every abbreviation ucarp accepts keeps its meaning.
public struct CommandLineParser<ID: Hashable & Sendable>: Sendable {
    public struct Option: Sendable {
        public var name: String
        public var short: Character?
        public var takesArgument: Bool
        /// getopt's `optional_argument`: the value only as `--name=value`; `--name` alone has none.
        public var argumentIsOptional: Bool
        public var id: ID

        public init(
            _ name: String, short: Character? = nil, takesArgument: Bool, argumentIsOptional: Bool = false, id: ID
        ) {
            self.name = name
            self.short = short
            self.takesArgument = takesArgument
            self.argumentIsOptional = argumentIsOptional
            self.id = id
        }
    }

    public struct Parsed: Sendable {
        /// Options in the order given, with their arguments.
        public var options: [(id: ID, argument: String?)] = []
        /// Where each option's argument stands in the input, by index into ``options``:
        /// which argument, and the UTF-8 offset where the value starts in it.
        public var valueLocations: [Int: (argument: Int, offset: Int)] = [:]
        public var operands: [String] = []
    }

    /// Messages worded as glibc's getopt words them.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case unrecognizedLong(String)
        case ambiguous(String, candidates: [String])
        case invalidShort(Character)
        case missingArgumentLong(String)
        case missingArgumentShort(Character)
        case unexpectedArgument(String)

        public var description: String {
            switch self {
            case .unrecognizedLong(let name): "unrecognized option '--\(name)'"
            case .ambiguous(let name, let candidates):
                "option '--\(name)' is ambiguous; possibilities: "
                    + candidates.map { "'--\($0)'" }.joined(separator: " ")
            case .invalidShort(let character): "invalid option -- '\(character)'"
            case .missingArgumentLong(let name): "option '--\(name)' requires an argument"
            case .missingArgumentShort(let character): "option requires an argument -- '\(character)'"
            case .unexpectedArgument(let name): "option '--\(name)' doesn't allow an argument"
            }
        }
    }

    public var tiers: [[Option]]

    public init(tiers: [[Option]]) {
        self.tiers = tiers
    }

    /// Parses `arguments` (without the program name).
    public func parse(_ arguments: [String]) throws(Error) -> Parsed {
        var parsed = Parsed()
        var index = 0
        func nextArgument() -> String? {
            guard index < arguments.count else { return nil }
            defer { index += 1 }
            return arguments[index]
        }
        while let argument = nextArgument() {
            if argument == "--" {
                while let operand = nextArgument() { parsed.operands.append(operand) }
            } else if argument.utf8.starts(with: "--".utf8) {
                // In scalars, as getopt reads bytes: a combining mark after `=` is the value's.
                let body = argument.unicodeScalars.dropFirst(2)
                let name = String(String.UnicodeScalarView(body.prefix { $0 != "=" }))
                let inlineValue = body.firstIndex(of: "=").map {
                    String(String.UnicodeScalarView(body[body.index(after: $0)...]))
                }
                let option = try resolve(name)
                if option.takesArgument, option.argumentIsOptional, inlineValue == nil {
                    parsed.options.append((option.id, nil))
                } else if option.takesArgument {
                    let location =
                        inlineValue != nil ? (index - 1, 2 + name.utf8.count + 1) : (index, 0)
                    guard let value = inlineValue ?? nextArgument() else {
                        throw .missingArgumentLong(option.name)
                    }
                    parsed.valueLocations[parsed.options.count] = location
                    parsed.options.append((option.id, value))
                } else {
                    if inlineValue != nil { throw .unexpectedArgument(option.name) }
                    parsed.options.append((option.id, nil))
                }
            } else if argument.utf8.first == UInt8(ascii: "-") && argument.utf8.count > 1 {
                // Letter by scalar: `-p` followed by a combining mark is `-p` and its value.
                var rest = argument.unicodeScalars.dropFirst()
                while let scalar = rest.first {
                    rest = rest.dropFirst()
                    let character = Character(scalar)
                    guard let option = shortOption(character) else { throw .invalidShort(character) }
                    if option.takesArgument {
                        let attached = String(String.UnicodeScalarView(rest))
                        let location =
                            rest.isEmpty ? (index, 0) : (index - 1, argument.utf8.count - attached.utf8.count)
                        let value = rest.isEmpty ? nextArgument() : attached
                        guard let value else { throw .missingArgumentShort(character) }
                        parsed.valueLocations[parsed.options.count] = location
                        parsed.options.append((option.id, value))
                        break
                    }
                    parsed.options.append((option.id, nil))
                }
            } else {
                parsed.operands.append(argument)
            }
        }
        return parsed
    }

    private func resolve(_ name: String) throws(Error) -> Option {
        let all = tiers.flatMap { $0 }
        if let exact = all.first(where: { $0.name == name }) { return exact }
        if !name.isEmpty {
            for tier in tiers {
                let candidates = tier.filter { $0.name.hasPrefix(name) }
                if candidates.count == 1, let only = candidates.first { return only }
                if candidates.count > 1 { throw .ambiguous(name, candidates: candidates.map(\.name)) }
            }
        }
        throw .unrecognizedLong(name)
    }

    private func shortOption(_ character: Character) -> Option? {
        tiers.lazy.flatMap { $0 }.first { $0.short == character }
    }
}
