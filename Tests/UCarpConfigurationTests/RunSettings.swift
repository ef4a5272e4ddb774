@testable import UCarpConfiguration

/// The settings of `ucarp ARGUMENTS` (a run, not --help or --version), with `files` standing in
/// for the file system (path to contents).
func runSettings(_ arguments: [String], files: [String: String] = [:]) throws -> Settings {
    let environment = UCarpCommandLine.Environment(
        read: { _ throws(SettingsError) in [] },
        readIfPresent: { path throws(SettingsError) in files[path].map { Array($0.utf8) } })
    guard case .run(let settings, _) = try UCarpCommandLine.parse(arguments, environment: environment)
    else { throw SettingsError.syntax("not a run command") }
    return settings
}
