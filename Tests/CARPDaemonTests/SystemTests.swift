import CARPCore
import CARPInstance
import Glibc
import SystemPackage
import Testing

@testable import CARPDaemon

struct SystemTests {
    @Test func retriesACallInterruptedBySignalsUntilItSucceeds() throws {
        var attempts = 0
        let result = try System.call("probe", on: "nothing") { () -> CInt in
            attempts += 1
            guard attempts > 3 else {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(result == 42)
        #expect(attempts == 4)
    }

    @Test func aFailureOtherThanEINTRThrowsTheCallItsSubjectAndErrno() {
        var attempts = 0
        let error = #expect(throws: DaemonError.self) {
            try System.call("probe", on: "the subject") { () -> CInt in
                attempts += 1
                errno = ENOENT
                return -1
            }
        }
        #expect(attempts == 1)
        #expect(error.flatMap(\.systemCall)?.call == "probe")
        #expect(error.flatMap(\.systemCall)?.subject == "the subject")
        #expect(error.flatMap(\.systemCall)?.errno == .noSuchFileOrDirectory)
        #expect(error?.description == "probe on the subject failed: No such file or directory")
    }

    @Test func aSwiftSystemCallThatFailsIsNamedWithItsPath() {
        let path = "/nonexistent-swiftcarp-directory/file"
        let error = #expect(throws: DaemonError.self) {
            try System.open(FilePath(path), .readOnly)
        }
        #expect(error?.description == "open on \(path) failed: No such file or directory")
    }

    @Test func aRealSendtoFailureNamesThePeer() throws {
        let socket = try System.datagramSocket(for: "test")
        defer { System.release(socket) }
        // UDP refuses port 0 (EINVAL), which is what System.send's destination carries.
        let error = #expect(throws: DaemonError.self) {
            try System.send([1, 2, 3], on: socket, to: IPv4Address(127, 0, 0, 1))
        }
        #expect(error?.description == "sendto on 127.0.0.1 failed: Invalid argument")
    }

    @Test func tryLockSaysWhenAnotherOpenFileHoldsTheLock() throws {
        let scratch = try ScratchDirectory()
        let path = "\(scratch.path)/lock"
        let first = try System.open(
            FilePath(path), .readWrite, options: [.create, .closeOnExec], permissions: .ownerReadWrite)
        defer { System.release(first) }
        let second = try System.open(FilePath(path), .readWrite, options: .closeOnExec)
        defer { System.release(second) }
        #expect(try System.tryLock(first, subject: path))
        #expect(try !System.tryLock(second, subject: path))
    }

    @Test func duplicatingADescriptorOntoItselfMakesItInherited() throws {
        let ends = try System.pipe(subject: "test")
        defer {
            System.release(ends.readEnd)
            System.release(ends.writeEnd)
        }
        #expect(fcntl(ends.readEnd.rawValue, F_GETFD) == FD_CLOEXEC)
        try System.duplicate(ends.readEnd, as: ends.readEnd, subject: "test")
        #expect(fcntl(ends.readEnd.rawValue, F_GETFD) == 0)
    }

    /// A blocking `write` into a full pipe returns the part it wrote when a signal arrives,
    /// so a single `write` would deliver only one pipe's worth here.
    @Test func writeFinishesWhatASignalInterruptedWriteLeft() throws {
        let ends = try System.pipe(subject: "test")
        defer { System.release(ends.readEnd) }
        let capacity = Int(fcntl(ends.writeEnd.rawValue, linuxSetPipeSize, 4096))
        try #require(capacity >= 4096)
        let payload = (0..<(capacity * 8)).map { UInt8(truncatingIfNeeded: $0 &* 7) }

        var handler = sigaction()
        handler.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&handler.sa_mask)
        handler.sa_flags = 0
        var previous = sigaction()
        sigaction(SIGUSR2, &handler, &previous)
        defer { sigaction(SIGUSR2, &previous, nil) }

        let outcome = WriterOutcome()
        let writer = try startThread {
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            do throws(DaemonError) {
                try System.write(payload, to: ends.writeEnd, subject: "pipe")
            } catch {
                outcome.error = error
            }
            System.release(ends.writeEnd)
        }
        // The pipe is full: the writer is inside its first write, waiting for room.
        var queued: CInt = 0
        repeat {
            sched_yield()
            try #require(ioctl(ends.readEnd.rawValue, UInt(FIONREAD), &queued) == 0)
        } while queued < capacity
        pthread_kill(writer, SIGUSR2)

        var received: [UInt8] = []
        while true {
            let chunk = try System.read(ends.readEnd, upTo: 65536, subject: "pipe")
            if chunk.isEmpty { break }
            received += chunk
        }
        pthread_join(writer, nil)
        #expect(outcome.error == nil)
        #expect(received.count == payload.count)
        #expect(received.elementsEqual(payload))
    }

    @Test func anIPv6SourceNotOnTheInterfaceIsABadSettingNotASystemFailure() {
        let error = DaemonError.sourceAddressNotOnInterface(
            address: IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99), interface: "eth0")
        #expect(error.isInvalidSettings)
        #expect(
            error.description
                == "--srcip 2001:db8::99 is not an address of [eth0]: give one that 'ip -6 addr show dev eth0' lists")
        #expect(!DaemonError.noInterface.isInvalidSettings)
    }

    @Test func theSendFailuresReadAsTheDaemonHasAlwaysLoggedThem() {
        #expect(
            DaemonError.injection(interface: "eth0", message: "send: Network is down").description
                == "send: Network is down")
        let unicast = DaemonError.unicast(failures: [
            (.ipv4(IPv4Address(192, 0, 2, 1)), .networkUnreachable), (.ipv4(IPv4Address(192, 0, 2, 2)), .noRouteToHost),
        ])
        #expect(unicast.description == "sendto 192.0.2.1: Network is unreachable, 192.0.2.2: No route to host")
    }

    @Test func pollReportsAReadableDescriptorAndTimesOutOnAnEmptyOne() throws {
        let ends = try System.pipe(subject: "test")
        defer {
            System.release(ends.readEnd)
            System.release(ends.writeEnd)
        }
        var descriptors = [pollfd(fd: ends.readEnd.rawValue, events: Int16(POLLIN), revents: 0)]
        #expect(try System.poll(&descriptors, timeout: 0, subject: "test") == 0)
        #expect(descriptors[0].revents == 0)
        try System.write([1], to: ends.writeEnd, subject: "test")
        #expect(try System.poll(&descriptors, timeout: 0, subject: "test") == 1)
        #expect(descriptors[0].revents & Int16(POLLIN) != 0)
    }

    @Test func aProcessExistsUntilItIsReaped() throws {
        #expect(try System.processExists(getpid()))
        let child = try System.spawn("/bin/true", argv: ["true"], environment: [])
        _ = try System.wait(for: child, subject: "true")
        #expect(try !System.processExists(child))
    }

    @Test func signallingAProcessThatIsGoneNamesTheCall() throws {
        let child = try System.spawn("/bin/true", argv: ["true"], environment: [])
        _ = try System.wait(for: child, subject: "true")
        let error = #expect(throws: DaemonError.self) {
            try System.signal(child, SIGTERM, subject: "the child")
        }
        #expect(error?.description == "kill on the child failed: No such process")
    }

    @Test func theHostNameIsTheKernelsNodeName() throws {
        var names = utsname()
        try #require(uname(&names) == 0)
        let nodeName = withUnsafeBytes(of: names.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(try System.hostName() == nodeName)
    }
}

/// `F_SETPIPE_SZ`, which Glibc exposes only with `_GNU_SOURCE`.
private let linuxSetPipeSize: CInt = 1031

private final class WriterOutcome: @unchecked Sendable {
    var error: DaemonError?
}

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Runs `body` on a new POSIX thread, to be joined with `pthread_join`.
private func startThread(_ body: @escaping () -> Void) throws -> pthread_t {
    var thread = pthread_t()
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let status = pthread_create(
        &thread, nil,
        { context in
            guard let context else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
            return nil
        }, context)
    try #require(status == 0)
    return thread
}
