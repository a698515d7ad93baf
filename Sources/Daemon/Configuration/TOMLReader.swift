import TOMLKit

/// Reads one TOML table strictly: every key must be read (unknown keys are errors), and every
/// value must have the expected type. Errors name the key by its dotted path.
final class TOMLReader {
    let table: TOMLTable
    let path: String
    private var consumed: Set<String> = []

    init(_ table: TOMLTable, path: String = "") {
        self.table = table
        self.path = path
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    private func value(_ name: String) -> TOMLValueConvertible? {
        consumed.insert(name)
        return table[name]
    }

    private func mismatch(_ name: String, _ expected: String, _ value: TOMLValueConvertible) -> ConfigurationError {
        ConfigurationError(key: key(name), reason: "expected \(expected), got a \(value.type) (\(value.debugDescription))")
    }

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = value(name) else { return nil }
        guard let string = value.string else { throw mismatch(name, "a string", value) }
        return string
    }

    func int(_ name: String) throws(ConfigurationError) -> Int? {
        guard let value = value(name) else { return nil }
        guard let int = value.int else { throw mismatch(name, "an integer", value) }
        return int
    }

    /// A number: integers are accepted where a float is expected.
    func double(_ name: String) throws(ConfigurationError) -> Double? {
        guard let value = value(name) else { return nil }
        if let int = value.int { return Double(int) }
        guard let double = value.double else { throw mismatch(name, "a number", value) }
        return double
    }

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard let bool = value.bool else { throw mismatch(name, "true or false", value) }
        return bool
    }

    func strings(_ name: String) throws(ConfigurationError) -> [String]? {
        guard let value = value(name) else { return nil }
        guard let array = value.array else { throw mismatch(name, "an array of strings", value) }
        var result: [String] = []
        for (index, element) in array.enumerated() {
            guard let string = element.string else {
                throw ConfigurationError(key: "\(key(name))[\(index)]", reason: "expected a string, got a \(element.type)")
            }
            result.append(string)
        }
        return result
    }

    func numbers(_ name: String) throws(ConfigurationError) -> [Double]? {
        guard let value = value(name) else { return nil }
        guard let array = value.array else { throw mismatch(name, "an array of numbers", value) }
        var result: [Double] = []
        for (index, element) in array.enumerated() {
            if let int = element.int { result.append(Double(int)); continue }
            guard let double = element.double else {
                throw ConfigurationError(key: "\(key(name))[\(index)]", reason: "expected a number, got a \(element.type)")
            }
            result.append(double)
        }
        return result
    }

    func table(_ name: String) throws(ConfigurationError) -> TOMLReader? {
        guard let value = value(name) else { return nil }
        guard let table = value.table else { throw mismatch(name, "a table", value) }
        return TOMLReader(table, path: key(name))
    }

    /// An array of tables (`[[sources]]`).
    func tables(_ name: String) throws(ConfigurationError) -> [TOMLReader]? {
        guard let value = value(name) else { return nil }
        guard let array = value.array else { throw mismatch(name, "an array of tables ([[\(name)]])", value) }
        var result: [TOMLReader] = []
        for (index, element) in array.enumerated() {
            guard let table = element.table else {
                throw ConfigurationError(key: "\(key(name))[\(index)]", reason: "expected a table, got a \(element.type)")
            }
            result.append(TOMLReader(table, path: "\(key(name))[\(index)]"))
        }
        return result
    }

    /// Throws for the first key that was never read.
    func finish(known: [String]? = nil) throws(ConfigurationError) {
        for name in table.keys.sorted() where !consumed.contains(name) {
            let options = known ?? consumed.sorted()
            throw ConfigurationError(key: key(name), reason: "unknown key (known here: \(options.joined(separator: ", ")))")
        }
    }
}
