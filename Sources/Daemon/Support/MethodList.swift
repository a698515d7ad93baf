import ArgumentParser
import Engine

/// A list of map names as `--methods` (bench, explain, eval), `serve --maps` and the
/// configuration's `output.maps` take them: at least one, each a ``SaliencyMethod`` (any case),
/// each once.
enum MethodList {
    /// Why a list was refused; the description names the offending entry.
    enum Problem: Error, Equatable, CustomStringConvertible {
        case unknown(String)
        case repeated(String)
        case empty

        var description: String {
            switch self {
            case let .unknown(name):
                "'\(name)' is not a map (choose from \(SaliencyMethod.allCases.map(\.rawValue).joined(separator: ", ")))"
            case let .repeated(name): "'\(name)' is listed twice"
            case .empty: "name at least one map"
            }
        }
    }

    /// The maps `names` name, in their order.
    static func parse(_ names: [String]) throws(Problem) -> [SaliencyMethod] {
        var methods: [SaliencyMethod] = []
        for name in names {
            guard let method = SaliencyMethod(rawValue: name.lowercased()) else { throw .unknown(name) }
            guard !methods.contains(method) else { throw .repeated(name) }
            methods.append(method)
        }
        guard !methods.isEmpty else { throw .empty }
        return methods
    }

    /// The maps of a comma-separated command-line value; a refusal names `option`.
    static func parse(commaSeparated list: String, option: String) throws(ValidationError) -> [SaliencyMethod] {
        do {
            return try parse(list.isEmpty ? [] : list.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }
}
