/// How the process ends: ucarp's 0, and the statuses SwiftCARP documents beyond it.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// Bad command line or configuration.
    case invalidSettings = 1
    /// Something needed at start-up could not be opened.
    case startupFailed = 2
    /// Waiting for events (poll) failed while running, or a `--daemonize` worker lost its
    /// supervisor. A vanished interface is waited for, not an end (``Instance/interfaceReopened(_:at:)``).
    case runtimeFailure = 3
    /// With `--daemonize`: the instance kept dying (5 times in a minute) and was given up on.
    case gaveUp = 4
}
