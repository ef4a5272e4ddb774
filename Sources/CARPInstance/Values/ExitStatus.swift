/// How the process ends: ucarp's 0, and the statuses SwiftCARP documents beyond it.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// Bad command line or configuration.
    case invalidSettings = 1
    /// Something needed at start-up could not be opened.
    case startupFailed = 2
    /// The interface disappeared or the capture failed while running.
    case runtimeFailure = 3
    /// With `--daemonize`: the instance kept dying (5 times in a minute) and was given up on.
    case gaveUp = 4
}
