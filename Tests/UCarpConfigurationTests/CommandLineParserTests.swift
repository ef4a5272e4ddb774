import CARPCore
import Testing

@testable import UCarpConfiguration

/// The getopt_long rules, exercised through ucarp's own option table.
@Suite struct CommandLineParserTests {
    typealias ID = UCarpOption
    typealias ParseError = CommandLineParser<ID>.Error

    struct Given: Equatable, CustomStringConvertible {
        var id: ID
        var argument: String?
        var description: String { "\(id.rawValue)=\(argument ?? "nil")" }
    }

    func parse(_ arguments: [String]) throws -> (options: [Given], operands: [String]) {
        let parsed = try UCarpOption.parser.parse(arguments)
        return (parsed.options.map { Given(id: $0.id, argument: $0.argument) }, parsed.operands)
    }

    func options(_ arguments: [String]) throws -> [Given] {
        try parse(arguments).options
    }

    func error(_ arguments: [String]) -> ParseError? {
        do {
            _ = try UCarpOption.parser.parse(arguments)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Long options

    @Test func longOptionWithEqualsOrSeparateArgument() throws {
        #expect(try options(["--vhid=42"]) == [Given(id: .vhid, argument: "42")])
        #expect(try options(["--vhid", "42"]) == [Given(id: .vhid, argument: "42")])
        #expect(try options(["--xparam=a=b"]) == [Given(id: .xparam, argument: "a=b")])
        #expect(try options(["--vhid="]) == [Given(id: .vhid, argument: "")])
    }

    /// getopt reads bytes: a value may start with a combining mark, which `Character` would glue
    /// to the `=` or the option letter before it.
    @Test func aValueStartingWithACombiningMarkIsTheValue() throws {
        #expect(try options(["--pass=\u{301}abc"]) == [Given(id: .pass, argument: "\u{301}abc")])
        #expect(try options(["-p\u{301}abc"]) == [Given(id: .pass, argument: "\u{301}abc")])
        #expect(
            try options(["-Pp\u{301}"]) == [Given(id: .preempt, argument: nil), Given(id: .pass, argument: "\u{301}")])
        #expect(error(["-P\u{301}"]) == .invalidShort("\u{301}"))
        #expect(
            UCarpCommandLine.passwordLocations(in: ["--pass=\u{301}abc", "-p\u{301}x"]).map {
                [$0.argument, $0.offset]
            } == [[0, 7], [1, 2]])
    }

    @Test func separateArgumentIsTakenEvenWhenItLooksLikeAnOption() throws {
        #expect(try options(["--pass", "--vhid"]) == [Given(id: .pass, argument: "--vhid")])
        #expect(try options(["--vhid", "-1"]) == [Given(id: .vhid, argument: "-1")])
    }

    @Test(arguments: [
        ("--pre", ID.preempt), ("--preempt", .preempt), ("--ne", .neutral), ("--h", .help), ("--deb", .debug),
        ("--sh", .shutdown), ("--da", .daemonize), ("--ig", .ignoreifstate), ("--no", .nomcast), ("--ver", .version),
        ("--version", .version),
    ])
    func uniquePrefixOfAFlagSelectsIt(_ spelling: String, _ id: ID) throws {
        #expect(try options([spelling]) == [Given(id: id, argument: nil)])
    }

    @Test(arguments: [
        ("--mcast", ID.mcast), ("--mcas", .mcast), ("--mc", .mcast), ("--mcastip", .mcast), ("--v", .vhid),
        ("--vh", .vhid), ("--in", .interface), ("--sr", .srcip), ("--passf", .passfile), ("--pass", .pass),
        ("--add", .addr), ("--addr", .addr), ("--advb", .advbase), ("--advs", .advskew), ("--u", .upscript),
        ("--do", .downscript), ("--dea", .deadratio), ("--dead", .deadratio), ("--f", .facility), ("--x", .xparam),
    ])
    func uniquePrefixOfAnOptionWithArgumentSelectsIt(_ spelling: String, _ id: ID) throws {
        #expect(try options([spelling, "7"]) == [Given(id: id, argument: "7")])
        #expect(try options([spelling + "=7"]) == [Given(id: id, argument: "7")])
    }

    @Test func ucarpsOwnOptionWinsOverAnExtensionSharingThePrefix() throws {
        // "--v" begins both vhid (ucarp's) and version (ours): ucarp reads vhid, so must we.
        #expect(try options(["--v", "3"]) == [Given(id: .vhid, argument: "3")])
        #expect(try options(["--v=3"]) == [Given(id: .vhid, argument: "3")])
    }

    @Test func twoTiersResolveWithinTheFirstTierFirst() throws {
        enum Small: Hashable, Sendable { case alpha, alphabet, beta }
        let parser = CommandLineParser<Small>(tiers: [
            [.init("alpha", short: "a", takesArgument: false, id: .alpha)],
            [
                .init("alphabet", takesArgument: false, id: .alphabet),
                .init("beta", short: "b", takesArgument: false, id: .beta),
            ],
        ])
        #expect(try parser.parse(["--al"]).options.map(\.id) == [.alpha])
        #expect(try parser.parse(["--alphab"]).options.map(\.id) == [.alphabet])
        #expect(try parser.parse(["--b", "-ab"]).options.map(\.id) == [.beta, .alpha, .beta])
    }

    @Test func ambiguousPrefixIsAnError() {
        #expect(error(["--pa", "x"]) == .ambiguous("pa", candidates: ["pass", "passfile"]))
        #expect(error(["--p"]) == .ambiguous("p", candidates: ["pass", "preempt", "passfile"]))
        #expect(error(["--d"]) == .ambiguous("d", candidates: ["downscript", "deadratio", "debug", "daemonize"]))
        #expect(error(["--adv=1"]) == .ambiguous("adv", candidates: ["advbase", "advskew"]))
        #expect(error(["--ad", "1"]) == .ambiguous("ad", candidates: ["addr", "advbase", "advskew"]))
        #expect(error(["--n"]) == .ambiguous("n", candidates: ["neutral", "nomcast"]))
        #expect(error(["--i", "eth0"]) == .ambiguous("i", candidates: ["interface", "ignoreifstate"]))
        let message = ParseError.ambiguous("pa", candidates: ["pass", "passfile"]).description
        #expect(message == "option '--pa' is ambiguous; possibilities: '--pass' '--passfile'")
    }

    @Test func unknownLongOptionIsAnError() {
        #expect(error(["--bogus"]) == .unrecognizedLong("bogus"))
        #expect(error(["--bogus=1"]) == .unrecognizedLong("bogus"))
        #expect(error(["--vhidx", "1"]) == .unrecognizedLong("vhidx"))
        #expect(error(["-P", "--"]) == nil)
        #expect(ParseError.unrecognizedLong("bogus").description == "unrecognized option '--bogus'")
    }

    @Test func flagWithAnArgumentIsAnError() {
        #expect(error(["--preempt=1"]) == .unexpectedArgument("preempt"))
        #expect(error(["--pre=yes"]) == .unexpectedArgument("preempt"))
        #expect(ParseError.unexpectedArgument("preempt").description == "option '--preempt' doesn't allow an argument")
    }

    @Test func missingArgumentIsAnError() {
        #expect(error(["--vhid"]) == .missingArgumentLong("vhid"))
        #expect(error(["-P", "--v"]) == .missingArgumentLong("vhid"))
        #expect(error(["-v"]) == .missingArgumentShort("v"))
        #expect(error(["-Pv"]) == .missingArgumentShort("v"))
        #expect(ParseError.missingArgumentLong("vhid").description == "option '--vhid' requires an argument")
        #expect(ParseError.missingArgumentShort("v").description == "option requires an argument -- 'v'")
    }

    // MARK: Short options

    @Test func shortOptionWithAttachedOrSeparateArgument() throws {
        #expect(try options(["-v42"]) == [Given(id: .vhid, argument: "42")])
        #expect(try options(["-v", "42"]) == [Given(id: .vhid, argument: "42")])
        #expect(try options(["-p", "-v"]) == [Given(id: .pass, argument: "-v")])
        #expect(try options(["-m", "239.1.1.1"]) == [Given(id: .mcast, argument: "239.1.1.1")])
    }

    @Test func clusteredFlags() throws {
        #expect(
            try options(["-PzB"]) == [
                Given(id: .preempt, argument: nil), Given(id: .shutdown, argument: nil),
                Given(id: .daemonize, argument: nil),
            ])
        #expect(try options(["-SMDn"]).map(\.id) == [.ignoreifstate, .nomcast, .debug, .neutral])
    }

    @Test func clusterMayEndInAnOptionWithArgument() throws {
        #expect(try options(["-Pv42"]) == [Given(id: .preempt, argument: nil), Given(id: .vhid, argument: "42")])
        #expect(try options(["-Pv", "42"]) == [Given(id: .preempt, argument: nil), Given(id: .vhid, argument: "42")])
        // Everything after the letter that takes an argument is the argument.
        #expect(try options(["-vPz"]) == [Given(id: .vhid, argument: "Pz")])
    }

    @Test func unknownShortOptionIsAnError() {
        #expect(error(["-q"]) == .invalidShort("q"))
        #expect(error(["-Pq"]) == .invalidShort("q"))
        #expect(ParseError.invalidShort("q").description == "invalid option -- 'q'")
    }

    // MARK: Operands

    @Test func operandsBetweenOptionsAreCollected() throws {
        let parsed = try parse(["-P", "stray", "-v", "1", "another"])
        #expect(parsed.options == [Given(id: .preempt, argument: nil), Given(id: .vhid, argument: "1")])
        #expect(parsed.operands == ["stray", "another"])
    }

    @Test func doubleDashEndsTheOptions() throws {
        let parsed = try parse(["-P", "--", "-v", "1", "--vhid=2"])
        #expect(parsed.options == [Given(id: .preempt, argument: nil)])
        #expect(parsed.operands == ["-v", "1", "--vhid=2"])
        #expect(try parse(["--"]).operands == [])
    }

    @Test func loneDashIsAnOperand() throws {
        #expect(try parse(["-"]).operands == ["-"])
    }

    @Test func optionsKeepTheirOrder() throws {
        #expect(
            try options(["-v", "1", "--vhid=2", "-v3"]) == [
                Given(id: .vhid, argument: "1"), Given(id: .vhid, argument: "2"), Given(id: .vhid, argument: "3"),
            ])
    }

    @Test func messagesSpellAnOptionAsItsTableDoes() {
        #expect(ID.mcast.longOption == "--mcast")
        #expect(ID.scriptTimeout.longOption == "--script-timeout")
        #expect(ID.etcdTTL.longOption == "--etcd-ttl")
        #expect(ID.srcip.longAndShortOption == "--srcip (-s)")
        #expect(ID.version.longAndShortOption == "--version (-V)")
        #expect(ID.metricsFile.longAndShortOption == "--metrics-file")
    }
}
