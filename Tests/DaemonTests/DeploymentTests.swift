import Foundation
import Testing

/// The deployment files as systemd and an administrator meet them: the units in `systemd/`
/// (`systemd-analyze verify` and `security`), the example configurations in `deploy/` (the real
/// binary's configuration loader) and `deploy/install.sh` (syntax, dry run, a staged install).
///
/// `systemd-analyze` comes with Debian's `systemd` package, which `make test` installs if missing.
/// It needs no running systemd.
@Suite(.serialized) struct DeploymentTests {
    static let repository = ExplainCommandTests.repository
    static let units = ["saliencyd.service", "saliencyd@.service"]

    // MARK: systemd-analyze verify

    /// `systemd-analyze verify` exits 0 on a unit with unknown keys or unparsable values and only
    /// prints a warning (measured with systemd 252), so a check on the exit status alone passes on a
    /// broken unit. A unit passes here only when verify exits 0 *and prints nothing at all*.
    struct Verification {
        var status: Int32
        var output: String
        var passed: Bool { status == 0 && output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    }

    /// Runs `systemd-analyze verify --root=ROOT` on `names` (a template through an instance, e.g.
    /// `saliencyd@example.service`), with `unitFiles` (file name → text) in ROOT/etc/systemd/system.
    ///
    /// verify checks that every ExecStart=/ExecReload= command exists and is executable, resolving
    /// the paths below --root, and loads the dependencies that every service gets (sysinit.target,
    /// …). So ROOT holds what an installed system holds: a copy of this machine's
    /// /usr/lib/systemd/system, /bin/kill (ExecReload=), and the built saliencyd at
    /// /usr/local/bin/saliencyd (ExecStart=) unless `withBinary` is false.
    static func verify(_ names: [String], unitFiles: [String: String], withBinary: Bool = true) throws -> Verification {
        let analyze = try #require(Tool.find("systemd-analyze"),
                                   "systemd-analyze is missing: install Debian's systemd package (make test does)")
        let root = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let files = FileManager.default
        for folder in ["usr/lib/systemd", "etc/systemd/system", "bin", "usr/local/bin"] {
            try files.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try files.copyItem(atPath: "/usr/lib/systemd/system", toPath: root.appendingPathComponent("usr/lib/systemd/system").path)
        try files.copyItem(atPath: URL(fileURLWithPath: "/bin/kill").resolvingSymlinksInPath().path,
                           toPath: root.appendingPathComponent("bin/kill").path)
        if withBinary {
            let target = root.appendingPathComponent("usr/local/bin/saliencyd").path
            do {
                try files.linkItem(atPath: ExplainCommandTests.binary.path, toPath: target)
            } catch {
                try files.copyItem(atPath: ExplainCommandTests.binary.path, toPath: target)
            }
        }
        for (name, text) in unitFiles {
            try text.write(to: root.appendingPathComponent("etc/systemd/system/\(name)"), atomically: true, encoding: .utf8)
        }
        let run = try Tool.run(analyze, ["verify", "--root=\(root.path)"] + names)
        return Verification(status: run.status, output: run.output + run.errors)
    }

    static func unitText(_ name: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent("systemd/\(name)"), encoding: .utf8)
    }

    static func repositoryUnits() throws -> [String: String] {
        try Dictionary(uniqueKeysWithValues: units.map { ($0, try unitText($0)) })
    }

    @Test func verifyPassesOnBothUnits() throws {
        let result = try Self.verify(["saliencyd.service", "saliencyd@example.service"], unitFiles: Self.repositoryUnits())
        #expect(result.passed, "systemd-analyze verify: status \(result.status): \(result.output)")
    }

    /// The same check on deliberately broken units fails, each naming the problem: the passing test
    /// above checked something.
    @Test(arguments: [
        // A bad value: verify exits 0 and warns.
        ("saliencyd.service", "saliencyd.service", "Type=notify", "Type=notfiy", "Failed to parse service type"),
        // A misspelt key in the template, verified through an instance.
        ("saliencyd@.service", "saliencyd@example.service", "ProtectSystem=strict", "ProtectSytem=strict", "Unknown key 'ProtectSytem'"),
        // A hardening value systemd does not know.
        ("saliencyd@.service", "saliencyd@example.service", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
         "RestrictAddressFamilies=AF_UNIX AF_INTE", "Failed to parse address family, ignoring: AF_INTE"),
        // A reload command that does not exist.
        ("saliencyd.service", "saliencyd.service", "ExecReload=/bin/kill", "ExecReload=/bin/kil", "/bin/kil is not executable"),
    ])
    func verifyFailsOnABrokenUnit(file: String, name: String, original: String, broken: String, message: String) throws {
        var unitFiles = try Self.repositoryUnits()
        let text = try #require(unitFiles[file])
        try #require(text.contains(original), "\(file) no longer contains '\(original)': update this test")
        unitFiles[file] = text.replacingOccurrences(of: original, with: broken)
        let result = try Self.verify([name], unitFiles: unitFiles)
        #expect(!result.passed, "a broken \(file) passed verify")
        #expect(result.output.contains(message), "expected '\(message)' in: \(result.output)")
    }

    @Test func verifyFailsWhenTheBinaryIsNotInstalled() throws {
        let result = try Self.verify(["saliencyd.service", "saliencyd@example.service"], unitFiles: Self.repositoryUnits(), withBinary: false)
        #expect(!result.passed)
        #expect(result.output.contains("saliencyd.service: Command /usr/local/bin/saliencyd is not executable"), "\(result.output)")
        #expect(result.output.contains("saliencyd@example.service: Command /usr/local/bin/saliencyd is not executable"), "\(result.output)")
    }

    // MARK: The units' content

    /// `[Service]` settings as (key, value) pairs in file order.
    static func serviceSettings(_ text: String) -> [(String, String)] {
        var section = ""
        var result: [(String, String)] = []
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("[") { section = line; continue }
            guard section == "[Service]", !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            result.append((String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
        return result
    }

    /// What issue 6 asks for, and the daemon's notify protocol.
    @Test func theServiceHasTheRequiredSettings() throws {
        for unit in Self.units {
            let settings = Self.serviceSettings(try Self.unitText(unit))
            let values = Dictionary(settings.map { ($0.0, [$0.1]) }, uniquingKeysWith: +)
            let required: [String: String] = [
                "Type": "notify", "NotifyAccess": "main", "ExecReload": "/bin/kill -HUP $MAINPID", "WatchdogSec": "30",
                "Restart": "on-failure", "DynamicUser": "yes", "ConfigurationDirectory": "saliencyd",
                "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
                "NoNewPrivileges": "yes", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
                "MemoryDenyWriteExecute": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": "",
            ]
            for (key, value) in required {
                #expect(values[key] == [value], "\(unit): \(key)=\(values[key] ?? []) instead of \(value)")
            }
            #expect(values["SystemCallFilter"]?.first == "@system-service", "\(unit)")
            #expect(values["StateDirectory"] != nil && values["RuntimeDirectory"] != nil, "\(unit)")
            // TimeoutStopSec must leave room for the default drain (10 s) and linger (1 s).
            let stop = try #require(values["TimeoutStopSec"]?.first.flatMap { Double($0) }, "\(unit): TimeoutStopSec in seconds")
            #expect(stop > 10 + 1, "\(unit): TimeoutStopSec=\(stop)")
        }
        let main = Self.serviceSettings(try Self.unitText("saliencyd.service"))
        #expect(main.contains { $0 == ("ExecStart", "/usr/local/bin/saliencyd serve --config /etc/saliencyd/saliencyd.toml") })
        let instance = Self.serviceSettings(try Self.unitText("saliencyd@.service"))
        #expect(instance.contains { $0 == ("ExecStart", "/usr/local/bin/saliencyd serve --config /etc/saliencyd/%i.toml") })
        #expect(instance.contains { $0 == ("StateDirectory", "saliencyd-%i") })
        #expect(instance.contains { $0 == ("RuntimeDirectory", "saliencyd-%i") })
    }

    /// The template is the single unit with per-instance paths: every other setting is the same, so
    /// that hardening added to one is not forgotten in the other.
    @Test func theTwoUnitsDifferOnlyInPerInstanceSettings() throws {
        let perInstance: Set<String> = ["ExecStart", "StateDirectory", "RuntimeDirectory", "User"]
        let main = Self.serviceSettings(try Self.unitText("saliencyd.service")).filter { !perInstance.contains($0.0) }
        let instance = Self.serviceSettings(try Self.unitText("saliencyd@.service")).filter { !perInstance.contains($0.0) }
        #expect(main.map { "\($0.0)=\($0.1)" } == instance.map { "\($0.0)=\($0.1)" })
    }

    // MARK: systemd-analyze security

    /// `systemd-analyze security --offline=yes` scores 1.2 for both units (measured, systemd 252);
    /// the check allows up to 2.0 ("OK" is below 4.0). `--threshold` counts tenths.
    @Test func securityExposureStaysLow() throws {
        let analyze = try #require(Tool.find("systemd-analyze"), "systemd-analyze is missing: install Debian's systemd package")
        let folder = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [URL] = []
        for (unit, name) in [("saliencyd.service", "saliencyd.service"), ("saliencyd@.service", "saliencyd@example.service")] {
            let file = folder.appendingPathComponent(name)
            try Self.unitText(unit).write(to: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        // The control: the same unit without its hardening is above the threshold.
        let bare = folder.appendingPathComponent("bare.service")
        try "[Service]\nType=notify\nExecStart=/usr/local/bin/saliencyd serve\nDynamicUser=yes\n".write(to: bare, atomically: true, encoding: .utf8)
        for file in files + [bare] {
            let run = try Tool.run(analyze, ["security", "--offline=yes", "--threshold=20", file.path])
            let text = run.output + run.errors
            let level = try #require(Self.firstCapture(#"Overall exposure level for \S+: ([0-9.]+)"#, in: text).flatMap(Double.init), "\(text)")
            if file == bare {
                #expect(run.status != 0 && level > 2.0, "the unhardened control scored \(level)")
            } else {
                #expect(run.status == 0 && level <= 2.0, "\(file.lastPathComponent): exposure \(level)")
            }
        }
    }

    // MARK: Example configurations

    static func exampleConfigurations() throws -> [URL] {
        let folder = repository.appendingPathComponent("deploy")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".toml") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }

    /// Every example is accepted by the real binary's configuration loader, model included:
    /// `serve --check-config` validates and exits without binding anything.
    @Test func everyExampleConfigurationIsAccepted() throws {
        let examples = try Self.exampleConfigurations()
        #expect(Set(examples.map(\.lastPathComponent))
                .isSuperset(of: ["saliencyd.toml", "camera-sub-latest.toml", "replay-pull-block.toml", "two-sources.toml"]))
        for file in examples {
            let run = try ExplainCommandTests.run(["serve", "--config", file.path, "--check-config"])
            #expect(run.status == 0 && run.output.contains("configuration OK"), "\(file.lastPathComponent): \(run.errors)")
        }
        // The control: a broken copy of an example is refused by the same check, naming the key.
        let folder = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = folder.appendingPathComponent("broken.toml")
        let text = try String(contentsOf: Self.repository.appendingPathComponent("deploy/camera-sub-latest.toml"), encoding: .utf8)
        try text.replacingOccurrences(of: "policy = \"latest\"", with: "policy = \"newest\"").write(to: broken, atomically: true, encoding: .utf8)
        let run = try ExplainCommandTests.run(["serve", "--config", broken.path, "--check-config"])
        #expect(run.status != 0 && run.errors.contains("sources[0].policy: 'newest' is not a backpressure policy"), "\(run.errors)")
    }

    /// The examples say what they are about.
    @Test func theExamplesConfigureWhatTheirNamesSay() throws {
        func text(_ name: String) throws -> String {
            try String(contentsOf: Self.repository.appendingPathComponent("deploy/\(name)"), encoding: .utf8)
        }
        let camera = try text("camera-sub-latest.toml")
        #expect(camera.contains("socket = \"sub\"") && camera.contains("policy = \"latest\""))
        let replay = try text("replay-pull-block.toml")
        #expect(replay.contains("socket = \"pull\"") && replay.contains("policy = \"block\"") && replay.contains("socket = \"push\""))
        #expect(try text("two-sources.toml").components(separatedBy: "[[sources]]").count == 3)
        let standard = try text("saliencyd.toml")
        #expect(standard.contains("socket = \"rep\"") && standard.contains("\"tcp://127.0.0.1:5555\"")
                && standard.contains("endpoint = \"tcp://127.0.0.1:5560\""))
    }

    // MARK: deploy/install.sh

    static var installScript: String { repository.appendingPathComponent("deploy/install.sh").path }

    @Test func installScriptParses() throws {
        let bash = try #require(Tool.find("bash"))
        let run = try Tool.run(bash, ["-n", Self.installScript])
        #expect(run.status == 0, "\(run.errors)")
        // shellcheck is optional here (Debian package shellcheck); the script was clean with 0.9.0.
        if let shellcheck = Tool.find("shellcheck") {
            let check = try Tool.run(shellcheck, [Self.installScript])
            #expect(check.status == 0, "\(check.output)")
        }
    }

    /// `--dry-run` prints every step as a command and changes nothing (it needs no root).
    @Test func installDryRunPrintsWhatItWouldDo() throws {
        let bash = try #require(Tool.find("bash"))
        let run = try Tool.run(bash, [Self.installScript, "--dry-run"])
        #expect(run.status == 0, "\(run.errors)")
        let lines = run.output.split(separator: "\n").map(String.init)
        let repo = Self.repository.path
        for expected in [
            "+ swift build --package-path \(repo) -c release --product saliencyd",
            "+ mv -f /usr/local/bin/.saliencyd.new /usr/local/bin/saliencyd",
            "+ install -m 0644 \(repo)/models/fashion-mnist-cnn.onnx /usr/local/share/saliencyd/models/fashion-mnist-cnn.onnx",
            "+ install -m 0644 \(repo)/models/fashion-mnist-cnn.json /usr/local/share/saliencyd/models/fashion-mnist-cnn.json",
            "+ install -m 0644 \(repo)/models/fashion-mnist-cnn.labels.txt /usr/local/share/saliencyd/models/fashion-mnist-cnn.labels.txt",
            "+ install -m 0644 \(repo)/systemd/saliencyd.service /etc/systemd/system/saliencyd.service",
            "+ install -m 0644 \(repo)/systemd/saliencyd@.service /etc/systemd/system/saliencyd@.service",
            "+ systemctl daemon-reload", "+ systemctl enable saliencyd.service", "+ systemctl restart saliencyd.service",
        ] {
            #expect(lines.contains(expected), "missing '\(expected)' in:\n\(run.output)")
        }
        // The configuration: installed when absent, never overwritten.
        let config = "+ install -m 0644 \(repo)/deploy/saliencyd.toml /etc/saliencyd/saliencyd.toml"
        if FileManager.default.fileExists(atPath: "/etc/saliencyd/saliencyd.toml") {
            #expect(!lines.contains(config) && run.output.contains("keeping the existing /etc/saliencyd/saliencyd.toml"))
        } else {
            #expect(lines.contains(config), "\(run.output)")
        }
        // Every line is a message or a printed command.
        #expect(lines.allSatisfy { $0.hasPrefix("+ ") || $0.hasPrefix("install.sh: ") }, "\(run.output)")

        let uninstall = try Tool.run(bash, [Self.installScript, "--uninstall", "--dry-run"])
        #expect(uninstall.status == 0, "\(uninstall.errors)")
        for expected in ["+ systemctl disable --now saliencyd.service", "+ rm -f /etc/systemd/system/saliencyd.service",
                         "+ rm -f /usr/local/bin/saliencyd", "+ rm -rf /usr/local/share/saliencyd /usr/local/share/doc/saliencyd"] {
            #expect(uninstall.output.contains(expected + "\n"), "missing '\(expected)' in:\n\(uninstall.output)")
        }
        #expect(!uninstall.output.contains("rm -rf /etc/saliencyd"), "uninstall without --purge keeps the configuration")
        let purge = try Tool.run(bash, [Self.installScript, "--uninstall", "--purge", "--dry-run"])
        #expect(purge.status == 0 && purge.output.contains("+ rm -rf /etc/saliencyd\n"), "\(purge.output)")
    }

    /// A real install into a staging root (--destdir, no root needed, no systemctl): the files land
    /// where the units and the binary expect them, the installed binary finds the bundled model
    /// beside itself, verify passes on the installed units, an edited configuration survives a
    /// reinstall, and uninstall removes everything but the configuration.
    @Test func stagedInstallAndUninstall() throws {
        let bash = try #require(Tool.find("bash"))
        let stage = try ExplainCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: stage) }
        let install = [Self.installScript, "--destdir", stage.path, "--binary", ExplainCommandTests.binary.path]
        let first = try Tool.run(bash, install)
        #expect(first.status == 0, "\(first.output)\(first.errors)")
        let files = FileManager.default
        let installed = ["usr/local/bin/saliencyd", "etc/systemd/system/saliencyd.service", "etc/systemd/system/saliencyd@.service",
                         "etc/saliencyd/saliencyd.toml", "usr/local/share/saliencyd/models/fashion-mnist-cnn.onnx",
                         "usr/local/share/saliencyd/models/fashion-mnist-cnn.json",
                         "usr/local/share/saliencyd/models/fashion-mnist-cnn.labels.txt",
                         "usr/local/share/doc/saliencyd/deploy.md", "usr/local/share/doc/saliencyd/configuration.md"]
        for path in installed {
            #expect(files.fileExists(atPath: stage.appendingPathComponent(path).path), "\(path) not installed")
        }
        #expect(files.isExecutableFile(atPath: stage.appendingPathComponent("usr/local/bin/saliencyd").path))
        let mode = try files.attributesOfItem(atPath: stage.appendingPathComponent("etc/saliencyd/saliencyd.toml").path)[.posixPermissions] as? Int
        #expect(mode == 0o644, "the transient service user must be able to read the configuration")
        // install.sh ran the installed binary with --check-config: it found the model in
        // ../share/saliencyd/models beside itself (DefaultModel), not in the source tree.
        #expect(first.output.contains("configuration OK: model fashion-mnist-cnn (\(stage.path)/usr/local/share/saliencyd/models/fashion-mnist-cnn.onnx)"),
                "\(first.output)")
        // The same found by name on PATH from another directory, as docs/deploy.md has an
        // administrator type it (argv[0] is then just `saliencyd`).
        let byName = try Tool.run(bash, ["-c", "cd / && PATH=\"$1/usr/local/bin:$PATH\" exec saliencyd serve --config \"$1/etc/saliencyd/saliencyd.toml\" --check-config",
                                          "check", stage.path])
        #expect(byName.status == 0 && byName.output.contains("(\(stage.path)/usr/local/share/saliencyd/models/fashion-mnist-cnn.onnx)"),
                "\(byName.output)\(byName.errors)")

        let installedUnits = try Dictionary(uniqueKeysWithValues: Self.units.map {
            ($0, try String(contentsOf: stage.appendingPathComponent("etc/systemd/system/\($0)"), encoding: .utf8))
        })
        let verification = try Self.verify(["saliencyd.service", "saliencyd@example.service"], unitFiles: installedUnits)
        #expect(verification.passed, "\(verification.output)")

        let config = stage.appendingPathComponent("etc/saliencyd/saliencyd.toml")
        let edited = try String(contentsOf: config, encoding: .utf8) + "\n# edited by the administrator\n"
        try edited.write(to: config, atomically: true, encoding: .utf8)
        let second = try Tool.run(bash, install)
        #expect(second.status == 0 && second.output.contains("keeping the existing"), "\(second.output)\(second.errors)")
        #expect(try String(contentsOf: config, encoding: .utf8) == edited, "a reinstall overwrote the configuration")

        let uninstall = try Tool.run(bash, [Self.installScript, "--destdir", stage.path, "--uninstall"])
        #expect(uninstall.status == 0, "\(uninstall.errors)")
        let left = files.enumerator(atPath: stage.path)?.compactMap { $0 as? String }
            .filter { !Self.isDirectory(stage.appendingPathComponent($0).path) } ?? []
        #expect(left == ["etc/saliencyd/saliencyd.toml"], "left after --uninstall: \(left)")
        let purge = try Tool.run(bash, [Self.installScript, "--destdir", stage.path, "--uninstall", "--purge"])
        #expect(purge.status == 0 && !files.fileExists(atPath: stage.appendingPathComponent("etc/saliencyd").path))
    }
}

extension DeploymentTests {
    /// Finding and running the system's tools.
    enum Tool {
        static func find(_ name: String) -> URL? {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            let folders = path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
            for folder in folders {
                let candidate = URL(fileURLWithPath: folder).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
            return nil
        }

        static func run(_ executable: URL, _ arguments: [String]) throws -> ExplainCommandTests.Run {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.currentDirectoryURL = ExplainCommandTests.repository
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            // Read stderr while stdout is read: a full pipe must not stall the process.
            final class Collected: @unchecked Sendable { var data = Data() }
            let collected = Collected()
            let done = DispatchSemaphore(value: 0)
            let errorHandle = errors.fileHandleForReading
            DispatchQueue.global().async {
                collected.data = errorHandle.readDataToEndOfFile()
                done.signal()
            }
            let out = output.fileHandleForReading.readDataToEndOfFile()
            done.wait()
            process.waitUntilExit()
            let err = collected.data
            return .init(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                         errors: String(decoding: err, as: UTF8.self))
        }
    }

    /// Whether `path` is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// The first capture group of `pattern`'s first match in `text`.
    static func firstCapture(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range(at: 1), in: text) else { return nil }
        return String(text[range])
    }
}
