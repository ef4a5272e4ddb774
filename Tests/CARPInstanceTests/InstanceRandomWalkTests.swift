import CARPCore
import TestSupport
import Testing
import UCarpConfiguration

@testable import CARPInstance

/// Random events in random order (fixed seeds) against what must hold whatever happens.
@Suite struct InstanceRandomWalkTests {
    /// What the walk saw of the children and the transitions.
    struct Observer {
        var transitions: [[String]] = []
        var scriptsStarted: [[String]] = []
        /// Up scripts run again for a lost address, and the state they found recorded last.
        var restores: [String] = []
        var runningScript: Child.ID?
        var runningCheck: Child.ID?
        var exits: [Action] = []

        mutating func absorb(_ actions: [Action]) {
            for action in actions {
                switch action {
                case .recordState(let state, let previous, let reason) where state != .stopped:
                    transitions.append([state.rawValue, previous.rawValue, reason.description])
                case .spawn(let id, let command) where command.path == "/bin/sh":
                    #expect(runningCheck == nil, "a second check while one runs")
                    runningCheck = id
                case .spawn(let id, let command):
                    #expect(runningScript == nil, "a second script while one runs")
                    runningScript = id
                    let environment = Dictionary(uniqueKeysWithValues: command.environment.map { ($0.name, $0.value) })
                    guard environment["CARP_REASON"] != "address-lost" else {
                        restores.append(transitions.last?.first ?? "none")
                        break
                    }
                    scriptsStarted.append(
                        ["CARP_STATE", "CARP_PREVIOUS_STATE", "CARP_REASON"].map { environment[$0] ?? "?" })
                case .kill(let id):
                    #expect(id == runningScript || id == runningCheck, "killed \(id), not running")
                case .exit, .dieOf:
                    exits.append(action)
                default:
                    break
                }
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func scriptsStaySerializedInTransitionOrderAndTheLoopAlwaysMovesOn(seed: UInt64) {
        // Route news and the metrics file too: restores only as master, the file's deadline never left behind.
        var random = SplitMix(state: seed)
        var driver = InstanceDriver(
            testSettings {
                $0.check = "check"
                $0.checkInterval = .seconds(2)
                $0.scriptTimeout = .seconds(5)
                $0.shutdown = true
                $0.preempt = seed % 2 == 0
                $0.metricsFile = "/run/ucarp.prom"
            })
        var seen = Observer()
        var now = t0
        var carrier = LinkState.running
        seen.absorb(driver.start())
        for _ in 0..<400 {
            switch Int.random(in: 0..<13, using: &random) {
            case 0..<3:
                guard let deadline = driver.instance.nextDeadline else { break }
                now = max(now, deadline)
                seen.absorb(driver.link(carrier, at: now) + driver.time(now))
                // Whatever was due is done: the poll loop cannot spin.
                #expect(driver.instance.nextDeadline.map { $0 > now } ?? true)
            case 3:
                now = now + .milliseconds(UInt64.random(in: 0...1500, using: &random))
                seen.absorb(driver.link(carrier, at: now) + driver.time(now))
            case 4:
                let skew = [0, 50, 200][Int.random(in: 0..<3, using: &random)]
                seen.absorb(driver.advert(advskew: UInt8(skew), at: now))
            case 5:
                carrier = carrier == .running ? .noCarrier : .running
                seen.absorb(driver.link(carrier, at: now))
            case 6:
                seen.absorb(driver.signal(Bool.random(using: &random) ? .user2 : .user1, at: now))
            case 7:
                guard let script = seen.runningScript else { break }
                seen.runningScript = nil
                let status: Child.Status = Bool.random(using: &random) ? .exited(0) : .killed(signal: 9)
                seen.absorb(driver.exited(script, status, at: now))
            case 8, 9, 10:
                guard let check = seen.runningCheck else { break }
                seen.runningCheck = nil
                let status: Child.Status = Int.random(in: 0..<4, using: &random) > 0 ? .exited(0) : .exited(1)
                seen.absorb(driver.exited(check, status, at: now))
            case 11:
                let index = InstanceDriver.interfaceIndex
                let vip = driver.instance.settings.ipv4VirtualAddresses[0]
                let news: [RouteNetlink.Message] = [
                    .addressRemoved(interfaceIndex: index, address: vip),
                    .addressAdded(interfaceIndex: index, address: vip),
                    .link(interfaceIndex: index, running: false), .link(interfaceIndex: index, running: true),
                ]
                seen.absorb(driver.routes([news[Int.random(in: 0..<news.count, using: &random)]], at: now))
            default:
                seen.absorb(driver.frame(.dropped(.badTTL(1)), at: now))
            }
            #expect(seen.exits.isEmpty)
        }
        // Leaving: the scripts still to run finish, one by one, then the instance exits once.
        seen.absorb(driver.signal(.terminate, at: now))
        while seen.exits.isEmpty, let script = seen.runningScript {
            seen.runningScript = nil
            seen.absorb(driver.exited(script, .exited(0), at: now))
        }
        #expect(seen.exits == [.exit(.success)])
        #expect(driver.instance.phase == .finished)
        #expect(driver.signal(.terminate, at: now).isEmpty)
        // Every script ran for a transition, in the order of the transitions.
        var remaining = seen.transitions[...]
        for script in seen.scriptsStarted {
            guard let index = remaining.firstIndex(of: script) else {
                Issue.record("script for \(script) out of order or for no transition")
                break
            }
            remaining = remaining[(index + 1)...]
        }
        #expect(seen.scriptsStarted.count >= 5)
        // A lost address is restored only by a master, each time counted.
        #expect(seen.restores.allSatisfy { $0 == "MASTER" }, "\(seen.restores)")
        #expect(driver.instance.statistics.addressRestores == UInt64(seen.restores.count))
        // The last metrics file says the instance stopped.
        #expect(driver.takeWritten().last?.running == false)
    }
}
