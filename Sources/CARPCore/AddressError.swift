/// Why the text of an address was refused. Every case names the text as it was given.
public enum AddressError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case invalidIPv4(String)
    case zoneIdentifier(String)
    case prefixLength(String)
    case invalidCharacter(String, Character)
    case groupTooLong(String, group: String)
    case emptyGroup(String)
    case severalDoubleColons(String)
    case wrongGroupCount(String, count: Int)
    case misplacedIPv4(String)

    public var description: String {
        switch self {
        case .empty: "Invalid address []: empty"
        case .invalidIPv4(let text):
            if text.contains(":") {
                "Invalid IPv6 address [\(text)]: its last 32 bits are not a dotted quad such as 192.0.2.1"
            } else {
                "Invalid IPv4 address [\(text)]: not a dotted quad such as 192.0.2.1"
            }
        case .zoneIdentifier(let text):
            "Invalid IPv6 address [\(text)]: zone identifiers (%...) are not accepted, the interface is given by itself"
        case .prefixLength(let text): "Invalid address [\(text)]: give the address alone, without a prefix length"
        case .invalidCharacter(let text, let character):
            "Invalid IPv6 address [\(text)]: [\(character)] is not a hex digit, ':' or '.'"
        case .groupTooLong(let text, let group):
            "Invalid IPv6 address [\(text)]: the group [\(group)] has more than 4 hex digits"
        case .emptyGroup(let text): "Invalid IPv6 address [\(text)]: a lone ':' at an end or ':::' leaves a group empty"
        case .severalDoubleColons(let text): "Invalid IPv6 address [\(text)]: '::' may appear only once"
        case .wrongGroupCount(let text, let count):
            "Invalid IPv6 address [\(text)]: \(count) groups of 16 bits, an IPv6 address has 8 (at most 7 beside '::')"
        case .misplacedIPv4(let text): "Invalid IPv6 address [\(text)]: a dotted quad may only end the address"
        }
    }
}
