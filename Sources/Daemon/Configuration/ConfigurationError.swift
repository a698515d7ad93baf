/// A configuration that cannot run: which key (`sources[1].policy`, or a flag such as
/// `--max-batch`) and why. Reported before anything is bound.
struct ConfigurationError: Error, CustomStringConvertible {
    var key: String
    var reason: String
    /// The file, when the key came from one.
    var file: String?

    var description: String {
        "\(file.map { "\($0): " } ?? "")\(key): \(reason)"
    }
}
