import SystemPackage

/// What the interface's flags say (ucarp's `IFF_RUNNING` check), as the daemon reads them.
package enum LinkState: Equatable, Sendable {
    /// Up with carrier.
    case running
    case noCarrier
    /// The interface is gone (renamed or removed), or its name is now another interface's.
    case missing(Errno)
}
