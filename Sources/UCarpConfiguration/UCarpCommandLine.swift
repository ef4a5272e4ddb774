import CARPCore

/// The ucarp 1.5.2 command line: its option table, and the checks that turn it into ``Settings``.
public enum UCarpCommandLine {
    public enum OptionID: String, Hashable, Sendable {
        case interface, srcip, mcast, vhid, pass, preempt, neutral, addr, help, advbase, advskew
        case upscript, downscript, deadratio, debug, shutdown, facility, daemonize, ignoreifstate
        case nomcast, passfile, xparam, version
        case pidfile, statefile, scriptTimeout, config, peer
        case check, checkInterval, checkFall, checkRise, checkTimeout
    }

    typealias Option = CommandLineParser<OptionID>.Option

    /// ucarp's `long_options` in its order, with its short letters (`-m` added: ucarp's help
    /// names it but its short option string forgot it).
    static let ucarpOptions: [Option] = [
        Option("interface", short: "i", takesArgument: true, id: .interface),
        Option("srcip", short: "s", takesArgument: true, id: .srcip),
        Option("mcastip", short: "m", takesArgument: true, id: .mcast),
        Option("vhid", short: "v", takesArgument: true, id: .vhid),
        Option("pass", short: "p", takesArgument: true, id: .pass),
        Option("preempt", short: "P", takesArgument: false, id: .preempt),
        Option("neutral", short: "n", takesArgument: false, id: .neutral),
        Option("addr", short: "a", takesArgument: true, id: .addr),
        Option("help", short: "h", takesArgument: false, id: .help),
        Option("advbase", short: "b", takesArgument: true, id: .advbase),
        Option("advskew", short: "k", takesArgument: true, id: .advskew),
        Option("upscript", short: "u", takesArgument: true, id: .upscript),
        Option("downscript", short: "d", takesArgument: true, id: .downscript),
        Option("deadratio", short: "r", takesArgument: true, id: .deadratio),
        Option("debug", short: "D", takesArgument: false, id: .debug),
        Option("shutdown", short: "z", takesArgument: false, id: .shutdown),
        Option("facility", short: "f", takesArgument: true, id: .facility),
        Option("daemonize", short: "B", takesArgument: false, id: .daemonize),
        Option("ignoreifstate", short: "S", takesArgument: false, id: .ignoreifstate),
        Option("nomcast", short: "M", takesArgument: false, id: .nomcast),
        Option("passfile", short: "o", takesArgument: true, id: .passfile),
        Option("xparam", short: "x", takesArgument: true, id: .xparam),
    ]

    /// Options ucarp does not have. They resolve only where ucarp's own do not.
    static let extensionOptions: [Option] = [
        Option("mcast", takesArgument: true, id: .mcast),
        Option("version", short: "V", takesArgument: false, id: .version),
        Option("pidfile", takesArgument: true, id: .pidfile),
        Option("statefile", takesArgument: true, id: .statefile),
        Option("script-timeout", takesArgument: true, id: .scriptTimeout),
        Option("config", takesArgument: true, id: .config),
        Option("peer", takesArgument: true, id: .peer),
        Option("check", takesArgument: true, id: .check),
        Option("check-interval", takesArgument: true, id: .checkInterval),
        Option("check-fall", takesArgument: true, id: .checkFall),
        Option("check-rise", takesArgument: true, id: .checkRise),
        Option("check-timeout", takesArgument: true, id: .checkTimeout),
    ]

    static let parser = CommandLineParser(tiers: [ucarpOptions, extensionOptions])

    public enum Command: Equatable, Sendable {
        case run(Settings)
        case help
        case version
    }

    /// Parses and validates `arguments` (without the program name).
    ///
    /// - Parameter readPassfile: returns the bytes of a file, or throws a message saying why not.
    public static func parse(
        _ arguments: [String], readPassfile: @escaping (String) throws(SettingsError) -> [UInt8]
    ) throws(SettingsError) -> Command {
        try parse(arguments, files: FileSource(read: readPassfile, readIfPresent: { _ throws(SettingsError) in nil }))
    }

    /// How the command line reads files: passfiles, configuration files, default scripts.
    public struct FileSource {
        /// The bytes of a file, or a ``SettingsError/fileUnreadable(path:reason:)``.
        public var read: (String) throws(SettingsError) -> [UInt8]
        /// The bytes of a file, nil if it does not exist.
        public var readIfPresent: (String) throws(SettingsError) -> [UInt8]?
        /// Where relative paths start (`getcwd`); nil leaves them relative.
        public var currentDirectory: String?

        public init(
            read: @escaping (String) throws(SettingsError) -> [UInt8],
            readIfPresent: @escaping (String) throws(SettingsError) -> [UInt8]?,
            currentDirectory: String? = nil
        ) {
            self.read = read
            self.readIfPresent = readIfPresent
            self.currentDirectory = currentDirectory
        }
    }

    public static func parse(_ arguments: [String], files: FileSource) throws(SettingsError) -> Command {
        // As ucarp: no arguments at all shows the usage.
        if arguments.isEmpty { return .help }
        let parsed = try parseSyntax(arguments, origin: nil)
        if parsed.options.contains(where: { $0.id == .help }) { return .help }
        if parsed.options.contains(where: { $0.id == .version }) { return .version }
        if let stray = parsed.operands.first { throw .strayArgument(stray) }

        var builder = Builder()
        // Files first, so that options given beside --config win over them.
        if let path = parsed.options.last(where: { $0.id == .config })?.argument {
            let configuration = try ConfigurationOptions.load(path: path, files: files)
            builder.warnings = configuration.warnings
            for option in configuration.options {
                do {
                    try builder.apply(option.id, option.value, readPassfile: files.read)
                } catch {
                    throw .inConfiguration(origin: option.origin, error)
                }
            }
        }
        for (id, argument) in parsed.options where id != .config {
            try builder.apply(id, argument ?? "", readPassfile: files.read)
        }
        return .run(try builder.settings())
    }

    /// The options of `arguments`, or the syntax error, said to come from `origin` if given.
    static func parseSyntax(_ arguments: [String], origin: String?) throws(SettingsError)
        -> CommandLineParser<OptionID>.Parsed
    {
        do {
            return try parser.parse(arguments)
        } catch {
            guard let origin else { throw .syntax(error.description) }
            throw .inConfiguration(origin: origin, .syntax(error.description))
        }
    }

    /// Where the values of `--pass` stand in `arguments`, so that the caller can blank them out
    /// of its `argv` (and so of `ps` and `/proc/PID/cmdline`).
    public static func passwordLocations(in arguments: [String]) -> [(argument: Int, offset: Int)] {
        guard let parsed = try? parser.parse(arguments) else { return [] }
        return parsed.options.indices.compactMap { index in
            parsed.options[index].id == .pass ? parsed.valueLocations[index] : nil
        }
    }

    /// Collects options in order (a later one overrides an earlier one, as in ucarp).
    struct Builder {
        var interface: String?
        var sourceAddress: IPv4Address?
        var group = CARPWire.defaultGroup
        var vhid: UInt8?
        var password: [UInt8]?
        var virtualAddress: (IPv4Address, String)?
        var warnings: [String] = []
        var flags = Settings(
            interface: nil, sourceAddress: IPv4Address(0), vhid: 1, password: [], virtualAddress: IPv4Address(0))

        mutating func apply(
            _ id: OptionID, _ value: String, readPassfile: (String) throws(SettingsError) -> [UInt8]
        ) throws(SettingsError) {
            switch id {
            case .interface:
                interface = try nonEmpty(value, option: "--interface")
            case .srcip: sourceAddress = try address(value, option: "--srcip")
            case .mcast:
                let address = try address(value, option: "--mcast")
                guard address.isMulticast else { throw .notMulticast(value: value) }
                group = address
            case .vhid: vhid = UInt8(try number(value, option: "--vhid", range: Settings.vhidRange))
            case .pass:
                password = Array(value.utf8)
                flags.passfile = nil
            case .passfile:
                flags.passfile = value
                let contents = try readPassfile(value)
                // ucarp keeps the first line up to its newline, and C strings end at a NUL.
                let firstLine = contents.prefix { $0 != 0x0A && $0 != 0 }
                guard !firstLine.isEmpty else { throw .passfileEmpty(path: value) }
                password = Array(firstLine)
            case .preempt: flags.preempt = true
            case .neutral: flags.neutral = true
            case .addr: virtualAddress = (try address(value, option: "--addr"), value)
            case .advbase: flags.advbase = UInt8(try number(value, option: "--advbase", range: Settings.advbaseRange))
            case .advskew: flags.advskew = UInt8(try number(value, option: "--advskew", range: Settings.advskewRange))
            case .upscript:
                flags.upscript = try nonEmpty(value, option: "--upscript")
            case .downscript:
                flags.downscript = try nonEmpty(value, option: "--downscript")
            case .deadratio: flags.deadRatio = try number(value, option: "--deadratio", range: Settings.deadRatioRange)
            case .debug: flags.debug = true
            case .shutdown: flags.shutdown = true
            case .facility:
                if value.asciiLowercased() == "none" {
                    flags.facility = nil
                } else {
                    guard let facility = SyslogFacility(named: value) else { throw .unknownFacility(value) }
                    flags.facility = facility
                }
            case .daemonize: flags.daemonize = true
            case .ignoreifstate: flags.ignoreInterfaceState = true
            case .nomcast: flags.noMulticast = true
            case .xparam: flags.xparam = value
            case .check:
                flags.check = try nonEmpty(value, option: "--check")
            case .checkInterval:
                flags.checkInterval = try UCarpCommandLine.positiveDuration(value, option: "--check-interval")
            case .checkTimeout:
                flags.checkTimeout = try UCarpCommandLine.positiveDuration(value, option: "--check-timeout")
            case .checkFall:
                flags.checkFall = Int(try number(value, option: "--check-fall", range: Settings.checkCountRange))
            case .checkRise:
                flags.checkRise = Int(try number(value, option: "--check-rise", range: Settings.checkCountRange))
            case .peer:
                let peer = try address(value, option: "--peer")
                guard !peer.isMulticast else { throw .peerNotUnicast(value: value) }
                if !flags.peers.contains(peer) { flags.peers.append(peer) }
            case .pidfile:
                flags.pidFile = try nonEmpty(value, option: "--pidfile")
            case .statefile:
                flags.stateFile = try nonEmpty(value, option: "--statefile")
            case .scriptTimeout:
                let timeout = try UCarpCommandLine.duration(value, option: "--script-timeout", maximum: 86_400)
                flags.scriptTimeout = timeout.nanoseconds == 0 ? nil : timeout
            case .help, .version, .config: break
            }
        }

        func settings() throws(SettingsError) -> Settings {
            guard let sourceAddress else {
                throw .missing(option: "--srcip (-s)", what: "the real address of this host on the interface")
            }
            guard let vhid else {
                throw .missing(option: "--vhid (-v)", what: "the virtual host id, 1 to 255, the same on every host")
            }
            guard let password, !password.isEmpty else {
                throw .missing(option: "--pass (-p) or --passfile (-o)", what: "the shared password")
            }
            guard password.count <= CARPWire.maximumPasswordLength else {
                throw .passwordTooLong(length: password.count)
            }
            guard let virtualAddress else {
                throw .missing(option: "--addr (-a)", what: "the virtual address to share")
            }
            guard flags.advbase != 0 || flags.advskew != 0 else { throw .bothZero }
            if flags.peers.contains(sourceAddress) { throw .peerIsSelf(value: sourceAddress.description) }
            var settings = flags
            settings.interface = interface
            settings.sourceAddress = sourceAddress
            settings.group = group
            settings.vhid = vhid
            settings.password = password
            settings.virtualAddress = virtualAddress.0
            settings.virtualAddressArgument = virtualAddress.1
            settings.warnings = warnings
            return settings
        }

        private func nonEmpty(_ value: String, option: String) throws(SettingsError) -> String {
            guard !value.isEmpty else { throw .emptyValue(option: option) }
            return value
        }

        private func address(_ value: String, option: String) throws(SettingsError) -> IPv4Address {
            guard let address = IPv4Address(value) else { throw .invalidAddress(option: option, value: value) }
            guard !address.isUnspecified else { throw .unspecifiedAddress(option: option) }
            return address
        }
    }

    /// Seconds, more than 0 and at most an hour.
    static func positiveDuration(_ value: String, option: String) throws(SettingsError) -> MonotonicDuration {
        let duration = try duration(value, option: option, maximum: 3600)
        guard duration.nanoseconds >= 1_000_000 else {
            throw .notASeconds(option: option, value: value, maximum: 3600)
        }
        return duration
    }

    /// Seconds with an optional fraction (`2`, `0.25`), from 0 to `maximum`.
    static func duration(_ value: String, option: String, maximum: UInt32) throws(SettingsError) -> MonotonicDuration {
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts.first ?? ""
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty, whole.allSatisfy(\.isASCIIDigit),
            fraction.allSatisfy(\.isASCIIDigit),
            fraction.count <= 9, parts.count == 1 || !fraction.isEmpty
        else { throw .notASeconds(option: option, value: value, maximum: maximum) }
        guard whole.count <= 6, let seconds = UInt64(whole.isEmpty ? "0" : whole) else {
            throw .notASeconds(option: option, value: value, maximum: maximum)
        }
        let nanoseconds = UInt64(String(fraction) + String(repeating: "0", count: 9 - fraction.count)) ?? 0
        let total = seconds * 1_000_000_000 + nanoseconds
        guard total <= UInt64(maximum) * 1_000_000_000 else {
            throw .notASeconds(option: option, value: value, maximum: maximum)
        }
        return .nanoseconds(total)
    }

    /// A number as `strtoul(value, NULL, 0)` reads it (decimal, `0x` hex, leading-zero octal),
    /// but whole: no sign, no trailing text, and within `range` instead of silently truncated.
    /// Digits are ASCII bytes, as for `strtoul`: a full-width `１２` is not 12.
    static func number(_ value: String, option: String, range: ClosedRange<UInt32>) throws(SettingsError) -> UInt32 {
        var digits = Substring(value).utf8[...]
        var radix: UInt32 = 10
        if digits.starts(with: "0x".utf8) || digits.starts(with: "0X".utf8) {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.first == UInt8(ascii: "0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { throw .notANumber(option: option, value: value, range: range) }
        var result: UInt64 = 0
        for byte in digits {
            guard let digit = asciiDigitValue(byte), digit < radix else {
                throw .notANumber(option: option, value: value, range: range)
            }
            result = result * UInt64(radix) + UInt64(digit)
            if result > UInt64(range.upperBound) { throw .outOfRange(option: option, value: value, range: range) }
        }
        guard result >= UInt64(range.lowerBound) else { throw .outOfRange(option: option, value: value, range: range) }
        return UInt32(result)
    }

    /// The value of an ASCII hex digit byte, nil for any other byte.
    static func asciiDigitValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isWholeNumber }
}

extension String {
    /// Lowercased in ASCII only, as `strcasecmp` compares: `"\u{212A}"` (KELVIN SIGN) stays.
    func asciiLowercased() -> String {
        String(
            decoding: utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
