import CARPCore

/// The values options take, read strictly: each function names the option in its error.
enum OptionValue {
    static func nonEmpty(_ value: String, option: String) throws(SettingsError) -> String {
        guard !value.isEmpty else { throw .emptyValue(option: option) }
        return value
    }

    /// A dotted quad, not 0.0.0.0.
    static func address(_ value: String, option: String) throws(SettingsError) -> IPv4Address {
        guard let address = IPv4Address(value) else { throw .invalidAddress(option: option, value: value) }
        guard !address.isUnspecified else { throw .unspecifiedAddress(option: option) }
        return address
    }

    /// A dotted quad or an IPv6 address (any text with a colon), not `0.0.0.0` or `::`.
    ///
    /// IPv4 text is read (and refused) exactly as ``address(_:option:)`` reads it, so that
    /// ucarp's command lines get the same messages.
    static func ipAddress(_ value: String, option: String) throws(SettingsError) -> IPAddress {
        guard value.contains(":") || value.contains("%") else { return .ipv4(try address(value, option: option)) }
        let address: IPv6Address
        do {
            address = try IPv6Address(parsing: value)
        } catch {
            throw .invalidIPv6Address(option: option, error)
        }
        guard !address.isUnspecified else { throw .unspecifiedIPv6Address(option: option) }
        return .ipv6(address)
    }

    /// Seconds, more than 0 and at most an hour.
    static func positiveDuration(_ value: String, option: String) throws(SettingsError) -> MonotonicDuration {
        let duration = try duration(value, option: option, maximum: 3600)
        guard duration.nanoseconds >= 1_000_000 else {
            throw .notASeconds(option: option, value: value, maximum: 3600)
        }
        return duration
    }

    /// Seconds with an optional fraction (`2`, `0.25`), from 0 to `maximum`.
    static func duration(_ value: String, option: String, maximum: UInt32) throws(SettingsError) -> MonotonicDuration {
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts.first ?? ""
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty, whole.allSatisfy(\.isASCIIDigit),
            fraction.allSatisfy(\.isASCIIDigit),
            fraction.count <= 9, parts.count == 1 || !fraction.isEmpty
        else { throw .notASeconds(option: option, value: value, maximum: maximum) }
        guard whole.count <= 6, let seconds = UInt64(whole.isEmpty ? "0" : whole) else {
            throw .notASeconds(option: option, value: value, maximum: maximum)
        }
        let nanoseconds = UInt64(String(fraction) + String(repeating: "0", count: 9 - fraction.count)) ?? 0
        let total = seconds * 1_000_000_000 + nanoseconds
        guard total <= UInt64(maximum) * 1_000_000_000 else {
            throw .notASeconds(option: option, value: value, maximum: maximum)
        }
        return .nanoseconds(total)
    }

    /// A number as `strtoul(value, NULL, 0)` reads it (decimal, `0x` hex, leading-zero octal),
    /// but whole: no sign, no trailing text, and within `range` instead of silently truncated.
    /// Digits are ASCII bytes, as for `strtoul`: a full-width `１２` is not 12.
    static func number(_ value: String, option: String, range: ClosedRange<UInt32>) throws(SettingsError) -> UInt32 {
        var digits = Substring(value).utf8[...]
        var radix: UInt32 = 10
        if digits.starts(with: "0x".utf8) || digits.starts(with: "0X".utf8) {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.first == UInt8(ascii: "0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { throw .notANumber(option: option, value: value, range: range) }
        var result: UInt64 = 0
        for byte in digits {
            guard let digit = asciiDigitValue(byte), digit < radix else {
                throw .notANumber(option: option, value: value, range: range)
            }
            result = result * UInt64(radix) + UInt64(digit)
            if result > UInt64(range.upperBound) { throw .outOfRange(option: option, value: value, range: range) }
        }
        guard result >= UInt64(range.lowerBound) else { throw .outOfRange(option: option, value: value, range: range) }
        return UInt32(result)
    }

    /// The value of an ASCII hex digit byte, nil for any other byte.
    static func asciiDigitValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isWholeNumber }
}

extension String {
    /// Lowercased in ASCII only, as `strcasecmp` compares: `"\u{212A}"` (KELVIN SIGN) stays.
    func asciiLowercased() -> String {
        String(
            decoding: utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
