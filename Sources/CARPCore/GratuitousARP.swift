/// The gratuitous ARP a new master sends for the virtual address, as ucarp's `garp.c` builds
/// it: an ARP *request* (the most widely honoured form) whose sender and target are both the
/// virtual address and the interface's real MAC, broadcast from that MAC.
public enum GratuitousARP {
    public static func frame(interfaceMAC: [UInt8], virtualAddress: IPv4Address) -> [UInt8] {
        precondition(interfaceMAC.count == 6, "an Ethernet address has 6 bytes")
        var frame = CARPWire.broadcastMAC + interfaceMAC
        frame += [UInt8(CARPWire.etherTypeARP >> 8), UInt8(CARPWire.etherTypeARP & 0xFF)]
        frame += [0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01]  // Ethernet, IPv4, request
        frame += interfaceMAC + virtualAddress.octets
        frame += interfaceMAC + virtualAddress.octets
        return frame
    }
}
