// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SwiftCARP",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ucarp", targets: ["ucarp"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
    ],
    targets: [
        // libpcap, found with pkg-config; Debian and Ubuntu ship it as libpcap-dev.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"]), .yum(["libpcap-devel"])]
        ),
        // libcurl for the etcd guard's HTTP client, loaded with dlopen only under --etcd (its
        // headers from libcurl4-openssl-dev at build time, libcurl4 at run time): an instance
        // without --etcd never maps it.
        .target(name: "CCurl"),
        // A few Linux calls whose argument structures (unions, variadic ioctl) Swift imports badly.
        .target(name: "CSystemShims"),
        // The protocol: codec, checksum, HMAC, election and timers. No I/O.
        .target(
            name: "CARPCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // ucarp's command line and vip-NNN.conf files: argv and files in, Settings and warnings out.
        .target(
            name: "UCarpConfiguration",
            dependencies: ["CARPCore", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The daemon's decisions: the instance (election, signals, carrier, scripts' queue,
        // health checks, etcd gate, metrics schedule, address watch) and the supervising
        // parent's, as events in and actions out on virtual time. No Glibc, no CPcap, no libcurl:
        // it depends on none of them, and `make lint` refuses an import of Glibc or Foundation.
        .target(
            name: "CARPInstance",
            dependencies: [
                "CARPCore", "UCarpConfiguration", "EtcdGuard",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        // The doing: the poll loop, one system-call layer, capture and sockets, netlink, files,
        // children, the supervisor; it carries out what CARPInstance decides.
        .target(
            name: "CARPDaemon",
            dependencies: [
                "CARPCore", "CARPInstance", "UCarpConfiguration", "CPcap", "CSystemShims", "EtcdGuard", "EtcdHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The etcd lease guard's logic (a state machine on virtual time) and the JSON gateway's
        // bodies. No I/O; the daemon carries out its requests.
        .target(name: "EtcdGuard", dependencies: ["CARPCore"]),
        // Non-blocking HTTP POSTs to etcd for the daemon's poll loop: libcurl's multi interface.
        .target(name: "EtcdHTTP", dependencies: ["CARPCore", "CCurl"]),
        .executableTarget(
            name: "ucarp",
            dependencies: [
                "UCarpConfiguration", "CARPDaemon", "CARPInstance", "CSystemShims",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What several test targets share (a seeded random number generator); never linked
        // into the daemon.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "CARPCoreTests",
            dependencies: ["CARPCore", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "UCarpConfigurationTests", dependencies: ["UCarpConfiguration", "CARPCore"]),
        .testTarget(
            name: "CARPDaemonTests",
            dependencies: [
                "CARPCore", "CARPDaemon", "CSystemShims", "EtcdGuard", "TestSupport", "UCarpConfiguration",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "CARPInstanceTests",
            dependencies: [
                "CARPCore", "CARPInstance", "EtcdGuard", "TestSupport", "UCarpConfiguration",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(name: "ucarpTests", dependencies: ["ucarp"]),
        .testTarget(name: "EtcdGuardTests", dependencies: ["EtcdGuard", "CARPCore"]),
        .testTarget(name: "EtcdHTTPTests", dependencies: ["EtcdHTTP", "EtcdGuard", "CARPCore"]),
    ]
)

// `SWIFTCARP_FUZZ=1 swift build --scratch-path .build-fuzz` (what `make fuzz` runs): libFuzzer
// targets in Tests/Fuzz, and the parsers they feed (CARPCore's codec, UCarpConfiguration's
// command line and files) built with coverage for them. Never in a normal build.
if Context.environment["SWIFTCARP_FUZZ"] == "1" {
    let sanitizers = ["-sanitize=fuzzer,address"]
    for target in package.targets where ["CARPCore", "UCarpConfiguration"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitizers)]
    }
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzAdvertisement", ["CARPCore"]), ("FuzzConfiguration", ["UCarpConfiguration", "CARPCore"]),
    ]
    for (name, dependencies) in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: name, dependencies: dependencies, path: "Tests/Fuzz/\(name)",
                swiftSettings: [.unsafeFlags(sanitizers + ["-parse-as-library"])],
                linkerSettings: [.unsafeFlags(sanitizers + ["-use-ld=lld"])]))
    }
}
