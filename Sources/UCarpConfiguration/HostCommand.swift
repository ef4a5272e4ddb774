/// `ucarp --status` and `ucarp --maintenance`: commands about the instances of the host, which
/// read or write the `--host-state` directory instead of running an instance.
public enum HostCommand: Equatable, Sendable {
    /// List every instance's record, as a table or as JSON; `group` keeps its members only.
    case status(hostState: String, group: String?, json: Bool)
    /// Turn maintenance on or off (nil: print whether it is on), for the host or for `group`.
    case maintenance(hostState: String, group: String?, on: Bool?)

    /// The command `parsed` asks for, if it names `--status` or `--maintenance`.
    ///
    /// With `--config=FILE`, the files' `HOST_STATE=` and `GROUP=` (`vip-common.conf` and
    /// FILE, in `OPTIONS=` too) are read as the instance reads them, so that the command
    /// looks where the instance writes; `--host-state` and `--group` given beside win.
    static func parse(
        _ parsed: UCarpOption.Parsed, environment: UCarpCommandLine.Environment
    ) throws(SettingsError) -> HostCommand? {
        let ids = parsed.options.map(\.id)
        guard let command = ids.first(where: { $0 == .status || $0 == .maintenance }) else { return nil }
        var hostState = Settings.defaultHostState
        var group: String?
        var json = false
        var on: Bool?
        if let path = parsed.options.last(where: { $0.id == .config })?.argument {
            let files = try ConfigurationOptions.load(
                path: UCarpCommandLine.absolute(path, in: environment), readIfPresent: environment.readIfPresent)
            for option in files.options {
                do {
                    switch option.id {
                    case .hostState: hostState = try OptionValue.nonEmpty(option.value, option: option.id.longOption)
                    case .group: group = try SettingsBuilder.groupName(option.value)
                    default: continue
                    }
                } catch {
                    throw .inConfiguration(origin: option.origin, error)
                }
            }
        }
        for (id, argument) in parsed.options {
            switch id {
            case .config: break
            case .hostState: hostState = try OptionValue.nonEmpty(argument ?? "", option: id.longOption)
            case .group: group = try SettingsBuilder.groupName(argument ?? "")
            case .json where command == .status: json = true
            case .status where command == .status: break
            case .maintenance where command == .maintenance:
                switch argument {
                case nil: on = nil
                case "on": on = true
                case "off": on = false
                case let value?: throw .invalidMaintenance(value)
                }
            default:
                throw .hostCommand(option: command.longOption, stray: id.longOption)
            }
        }
        var directory = hostState
        if !hostState.hasPrefix("/"), let current = environment.currentDirectory {
            directory = current.hasSuffix("/") ? current + hostState : current + "/" + hostState
        }
        return command == .status
            ? .status(hostState: directory, group: group, json: json)
            : .maintenance(hostState: directory, group: group, on: on)
    }
}
