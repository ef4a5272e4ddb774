import CARPCore
import UCarpConfiguration

/// Whether a reload may go ahead: the configuration read again must describe the same
/// instance, and the instance must be at a point where its state can be handed over whole.
package enum ReloadCheck {
    /// Why a reload is refused; the running instance carries on unchanged.
    package enum Refusal: Equatable, CustomStringConvertible {
        /// The configuration read again does not parse: the parser's message.
        case invalidConfiguration(String)
        /// It would be another instance: what changed, from what to what.
        case differentInstance(what: String, from: String, to: String)
        /// Not handed over by this version: restart to apply it.
        case unsupported(String)
        /// Not now (a script or check runs, leaving, waiting for the interface): try again.
        case busy(String)

        package var description: String {
            switch self {
            case .invalidConfiguration(let message): "invalid configuration: \(message)"
            case .differentInstance(let what, let from, let to):
                "\(what) changed (\(from) -> \(to)): that is another instance; restart it instead"
            case .unsupported(let what): "\(what); restart the instance to apply it"
            case .busy(let why): "busy: \(why); try again"
            }
        }

        /// Whether trying again shortly may succeed.
        package var isTransient: Bool {
            if case .busy = self { true } else { false }
        }
    }

    /// The first difference between `old` and `new` that makes `new` another instance: the
    /// vhid, the interface, the set of addresses, the address family (of `--srcip`); nil when
    /// `new` may replace `old` (other etcd settings included: ``Instance/beginEtcdMove(to:hostName:at:)``
    /// moves the lease). `interfaceName` is the interface `old` runs on (the default
    /// device when `--interface` is not given).
    package static func identityChange(from old: Settings, to new: Settings, interfaceName: String) -> Refusal? {
        if old.vhid != new.vhid {
            return .differentInstance(what: "the vhid", from: "\(old.vhid)", to: "\(new.vhid)")
        }
        if let interface = new.interface, interface != interfaceName {
            return .differentInstance(what: "the interface", from: interfaceName, to: interface)
        }
        if old.sourceAddress.isIPv6 != new.sourceAddress.isIPv6 {
            return .differentInstance(
                what: "the address family", from: old.sourceAddress.familyName, to: new.sourceAddress.familyName)
        }
        if Set(old.virtualAddresses) != Set(new.virtualAddresses) {
            return .differentInstance(
                what: "the set of addresses", from: old.virtualAddressList, to: new.virtualAddressList)
        }
        return nil
    }
}

extension IPAddress {
    fileprivate var isIPv6: Bool {
        if case .ipv6 = self { true } else { false }
    }

    fileprivate var familyName: String { isIPv6 ? "IPv6" : "IPv4" }
}
