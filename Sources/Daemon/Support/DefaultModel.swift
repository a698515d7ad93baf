import Foundation

/// Where the bundled default model (`fashion-mnist-cnn.onnx`, trained on Fashion-MNIST) lives:
/// `$SALIENCYD_MODEL_DIR`, else `share/saliencyd/models` beside the installed binary, else the
/// source tree's `models/` (for builds run from a checkout).
enum DefaultModel {
    static let fileName = "fashion-mnist-cnn.onnx"

    static var candidates: [URL] {
        var result: [URL] = []
        if let directory = ProcessInfo.processInfo.environment["SALIENCYD_MODEL_DIR"] {
            result.append(URL(fileURLWithPath: directory).appendingPathComponent(fileName))
        }
        // The running binary's own path: argv[0] is only the name typed (`saliencyd`) when it was
        // found on PATH, which would look for the model relative to the current directory.
        let executable: URL
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            executable = URL(fileURLWithPath: path)
        } else {
            executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        }
        result.append(executable.deletingLastPathComponent().appendingPathComponent("../share/saliencyd/models/\(fileName)").standardizedFileURL)
        result.append(URL(fileURLWithPath: "/usr/share/saliencyd/models/\(fileName)"))
        // Sources/Daemon/Support/DefaultModel.swift → repository root.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        result.append(repository.appendingPathComponent("models/\(fileName)"))
        return result
    }

    /// The first candidate that exists, or an error listing where it looked.
    static func url() throws -> URL {
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) { return found }
        throw CommandFailure("the bundled default model was not found; looked in: "
                             + candidates.map(\.path).joined(separator: ", ") + " (pass --model)")
    }
}

/// A command's failure with a message for the user (printed as `error: …`, exit status 1).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
