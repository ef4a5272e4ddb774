/// What `--auth=strict` keeps in its `--auth-state` file across restarts: our counter's epoch
/// (``StrictCounter``), and the highest counter accepted from each peer (``StrictReplayWindow``),
/// so that a restarted receiver does not take old advertisements for new ones.
///
/// The text, one item a line: `EPOCH=` and our epoch in decimal, then `PEER=`, a source address,
/// a blank and the highest counter accepted from it in decimal.
public struct StrictState: Equatable, Sendable {
    public struct Peer: Equatable, Sendable {
        public var source: IPAddress
        public var counter: UInt64

        public init(source: IPAddress, counter: UInt64) {
            self.source = source
            self.counter = counter
        }
    }

    public var epoch: UInt32
    public var peers: [Peer]

    public init(epoch: UInt32, peers: [Peer] = []) {
        self.epoch = epoch
        self.peers = peers
    }

    /// The file's text.
    public var text: [UInt8] {
        Array(
            (["EPOCH=\(epoch)"] + peers.map { "PEER=\($0.source) \($0.counter)" }).map { $0 + "\n" }.joined().utf8)
    }

    /// The state a file's text holds; nil when it is not one ``text`` writes (no epoch, or a
    /// line of another kind).
    public init?(text bytes: [UInt8]) {
        var epoch: UInt32?
        var peers: [Peer] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("EPOCH=") {
                guard epoch == nil,
                    let value = Self.decimal(line.dropFirst("EPOCH=".count)).flatMap(UInt32.init(exactly:))
                else { return nil }
                epoch = value
            } else if line.hasPrefix("PEER=") {
                let fields = line.dropFirst("PEER=".count).split(separator: " ")
                guard fields.count == 2, let source = try? IPAddress(parsing: fields[0]),
                    let counter = Self.decimal(fields[1])
                else { return nil }
                peers.append(Peer(source: source, counter: counter))
            } else {
                return nil
            }
        }
        guard let epoch else { return nil }
        self.init(epoch: epoch, peers: peers)
    }

    private static func decimal(_ digits: Substring) -> UInt64? {
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }
}
