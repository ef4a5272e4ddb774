// libFuzzer target: a configuration file through `ConfigurationFile.parse` and through the whole
// `ucarp --config=/fuzz/vip-001.conf` (vip-common.conf, the variables, OPTIONS split into words
// and parsed as options, every value checked into Settings and the start-up warnings), from an
// in-memory environment.
//
// The input is /fuzz/vip-001.conf. When it holds a NUL byte, it is also tried split there: the
// part before as /fuzz/vip-common.conf, the rest as vip-001.conf. Any other file read (a
// PASSFILE, the default vip-up and vip-down) exists and holds a password line.
//
// Built only with SWIFTCARP_FUZZ=1 (see Package.swift); run with `make fuzz`.
import CARPCore
import Glibc
import UCarpConfiguration

private let directory = "/fuzz"
private let instancePath = "\(directory)/vip-001.conf"
private let commonPath = "\(directory)/vip-common.conf"

private func files(instance: [UInt8], common: [UInt8]?) -> UCarpCommandLine.Environment {
    UCarpCommandLine.Environment(
        read: { path throws(SettingsError) in
            switch path {
            case instancePath: instance
            case commonPath:
                if let common { common } else { throw .passfileUnreadable(path: path, reason: "No such file") }
            default: Array("fuzz-password\n".utf8)
            }
        },
        readIfPresent: { path throws(SettingsError) in
            switch path {
            case instancePath: instance
            case commonPath: common
            default: Array("fuzz-password\n".utf8)
            }
        })
}

private func run(instance: [UInt8], common: [UInt8]?) {
    let command: UCarpCommandLine.Command
    do {
        command = try UCarpCommandLine.parse(
            ["--config=\(instancePath)"], environment: files(instance: instance, common: common))
    } catch {
        // Every refusal is one printable line naming the problem.
        let message = error.description
        if message.isEmpty { fatalError("empty error message for \(error)") }
        return
    }
    guard case .run(let settings, let warnings) = command else {
        fatalError("--config gave \(command), not settings")
    }
    // Every warning is one log line.
    for warning in warnings where warning.description.isEmpty || warning.description.contains("\n") {
        fatalError("warning \(warning) is not one line")
    }
    // Whatever was accepted is within ucarp's ranges and builds a working codec.
    guard settings.vhid >= 1, !settings.password.isEmpty,
        settings.password.count <= CARPWire.maximumPasswordLength,
        settings.advbase != 0 || settings.advskew != 0, settings.deadRatio >= 1
    else { fatalError("accepted settings out of range: \(settings)") }
    guard !settings.virtualAddresses.isEmpty,
        settings.virtualAddresses.count == settings.virtualAddressArguments.count,
        let codec = AnyAdvertisementCodec(
            vhid: settings.vhid, sourceAddress: settings.sourceAddress, group: settings.group,
            broadcast: settings.noMulticast, peers: settings.peers,
            authenticator: Authenticator(
                password: settings.password, vhid: settings.vhid, virtualAddresses: settings.virtualAddresses))
    else { fatalError("accepted settings of mixed families or without addresses: \(settings)") }
    _ = codec.frame(advbase: settings.advbase, advskew: settings.advskew, counter: 1, ipIdentification: 1)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))

    if let file = try? ConfigurationFile.parse(bytes, path: instancePath) {
        for assignment in file.assignments {
            guard assignment.line >= 1, file.value(of: assignment.name) != nil else {
                fatalError("bad assignment \(assignment)")
            }
        }
    }
    run(instance: bytes, common: nil)
    if let nul = bytes.firstIndex(of: 0) {
        run(instance: Array(bytes[(nul + 1)...]), common: Array(bytes[..<nul]))
    }
    return 0
}

// SwiftPM links an executable target with `main` aliased to the module's entry point, so the
// entry point is ours and hands over to libFuzzer's driver (with its usual flags and corpora).
@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
enum Main {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv, fuzzConfiguration))
    }
}
