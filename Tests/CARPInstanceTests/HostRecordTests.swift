import Testing

@testable import CARPInstance

@Suite struct HostRecordTests {
    static let record = HostRecord(
        pid: 4242, vhid: 7, interface: "eth1", addresses: ["192.0.2.100", "2001:db8::100"], state: .master,
        since: 1_700_000_000, reason: "preempting", group: "router", causes: [.carrierLost, .maintenance],
        counter: 480, peer: "192.0.2.12", etcdKey: "/ucarp/eth1\nweird\\key")

    @Test func aRecordReadsBackAsWritten() {
        #expect(HostRecord(parsing: Self.record.text) == Self.record)
        var bare = Self.record
        (bare.group, bare.peer, bare.etcdKey, bare.causes, bare.counter) = (nil, nil, nil, [], 0)
        #expect(HostRecord(parsing: bare.text) == bare)
    }

    @Test func aNewlineInAValueCannotForgeAField() {
        let text = Self.record.text
        #expect(!text.contains("\nweird"))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("PID=") } == ["PID=4242"])
    }

    @Test(arguments: [
        "", "PID=1\n", "PID=x\nVHID=1\nINTERFACE=eth0\nSTATE=MASTER\nSINCE=0\n",
        "PID=1\nVHID=1\nINTERFACE=eth0\nSTATE=LEADER\nSINCE=0\n",
        "PID=1\nVHID=1\nINTERFACE=eth0\nSTATE=MASTER\nSINCE=0\nDEMOTION=sulking\n",
        "PID=0\nVHID=1\nINTERFACE=eth0\nSTATE=MASTER\nSINCE=0\n",
    ])
    func aMalformedRecordIsRefused(text: String) {
        #expect(HostRecord(parsing: text) == nil)
    }

    @Test func theDemotionItPublishesIs240PerCause() {
        #expect(Self.record.demotion == 480)
    }
}

@Suite struct HostStatusTests {
    @Test func jsonEscapesQuotesBackslashesAndControlCharacters() {
        #expect(HostStatus.quoted("a\"b\\c\nd\te\u{1}f\u{7F}é") == #""a\"b\\c\nd\te\u0001f\u007fé""#)
    }

    @Test func theJSONDocumentNamesEveryInstanceAndItsState() {
        var dead = HostRecordTests.record
        (dead.vhid, dead.interface, dead.group) = (8, "eth2", nil)
        let status = HostStatus(
            entries: [.init(record: dead, alive: false), .init(record: HostRecordTests.record, alive: true)],
            hostMaintenance: false, groupsInMaintenance: ["router"])
        let json = status.json
        #expect(json.hasPrefix(#"{"maintenance":{"host":false,"groups":["router"]},"instances":[{"vhid":7,"#))
        #expect(json.contains(#""state":"MASTER","alive":true"#))
        #expect(json.contains(#""state":"DEAD","alive":false"#))
        #expect(json.contains(#""etcd_key":"/ucarp/eth1\nweird\\key""#))
        #expect(json.contains(#""demotion":["carrier-lost","maintenance"],"counter":480,"maintenance":true"#))
        #expect(json.contains(#""group":null"#))
        #expect(json.contains(#""since_utc":"2023-11-14T22:13:20Z""#))
    }

    @Test func theTableHasAHeaderAndALinePerInstance() {
        let status = HostStatus(
            entries: [.init(record: HostRecordTests.record, alive: true)], hostMaintenance: true,
            groupsInMaintenance: [])
        let lines = status.table.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == "maintenance: on")
        #expect(lines[1].hasPrefix("VHID  INTERFACE  STATE"))
        #expect(lines[2].hasPrefix("7     eth1       MASTER  2023-11-14T22:13:20Z  preempting  router"))
        // A newline in a value stays in its cell.
        #expect(lines[2].hasSuffix("/ucarp/eth1?weird\\key"))
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"), (951_782_400, "2000-02-29T00:00:00Z"),
        (4_107_542_399, "2100-02-28T23:59:59Z"), (-1, "1969-12-31T23:59:59Z"),
        (1_798_675_200, "2026-12-31T00:00:00Z"),
    ])
    func timestampsAreUTC(seconds: Int64, text: String) {
        #expect(HostStatus.timestamp(seconds) == text)
    }
}
