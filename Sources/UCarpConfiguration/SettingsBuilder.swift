import CARPCore

/// The options seen so far, each checked as it comes (a later one overrides an earlier one, as
/// in ucarp); ``settings()`` then checks what needs them all. nil is "not given": the default is
/// ``Settings``'s own.
struct SettingsBuilder {
    var interface: String?
    var sourceAddress: IPAddress?
    var group: IPAddress?
    var vhid: UInt8?
    var password: [UInt8]?
    var passfile: String?
    /// Every `--addr` so far, in order, with its text as given.
    var virtualAddresses: [(address: IPAddress, argument: String)] = []
    /// Set by ``beginCommandLine()`` when the files gave addresses: the command line's first
    /// `--addr` replaces them, as its other options replace the files' values.
    var virtualAddressesReplaceable = false
    var advbase: UInt8?
    var advskew: UInt8?
    var deadRatio: UInt32?
    var upscript: String?
    var downscript: String?
    /// `.some(nil)` is `--facility=none`.
    var facility: SyslogFacility??
    var xparam: String?
    var preempt = false
    var hostState: String?
    var hostGroup: String?
    var neutral = false
    var debug = false
    var shutdown = false
    var daemonize = false
    var watchdog = false
    var noSentinel = false
    var ignoreInterfaceState = false
    var noMulticast = false
    var peers: [IPAddress] = []
    var check: String?
    var checkInterval: MonotonicDuration?
    var checkTimeout: MonotonicDuration?
    var checkFall: Int?
    var checkRise: Int?
    var pidFile: String?
    var stateFile: String?
    /// 0 is "never".
    var scriptTimeout: MonotonicDuration?
    var notify: [String]?
    var name: String?
    var garpRepeat: Int?
    var garpInterval: MonotonicDuration?
    /// 0 is "never".
    var garpRefresh: MonotonicDuration?
    var handOverWait: MonotonicDuration?
    var preemptDelay: MonotonicDuration?
    var metricsFile: String?
    var authentication: AuthenticationMode?
    var authState: String?
    /// `--etcd`'s endpoints, and the guard's other options (`prefix`, `ttl`, ... as given).
    var etcdEndpoints: [String] = []
    var etcd = EtcdSettings(endpoints: [])
    /// The first `--etcd-*` option given, which needs `--etcd`.
    var firstEtcdOption: String?

    /// Takes one option. `--passfile` is read here, so that an unreadable one is refused even if
    /// a later `--pass` replaces it, as in ucarp.
    ///
    /// - Parameter bytes: the value's bytes as given, when they may not be UTF-8 (`value` then
    ///   being them read as UTF-8): a password keeps them, as ucarp keeps argv's.
    mutating func apply(
        _ id: UCarpOption, _ value: String, bytes: [UInt8]? = nil,
        readPassfile: (String) throws(SettingsError) -> [UInt8]
    ) throws(SettingsError) {
        let option = id.longOption
        switch id {
        case .interface: interface = try OptionValue.nonEmpty(value, option: option)
        case .srcip:
            let address = try OptionValue.ipAddress(value, option: option)
            // ucarp takes any IPv4 --srcip; an IPv6 one must be an address of the interface.
            if let ipv6 = address.ipv6, ipv6.isMulticast { throw .sourceNotUnicast(value: value) }
            sourceAddress = address
        case .mcast:
            let address = try OptionValue.ipAddress(value, option: option)
            guard address.isMulticast else {
                throw address.ipv6 == nil ? .notMulticast(value: value) : .notIPv6Multicast(value: value)
            }
            group = address
        case .vhid: vhid = UInt8(try OptionValue.number(value, option: option, range: Settings.vhidRange))
        case .pass:
            password = bytes ?? Array(value.utf8)
            passfile = nil
        case .passfile:
            passfile = value
            let contents = try readPassfile(value)
            // ucarp keeps the first line up to its newline, and C strings end at a NUL.
            let firstLine = contents.prefix { $0 != 0x0A && $0 != 0 }
            guard !firstLine.isEmpty else { throw .passfileEmpty(path: value) }
            password = Array(firstLine)
        case .preempt: preempt = true
        case .neutral: neutral = true
        case .addr: try addVirtualAddress(value)
        case .advbase:
            advbase = UInt8(try OptionValue.number(value, option: option, range: Settings.advbaseRange))
        case .advskew:
            advskew = UInt8(try OptionValue.number(value, option: option, range: Settings.advskewRange))
        case .upscript: upscript = try OptionValue.nonEmpty(value, option: option)
        case .downscript: downscript = try OptionValue.nonEmpty(value, option: option)
        case .deadratio:
            deadRatio = try OptionValue.number(value, option: option, range: Settings.deadRatioRange)
        case .debug: debug = true
        case .shutdown: shutdown = true
        case .facility:
            if value.asciiLowercased() == "none" {
                facility = .some(nil)
            } else {
                guard let named = SyslogFacility(named: value) else { throw .unknownFacility(value) }
                facility = named
            }
        case .daemonize: daemonize = true
        case .watchdog: watchdog = true
        case .noSentinel: noSentinel = true
        case .ignoreifstate: ignoreInterfaceState = true
        case .nomcast: noMulticast = true
        case .xparam: xparam = value
        case .check: check = try OptionValue.nonEmpty(value, option: option)
        case .checkInterval: checkInterval = try OptionValue.positiveDuration(value, option: option)
        case .checkTimeout: checkTimeout = try OptionValue.positiveDuration(value, option: option)
        case .checkFall:
            checkFall = Int(try OptionValue.number(value, option: option, range: Settings.checkCountRange))
        case .checkRise:
            checkRise = Int(try OptionValue.number(value, option: option, range: Settings.checkCountRange))
        case .peer:
            let peer = try OptionValue.ipAddress(value, option: option)
            guard !peer.isMulticast else { throw .peerNotUnicast(value: value) }
            if !peers.contains(peer) { peers.append(peer) }
        case .pidfile: pidFile = try OptionValue.nonEmpty(value, option: option)
        case .statefile: stateFile = try OptionValue.nonEmpty(value, option: option)
        case .scriptTimeout:
            scriptTimeout = try OptionValue.duration(value, option: option, maximum: 86_400)
        case .notify:
            let words: [String]
            do {
                words = try ShellLexer.words(value)
            } catch {
                throw .syntax("\(option): \(error.message)")
            }
            guard let program = words.first, !program.isEmpty else { throw .emptyValue(option: option) }
            notify = words
        case .name: name = try OptionValue.nonEmpty(value, option: option)
        case .garpRepeat:
            garpRepeat = Int(try OptionValue.number(value, option: option, range: Settings.garpRepeatRange))
        case .garpInterval: garpInterval = try OptionValue.duration(value, option: option, maximum: 3600)
        case .garpRefresh:
            let refresh = try OptionValue.duration(value, option: option, maximum: 3600)
            // A refresh is one broadcast per period for as long as we are master: not a flood.
            guard refresh.nanoseconds == 0 || refresh >= Settings.garpRefreshMinimum else {
                throw .tooShort(option: option, value: value, minimum: "0.1")
            }
            garpRefresh = refresh
        case .handoverWait:
            handOverWait = try OptionValue.duration(value, option: option, maximum: 60)
        case .preemptDelay:
            preemptDelay = try OptionValue.duration(value, option: option, maximum: 3600)
        case .metricsFile:
            let path = try OptionValue.nonEmpty(value, option: option)
            // node_exporter's textfile collector reads `*.prom` files and nothing else.
            let name = path.hasSuffix("/") ? "" : path.split(separator: "/").last ?? ""
            guard name.hasSuffix(".prom"), name.count > ".prom".count else { throw .metricsFileName(path) }
            metricsFile = path
        case .etcd, .etcdPrefix, .etcdLock, .etcdTTL, .etcdUnreachable, .etcdCACert, .etcdCert, .etcdKey, .etcdUser,
            .etcdPassfile:
            try applyEtcd(id, value, readPassfile: readPassfile)
        case .auth:
            guard let mode = AuthenticationMode(rawValue: value) else { throw .unknownAuthMode(value) }
            authentication = mode
        case .authState: authState = try OptionValue.nonEmpty(value, option: option)
        case .hostState: hostState = try OptionValue.nonEmpty(value, option: option)
        case .group: hostGroup = try Self.groupName(value)
        case .json: throw .jsonWithoutStatus
        case .help, .version, .config, .cleanup, .status, .maintenance, .reload, .all: break
        }
    }

    /// The command line's options come next: its `--addr` replace the files' `VIP_ADDRESS`.
    mutating func beginCommandLine() {
        virtualAddressesReplaceable = !virtualAddresses.isEmpty
    }

    /// One more virtual address, refused if no host could share it, if it is there already,
    /// or if there are enough.
    mutating func addVirtualAddress(_ value: String) throws(SettingsError) {
        let address = try OptionValue.ipAddress(value, option: UCarpOption.addr.longOption)
        if address.isMulticast {
            throw .unusableVirtualAddress(value: value, why: "it is a multicast address")
        }
        if address.isLinkLocal {
            throw .unusableVirtualAddress(
                value: value, why: "it is link-local (fe80::/10), valid on one link only; every interface has its own")
        }
        if address.ipv4?.value == UInt32.max {
            throw .unusableVirtualAddress(value: value, why: "it is the broadcast address 255.255.255.255")
        }
        if let ipv6 = address.ipv6, ipv6.isIPv4Mapped {
            throw .unusableVirtualAddress(
                value: value, why: "it is an IPv4-mapped IPv6 address (::ffff:0:0/96): give the IPv4 address itself")
        }
        if virtualAddressesReplaceable {
            virtualAddresses = []
            virtualAddressesReplaceable = false
        }
        // Taken once would hide a typo in a list; two spellings of one IPv6 address count too.
        guard !virtualAddresses.contains(where: { $0.address == address }) else {
            throw .duplicateVirtualAddress(value: value)
        }
        guard virtualAddresses.count < Settings.maximumVirtualAddresses else {
            throw .tooManyVirtualAddresses(count: virtualAddresses.count + 1)
        }
        virtualAddresses.append((address, value))
    }

    /// `--etcd` and the `--etcd-*` options, each checked as it comes.
    private mutating func applyEtcd(
        _ id: UCarpOption, _ value: String, readPassfile: (String) throws(SettingsError) -> [UInt8]
    ) throws(SettingsError) {
        let option = id.longOption
        if id != .etcd, firstEtcdOption == nil { firstEtcdOption = option }
        switch id {
        case .etcd:
            // Repeatable, and each a comma-separated list.
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let text = String(item).trimmingASCIISpaces()
                // Not echoed: the URL would hold a password, seen in ps, logs and the journal.
                if let withoutCredentials = EtcdSettings.withoutCredentials(text) {
                    throw .etcdCredentialsInURL(withoutCredentials)
                }
                guard let endpoint = EtcdSettings.endpoint(text) else { throw .etcdEndpoint(text) }
                if !etcdEndpoints.contains(endpoint) { etcdEndpoints.append(endpoint) }
            }
        case .etcdPrefix:
            let prefix = try OptionValue.nonEmpty(value, option: option)
            guard prefix.hasPrefix("/") else { throw .etcdKeyNotAbsolute(option: option, value: value) }
            etcd.prefix = prefix
        case .etcdLock:
            let lock = try OptionValue.nonEmpty(value, option: option)
            guard lock.hasPrefix("/") else { throw .etcdKeyNotAbsolute(option: option, value: value) }
            etcd.lock = lock
        case .etcdTTL: etcd.ttl = Int64(try OptionValue.number(value, option: option, range: EtcdSettings.ttlRange))
        case .etcdUnreachable:
            guard let policy = EtcdSettings.Unreachable(rawValue: value) else { throw .etcdUnreachable(value) }
            etcd.unreachable = policy
        case .etcdCACert: etcd.caFile = try OptionValue.nonEmpty(value, option: option)
        case .etcdCert: etcd.certificateFile = try OptionValue.nonEmpty(value, option: option)
        case .etcdKey: etcd.keyFile = try OptionValue.nonEmpty(value, option: option)
        case .etcdUser: etcd.user = try OptionValue.nonEmpty(value, option: option)
        case .etcdPassfile:
            let path = try OptionValue.nonEmpty(value, option: option)
            let contents: [UInt8]
            do {
                contents = try readPassfile(path)
            } catch .passfileUnreadable(_, let reason) {
                throw .etcdFileUnreadable(option: option, path: path, reason: reason)
            }
            let firstLine = contents.prefix { $0 != 0x0A && $0 != 0x0D && $0 != 0 }
            guard !firstLine.isEmpty else { throw .etcdPassfileEmpty(path: path) }
            etcd.passfile = path
            etcd.password = String(decoding: firstLine, as: UTF8.self)
        default: break
        }
    }

    /// The guard's settings once every option is in: nil without `--etcd`.
    func etcdSettings() throws(SettingsError) -> EtcdSettings? {
        guard !etcdEndpoints.isEmpty else {
            if let firstEtcdOption { throw .etcdWithoutEndpoint(option: firstEtcdOption) }
            return nil
        }
        if etcd.certificateFile != nil, etcd.keyFile == nil {
            throw .etcdNeeds(option: UCarpOption.etcdCert.longOption, other: UCarpOption.etcdKey.longOption)
        }
        if etcd.keyFile != nil, etcd.certificateFile == nil {
            throw .etcdNeeds(option: UCarpOption.etcdKey.longOption, other: UCarpOption.etcdCert.longOption)
        }
        if etcd.user != nil, etcd.passfile == nil {
            throw .etcdNeeds(option: UCarpOption.etcdUser.longOption, other: UCarpOption.etcdPassfile.longOption)
        }
        if etcd.passfile != nil, etcd.user == nil {
            throw .etcdNeeds(option: UCarpOption.etcdPassfile.longOption, other: UCarpOption.etcdUser.longOption)
        }
        var settings = etcd
        settings.endpoints = etcdEndpoints
        return settings
    }

    /// The settings, once the options that need each other agree.
    func settings() throws(SettingsError) -> Settings {
        guard let sourceAddress else {
            throw .missing(
                option: UCarpOption.srcip.longAndShortOption, what: "the real address of this host on the interface")
        }
        guard let vhid else {
            throw .missing(
                option: UCarpOption.vhid.longAndShortOption,
                what: "the virtual host id, 1 to 255, the same on every host")
        }
        guard let password, !password.isEmpty else {
            throw .missing(
                option: "\(UCarpOption.pass.longAndShortOption) or \(UCarpOption.passfile.longAndShortOption)",
                what: "the shared password")
        }
        guard password.count <= CARPWire.maximumPasswordLength else {
            throw .passwordTooLong(length: password.count)
        }
        guard !virtualAddresses.isEmpty else {
            throw .missing(option: UCarpOption.addr.longAndShortOption, what: "the virtual address to share")
        }
        var settings = Settings(
            interface: interface, sourceAddress: sourceAddress, vhid: vhid, password: password,
            virtualAddresses: virtualAddresses.map(\.address), virtualAddressArguments: virtualAddresses.map(\.argument)
        )
        // ucarp takes it, and would add the host's own address and delete it on going down.
        if let own = virtualAddresses.first(where: { $0.address == sourceAddress }) {
            throw .unusableVirtualAddress(
                value: own.argument, why: "it is this host's own --srcip: the virtual address is another, shared one")
        }
        if let advbase { settings.advbase = advbase }
        if let advskew { settings.advskew = advskew }
        guard settings.advbase != 0 || settings.advskew != 0 else { throw .bothZero }
        if peers.contains(sourceAddress) { throw .peerIsSelf(value: sourceAddress.description) }
        let sourceIsIPv6 = sourceAddress.ipv6 != nil
        if let group {
            guard (group.ipv6 != nil) == sourceIsIPv6 else {
                throw .familyMismatch(
                    option: UCarpOption.mcast.longOption, value: group.description, source: sourceAddress.description)
            }
            settings.group = group
        }
        if let peer = peers.first(where: { ($0.ipv6 != nil) != sourceIsIPv6 }) {
            throw .familyMismatch(
                option: UCarpOption.peer.longOption, value: peer.description, source: sourceAddress.description)
        }
        if let deadRatio { settings.deadRatio = deadRatio }
        if let facility { settings.facility = facility }
        if let checkInterval { settings.checkInterval = checkInterval }
        if let checkFall { settings.checkFall = checkFall }
        if let checkRise { settings.checkRise = checkRise }
        if let scriptTimeout { settings.scriptTimeout = scriptTimeout.nanoseconds == 0 ? nil : scriptTimeout }
        settings.passfile = passfile
        settings.upscript = upscript
        settings.downscript = downscript
        settings.xparam = xparam
        settings.preempt = preempt
        settings.neutral = neutral
        settings.debug = debug
        settings.shutdown = shutdown
        settings.daemonize = daemonize
        settings.watchdog = watchdog
        settings.noSentinel = noSentinel
        settings.ignoreInterfaceState = ignoreInterfaceState
        settings.noMulticast = noMulticast
        settings.peers = peers
        settings.check = check
        settings.checkTimeout = checkTimeout
        settings.pidFile = pidFile
        settings.stateFile = stateFile
        settings.notify = notify
        settings.name = name
        if let garpRepeat { settings.garpRepeat = garpRepeat }
        settings.garpInterval = garpInterval
        settings.garpRefresh = garpRefresh.flatMap { $0.nanoseconds == 0 ? nil : $0 }
        settings.handOverWait = handOverWait
        settings.preemptDelay = preemptDelay
        settings.metricsFile = metricsFile
        if let authentication { settings.authentication = authentication }
        settings.authState = authState
        if let hostState {
            settings.hostState = hostState
            settings.hostStateGiven = true
        }
        settings.hostGroup = hostGroup
        settings.etcd = try etcdSettings()
        return settings
    }

    /// A `--group` name: letters, digits, `-`, `_` and `.`, at most 64, not starting with a
    /// dot (it names a maintenance file in the host-state directory).
    static func groupName(_ value: String) throws(SettingsError) -> String {
        let allowed = value.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard allowed, !value.isEmpty, value.utf8.count <= 64, !value.hasPrefix(".") else {
            throw .invalidGroupName(value)
        }
        return value
    }
}
