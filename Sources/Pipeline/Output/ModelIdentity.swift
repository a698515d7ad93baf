import CCrypto
import Engine
import Foundation

/// What a published message says about the model that made it: its name and the SHA-256 of the
/// `.onnx` file, so a consumer can tell models apart across reloads.
public struct ModelIdentity: Sendable, Equatable, Codable {
    public var name: String
    /// The first 16 hex digits of the file's SHA-256.
    public var sha256: String

    public init(name: String, sha256: String) {
        self.name = name
        self.sha256 = sha256
    }

    /// The identity of `bundle`'s file.
    public init(_ bundle: ModelBundle) throws {
        let data = try Data(contentsOf: bundle.url)
        self.init(name: bundle.name, sha256: String(Self.sha256(data).prefix(16)))
    }

    /// The SHA-256 of `data` as 64 lowercase hex digits (OpenSSL's EVP_Digest).
    public static func sha256(_ data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil)
        }
        precondition(ok == 1, "EVP_Digest(SHA-256) failed")
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
