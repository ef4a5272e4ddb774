/// One of ucarp's options or of ours, and the table that spells them on a command line.
enum UCarpOption: String, Hashable, Sendable {
    case interface, srcip, mcast, vhid, pass, preempt, neutral, addr, help, advbase, advskew
    case upscript, downscript, deadratio, debug, shutdown, facility, daemonize, ignoreifstate
    case nomcast, passfile, xparam, version
    case pidfile, statefile, scriptTimeout, config, peer
    case check, checkInterval, checkFall, checkRise, checkTimeout
    case notify, name, garpRepeat, garpInterval, garpRefresh
    // Make-before-break hand-over.
    case handoverWait
    case preemptDelay
    // The address never outlives its daemon.
    case cleanup, watchdog, noSentinel
    case metricsFile
    // The etcd lease guard.
    case etcd, etcdPrefix, etcdLock, etcdTTL, etcdUnreachable, etcdCACert, etcdCert, etcdKey, etcdUser
    case etcdPassfile
    // Strict authentication, for when every peer is SwiftCARP.
    case auth, authState
    // The host: groups, maintenance, --status.
    case hostState, group, status, json, maintenance
    // Reload in place (ReloadTarget).
    case reload, all

    typealias Spelling = CommandLineParser<UCarpOption>.Option
    typealias Parsed = CommandLineParser<UCarpOption>.Parsed

    /// ucarp's `long_options` in its order, with its short letters (`-m` added: ucarp's help
    /// names it but its short option string forgot it).
    static let ucarpOptions: [Spelling] = [
        Spelling("interface", short: "i", takesArgument: true, id: .interface),
        Spelling("srcip", short: "s", takesArgument: true, id: .srcip),
        Spelling("mcastip", short: "m", takesArgument: true, id: .mcast),
        Spelling("vhid", short: "v", takesArgument: true, id: .vhid),
        Spelling("pass", short: "p", takesArgument: true, id: .pass),
        Spelling("preempt", short: "P", takesArgument: false, id: .preempt),
        Spelling("neutral", short: "n", takesArgument: false, id: .neutral),
        Spelling("addr", short: "a", takesArgument: true, id: .addr),
        Spelling("help", short: "h", takesArgument: false, id: .help),
        Spelling("advbase", short: "b", takesArgument: true, id: .advbase),
        Spelling("advskew", short: "k", takesArgument: true, id: .advskew),
        Spelling("upscript", short: "u", takesArgument: true, id: .upscript),
        Spelling("downscript", short: "d", takesArgument: true, id: .downscript),
        Spelling("deadratio", short: "r", takesArgument: true, id: .deadratio),
        Spelling("debug", short: "D", takesArgument: false, id: .debug),
        Spelling("shutdown", short: "z", takesArgument: false, id: .shutdown),
        Spelling("facility", short: "f", takesArgument: true, id: .facility),
        Spelling("daemonize", short: "B", takesArgument: false, id: .daemonize),
        Spelling("ignoreifstate", short: "S", takesArgument: false, id: .ignoreifstate),
        Spelling("nomcast", short: "M", takesArgument: false, id: .nomcast),
        Spelling("passfile", short: "o", takesArgument: true, id: .passfile),
        Spelling("xparam", short: "x", takesArgument: true, id: .xparam),
    ]

    /// Options ucarp does not have. They resolve only where ucarp's own do not.
    static let extensionOptions: [Spelling] = [
        Spelling("mcast", takesArgument: true, id: .mcast),
        Spelling("version", short: "V", takesArgument: false, id: .version),
        Spelling("pidfile", takesArgument: true, id: .pidfile),
        Spelling("statefile", takesArgument: true, id: .statefile),
        Spelling("script-timeout", takesArgument: true, id: .scriptTimeout),
        Spelling("config", takesArgument: true, id: .config),
        Spelling("peer", takesArgument: true, id: .peer),
        Spelling("check", takesArgument: true, id: .check),
        Spelling("check-interval", takesArgument: true, id: .checkInterval),
        Spelling("check-fall", takesArgument: true, id: .checkFall),
        Spelling("check-rise", takesArgument: true, id: .checkRise),
        Spelling("check-timeout", takesArgument: true, id: .checkTimeout),
        Spelling("notify", takesArgument: true, id: .notify),
        Spelling("name", takesArgument: true, id: .name),
        Spelling("garp-repeat", takesArgument: true, id: .garpRepeat),
        Spelling("garp-interval", takesArgument: true, id: .garpInterval),
        Spelling("garp-refresh", takesArgument: true, id: .garpRefresh),
        Spelling("handover-wait", takesArgument: true, id: .handoverWait),
        Spelling("preempt-delay", takesArgument: true, id: .preemptDelay),
        // The address never outlives its daemon.
        Spelling("cleanup", takesArgument: false, id: .cleanup),
        Spelling("watchdog", takesArgument: false, id: .watchdog),
        Spelling("no-sentinel", takesArgument: false, id: .noSentinel),
        Spelling("metrics-file", takesArgument: true, id: .metricsFile),
        // The etcd lease guard.
        Spelling("etcd", takesArgument: true, id: .etcd),
        Spelling("etcd-prefix", takesArgument: true, id: .etcdPrefix),
        Spelling("etcd-lock", takesArgument: true, id: .etcdLock),
        Spelling("etcd-ttl", takesArgument: true, id: .etcdTTL),
        Spelling("etcd-unreachable", takesArgument: true, id: .etcdUnreachable),
        Spelling("etcd-cacert", takesArgument: true, id: .etcdCACert),
        Spelling("etcd-cert", takesArgument: true, id: .etcdCert),
        Spelling("etcd-key", takesArgument: true, id: .etcdKey),
        Spelling("etcd-user", takesArgument: true, id: .etcdUser),
        Spelling("etcd-passfile", takesArgument: true, id: .etcdPassfile),
        // Strict authentication.
        Spelling("auth", takesArgument: true, id: .auth),
        Spelling("auth-state", takesArgument: true, id: .authState),
        // The host: groups, maintenance, --status.
        Spelling("host-state", takesArgument: true, id: .hostState),
        Spelling("group", takesArgument: true, id: .group),
        Spelling("status", takesArgument: false, id: .status),
        Spelling("json", takesArgument: false, id: .json),
        Spelling("maintenance", takesArgument: true, argumentIsOptional: true, id: .maintenance),
        // Reload in place: these two only with each other or the identifying options.
        Spelling("reload", takesArgument: false, id: .reload),
        Spelling("all", takesArgument: false, id: .all),
    ]

    static let parser = CommandLineParser(tiers: [ucarpOptions, extensionOptions])

    /// The option as messages spell it, from the tables above: `--etcd-ttl`; where ucarp's
    /// long name differs from ours, ours (`--mcast`, not `--mcastip`).
    var longOption: String {
        let spelling = Self.extensionOptions.first { $0.id == self } ?? Self.ucarpOptions.first { $0.id == self }
        return "--" + (spelling?.name ?? rawValue)
    }

    /// ``longOption`` followed by the short letter, if the option has one: `--srcip (-s)`.
    var longAndShortOption: String {
        let spellings = Self.ucarpOptions + Self.extensionOptions
        guard let short = spellings.first(where: { $0.id == self && $0.short != nil })?.short else { return longOption }
        return "\(longOption) (-\(short))"
    }

    /// The options of `words` (a command line or an `OPTIONS` value), in getopt's words if not.
    static func parse(_ words: [String]) throws(SettingsError) -> Parsed {
        do {
            return try parser.parse(words)
        } catch {
            throw .syntax(error.description)
        }
    }
}
