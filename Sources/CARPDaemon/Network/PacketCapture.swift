import CARPCore
import CARPInstance
import CPcap
import Glibc
import SystemPackage

/// A libpcap handle on one interface: receives the adverts of one virtual host, sends frames.
///
/// Unlike ucarp it opens the handle in immediate mode (ucarp's 1 s buffer timeout delays
/// adverts by up to a second), filters on our vhid in the kernel (so many instances on one
/// interface do not wake each other), and reads every pending frame per wake-up.
final class PacketCapture {
    let interface: String
    private let handle: OpaquePointer
    /// The descriptor to poll for readability.
    let descriptor: FileDescriptor

    /// Enough for Ethernet + the longest IPv4 header + the CARP header.
    static let snapshotLength: CInt = 256
    /// The kernel ring; adverts are small and rare, a small ring keeps the footprint small.
    static let bufferSize: CInt = 256 * 1024

    /// The capture filter: CARP packets of our vhid not sent from our own source address
    /// (in unicast mode, also sent to it).
    static func filter(vhid: UInt8, sourceAddress: IPv4Address, unicast: Bool = false) -> String {
        (unicast ? "ip proto 112 and dst host \(sourceAddress)" : "ip proto 112")
            + " and not src host \(sourceAddress) and ip[((ip[0] & 0xf) << 2) + 1] = \(vhid)"
    }

    /// The same over IPv6: next header 112 in the fixed header (an advert has no extension
    /// headers, and our codec would ignore one), the vhid in the CARP header right after it.
    static func filter(vhid: UInt8, sourceAddress: IPv6Address, unicast: Bool = false) -> String {
        (unicast ? "ip6 and ip6[6] = 112 and dst host \(sourceAddress)" : "ip6 and ip6[6] = 112")
            + " and not src host \(sourceAddress) and ip6[\(CARPWire.ipv6HeaderLength + 1)] = \(vhid)"
    }

    /// The filter for the family of `sourceAddress`.
    static func filter(vhid: UInt8, sourceAddress: IPAddress, unicast: Bool = false) -> String {
        switch sourceAddress {
        case .ipv4(let address): filter(vhid: vhid, sourceAddress: address, unicast: unicast)
        case .ipv6(let address): filter(vhid: vhid, sourceAddress: address, unicast: unicast)
        }
    }

    init(interface: String, filter: String) throws(DaemonError) {
        self.interface = interface
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(interface, &errorBuffer) else {
            throw .pcap(action: "open the interface", interface: interface, message: String(errorBuffer: errorBuffer))
        }
        self.handle = handle
        // These fail only on a handle that is already active, which this one is not yet.
        pcap_set_snaplen(handle, Self.snapshotLength)
        pcap_set_promisc(handle, 0)
        pcap_set_immediate_mode(handle, 1)
        pcap_set_buffer_size(handle, Self.bufferSize)
        let status = pcap_activate(handle)
        guard status >= 0 else {
            if status == PCAP_ERROR_PERM_DENIED {
                // An unprivileged daemon (User= under systemd) without the capability: say which.
                pcap_close(handle)
                throw .missingCapability(capability: "CAP_NET_RAW", action: "capture", interface: interface)
            }
            let message =
                status == PCAP_ERROR ? String(cString: pcap_geterr(handle)) : String(cString: pcap_statustostr(status))
            pcap_close(handle)
            throw .pcap(action: "open the interface", interface: interface, message: message)
        }
        var program = bpf_program()
        guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            let message = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw .pcap(action: "compile the capture filter '\(filter)'", interface: interface, message: message)
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            let message = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw .pcap(action: "install the capture filter", interface: interface, message: message)
        }
        // Deliberately best effort: some devices cannot filter on direction, and the filter
        // drops our own frames by their source address anyway.
        _ = pcap_setdirection(handle, PCAP_D_IN)
        Self.ignoreOutgoing(pcap_fileno(handle))
        guard pcap_setnonblock(handle, 1, &errorBuffer) == 0 else {
            pcap_close(handle)
            throw .pcap(
                action: "make the capture non-blocking", interface: interface, message: String(errorBuffer: errorBuffer)
            )
        }
        let selectable = pcap_get_selectable_fd(handle)
        guard selectable >= 0 else {
            pcap_close(handle)
            throw .pcap(action: "get a pollable descriptor", interface: interface, message: "none")
        }
        descriptor = FileDescriptor(rawValue: selectable)
        do throws(DaemonError) {
            try System.setCloseOnExec(descriptor, subject: interface)
        } catch {
            pcap_close(handle)
            throw error
        }
    }

    deinit {
        pcap_close(handle)
    }

    /// Asks the kernel not to hand this socket the frames the host sends (Linux 4.20's
    /// `PACKET_IGNORE_OUTGOING`). libpcap's inbound direction drops them only once they are in
    /// the ring, so every frame any process of the host sends still ran this socket's filter,
    /// in the sender's time: with 40 daemons on a host, each master's advertisement ran 40
    /// filters on its own host before the 40 of the other. Nothing the daemon reads changes
    /// (it never wanted a frame its host sent); an older kernel refuses the option, and the
    /// direction and the filter keep dropping those frames as before.
    private static func ignoreOutgoing(_ socket: CInt) {
        // <linux/if_packet.h>; Glibc's Swift module does not export it.
        let packetIgnoreOutgoing: CInt = 23
        var on: CInt = 1
        _ = setsockopt(socket, SOL_PACKET, packetIgnoreOutgoing, &on, socklen_t(MemoryLayout<CInt>.size))
    }

    /// What ``dispatch(upTo:_:)`` did.
    enum Dispatched: Equatable {
        /// This many frames were handed over; 0 when none was pending.
        case frames(Int)
        case error(String)
    }

    /// Hands the pending frames to `body`, at most `limit` of them, each valid only during its
    /// call (`pcap_dispatch`). It makes no system call once the last pending frame is read,
    /// where `pcap_next_ex` called until it finds none polls the socket once more (with a
    /// zero timeout) to learn that the ring is empty: one system call per wake-up saved.
    func dispatch(upTo limit: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Dispatched {
        withoutActuallyEscaping(body) { body in
            var context = body
            let count = withUnsafeMutablePointer(to: &context) { pointer in
                pcap_dispatch(
                    handle, CInt(limit),
                    { user, header, data in
                        guard let user, let header, let data else { return }
                        let body = UnsafeMutableRawPointer(user).assumingMemoryBound(
                            to: ((UnsafeBufferPointer<UInt8>) -> Void).self)
                        body.pointee(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen)))
                    }, UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt8.self))
            }
            return count >= 0 ? .frames(Int(count)) : .error(String(cString: pcap_geterr(handle)))
        }
    }

    /// Sends one complete Ethernet frame (`pcap_inject`, libpcap's `send` on Linux).
    func send(_ frame: [UInt8]) throws(DaemonError) {
        let sent = frame.withUnsafeBytes { pcap_inject(handle, $0.baseAddress, $0.count) }
        guard sent != frame.count else { return }
        // A packet socket sends a frame whole or fails; a short count would be libpcap's oddity.
        let message = sent < 0 ? String(cString: pcap_geterr(handle)) : "sent \(sent) of \(frame.count) bytes"
        throw .injection(interface: interface, message: message)
    }

    /// The first non-loopback capture device, as ucarp's `pcap_lookupdev` fallback picks one.
    static func defaultDevice() -> String? {
        var devices: UnsafeMutablePointer<pcap_if_t>?
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard pcap_findalldevs(&devices, &errorBuffer) == 0 else { return nil }
        defer { pcap_freealldevs(devices) }
        var current = devices
        while let device = current {
            let flags = device.pointee.flags
            if flags & UInt32(PCAP_IF_LOOPBACK) == 0 && flags & UInt32(PCAP_IF_UP) != 0, let name = device.pointee.name
            {
                return String(cString: name)
            }
            current = device.pointee.next
        }
        return nil
    }
}

extension String {
    /// The NUL-terminated text libpcap left in an error buffer.
    init(errorBuffer: [CChar]) {
        self.init(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
