import SystemPackage

/// Turns `vip-common.conf` and a `vip-NNN.conf` into the options they stand for, as the Red Hat
/// `ucarp` wrapper would pass them: `ID` is `--vhid`, `VIP_ADDRESS` is `--addr`, and so on;
/// `OPTIONS` is split into words like a shell would and read with the command line's table.
enum ConfigurationOptions {
    struct Option {
        var id: UCarpOption
        var value: String
        /// `path:line` of the assignment it came from.
        var origin: String
        /// The value's bytes as written, for a password (which keeps them, UTF-8 or not).
        var bytes: [UInt8]? = nil
    }

    /// The variables and the options they give, in the order they are applied.
    static let variables: [(name: String, option: UCarpOption?)] = [
        ("ID", .vhid), ("BIND_INTERFACE", .interface), ("SOURCE_ADDRESS", .srcip), ("VIP_ADDRESS", .addr),
        ("PASSWORD", .pass), ("PASSFILE", .passfile), ("UPSCRIPT", .upscript), ("DOWNSCRIPT", .downscript),
        ("PEERS", .peer), ("CHECK", .check), ("CHECK_INTERVAL", .checkInterval), ("CHECK_FALL", .checkFall),
        ("CHECK_RISE", .checkRise), ("CHECK_TIMEOUT", .checkTimeout),
        ("NOTIFY", .notify), ("NAME", .name),
        ("GARP_REPEAT", .garpRepeat), ("GARP_INTERVAL", .garpInterval), ("GARP_REFRESH", .garpRefresh),
        ("HANDOVER_WAIT", .handoverWait), ("PREEMPT_DELAY", .preemptDelay),
        ("METRICS_FILE", .metricsFile),
        ("ETCD_ENDPOINTS", .etcd), ("ETCD_PREFIX", .etcdPrefix), ("ETCD_LOCK", .etcdLock), ("ETCD_TTL", .etcdTTL),
        ("ETCD_UNREACHABLE", .etcdUnreachable), ("ETCD_CACERT", .etcdCACert), ("ETCD_CERT", .etcdCert),
        ("ETCD_KEY", .etcdKey), ("ETCD_USER", .etcdUser), ("ETCD_PASSFILE", .etcdPassfile), ("OPTIONS", nil),
    ]

    static let commonFileName = "vip-common.conf"

    /// The options the files beside and at `path` give, with the warnings they deserve.
    ///
    /// - Parameter path: absolute, so that the default scripts found beside it still run after
    ///   `--daemonize`.
    static func load(
        path: String, readIfPresent: (String) throws(SettingsError) -> [UInt8]?
    ) throws(SettingsError) -> (options: [Option], warnings: [StartupWarning], secretHolders: [String]) {
        let file = FilePath(path)
        var directory = file.removingLastComponent()
        if directory.isEmpty { directory = "." }
        let fileName = file.lastComponent?.string ?? path
        var parsedFiles: [ConfigurationFile] = []
        let commonPath = directory.appending(commonFileName).string
        if fileName != commonFileName, let bytes = try readIfPresent(commonPath) {
            parsedFiles.append(try parse(bytes, path: commonPath))
        }
        guard let bytes = try readIfPresent(path) else {
            throw .configurationUnreadable(path: path, reason: "No such file or directory")
        }
        parsedFiles.append(try parse(bytes, path: path))

        // Later assignments win, the instance's file over the common one: a shell sourcing both.
        var merged: [String: (value: String, origin: String, bytes: [UInt8])] = [:]
        var warnings: [StartupWarning] = []
        for file in parsedFiles {
            for assignment in file.assignments {
                let origin = "\(file.path):\(assignment.line)"
                if !variables.contains(where: { $0.name == assignment.name }) {
                    warnings.append(.unknownVariable(name: assignment.name, origin: origin))
                }
                merged[assignment.name] = (assignment.value, origin, assignment.valueBytes)
            }
        }

        if merged["ID"].map({ $0.value.isEmpty }) ?? true, let vhid = vhidFromFileName(fileName) {
            merged["ID"] = (vhid, "\(path)", Array(vhid.utf8))
        }
        if let id = merged["ID"], let warning = octalWarning(id.value, origin: id.origin) {
            warnings.append(warning)
        }
        // Installed beside the files, used when the files name no script.
        for (name, script) in [("UPSCRIPT", "vip-up"), ("DOWNSCRIPT", "vip-down")]
        where merged[name].map({ $0.value.isEmpty }) ?? true {
            let candidate = directory.appending(script).string
            if (try? readIfPresent(candidate)) ?? nil != nil {
                merged[name] = (candidate, "\(path) (default \(name))", Array(candidate.utf8))
            }
        }
        // Of PASSWORD and PASSFILE, the file wins: it keeps the secret out of the configuration.
        // The files that hold a password, whichever one wins: only their owner should read them.
        let secretHolders = parsedFiles.filter { file in
            file.assignments.contains { $0.name == "PASSWORD" && !$0.value.isEmpty }
        }.map(\.path)
        if let passfile = merged["PASSFILE"], !passfile.value.isEmpty {
            merged["PASSWORD"] = nil
        }

        var options: [Option] = []
        for (name, option) in variables {
            guard let (value, origin, bytes) = merged[name], !value.isEmpty else { continue }
            if name == "PEERS" || name == "ETCD_ENDPOINTS", let option {
                // A list: one --peer (or --etcd) per item.
                for item in value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "," }) {
                    options.append(Option(id: option, value: String(item), origin: origin))
                }
                continue
            }
            if name == "VIP_ADDRESS" {
                // Several addresses of one vhid, separated by spaces: one --addr each.
                for address in value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
                    options.append(Option(id: .addr, value: String(address), origin: origin))
                }
                continue
            }
            if let option {
                let text = name == "ID" ? decimalVHID(value) : value
                options.append(
                    Option(id: option, value: text, origin: origin, bytes: option == .pass ? bytes : nil))
                continue
            }
            // OPTIONS: more flags, as words.
            let words: [ShellLexer.Word]
            do {
                words = try ShellLexer.words(bytes: bytes)
            } catch {
                throw .inConfiguration(origin: origin, .syntax("OPTIONS: \(error.message)"))
            }
            let parsed: UCarpOption.Parsed
            do {
                parsed = try UCarpOption.parse(words.map(\.text))
            } catch {
                throw .inConfiguration(origin: origin, error)
            }
            if let stray = parsed.operands.first {
                throw .inConfiguration(origin: origin, .strayArgument(stray))
            }
            for (index, (id, argument)) in parsed.options.enumerated() {
                if [.config, .help, .version, .cleanup, .reload, .all].contains(id) {
                    throw .inConfiguration(origin: origin, .syntax("OPTIONS cannot hold --\(id.rawValue)"))
                }
                let given =
                    id == .pass
                    ? UCarpCommandLine.valueBytes(of: index, in: parsed, arguments: words.map(\.bytes)) : nil
                options.append(Option(id: id, value: argument ?? "", origin: origin, bytes: given))
            }
        }
        return (options, warnings, secretHolders)
    }

    static func parse(_ bytes: [UInt8], path: String) throws(SettingsError) -> ConfigurationFile {
        do {
            return try ConfigurationFile.parse(bytes, path: path)
        } catch {
            throw .configuration(error)
        }
    }

    /// `vip-001.conf` → `1`: the Red Hat wrapper's convention.
    static func vhidFromFileName(_ name: String) -> String? {
        guard name.hasPrefix("vip-"), name.hasSuffix(".conf") else { return nil }
        let digits = name.dropFirst(4).dropLast(5)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let value = Int(digits) else { return nil }
        return String(value)
    }

    /// `ID="010"` is the vhid 10, as an operator who zero-pads means it (the file name does too).
    static func decimalVHID(_ value: String) -> String {
        guard value.count > 1, value.allSatisfy(\.isASCIIDigit), value.count <= 6, let number = Int(value) else {
            return value
        }
        return String(number)
    }

    /// A warning when octal (as ucarp reads a number) would read a zero-padded `ID` otherwise.
    static func octalWarning(_ value: String, origin: String) -> StartupWarning? {
        guard value.count > 1, value.hasPrefix("0"), value.allSatisfy(\.isASCIIDigit), value.count <= 6,
            let decimal = Int(value), Int(value, radix: 8) != decimal
        else { return nil }
        return .zeroPaddedID(value: value, origin: origin)
    }
}
