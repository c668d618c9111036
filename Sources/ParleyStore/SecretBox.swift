public import Crypto
public import Foundation

/// Encrypts secrets at rest (providers' API keys) with AES-256-GCM under one master key. The
/// key comes from `PARLEY_MASTER_KEY` (64 hex digits or base64 of 32 bytes), or from a key file
/// in the data directory, created with 0600 permissions on first start. Without the key the
/// database's secrets are unreadable: keep it apart from backups of the database.
public struct SecretBox: Sendable {
    let key: SymmetricKey
    /// The first 8 hex digits of the key's SHA-256: tells keys apart in errors, reveals nothing.
    public let fingerprint: String

    public init(key: SymmetricKey) {
        self.key = key
        self.fingerprint = key.withUnsafeBytes { SHA256.hash(data: Data($0)) }
            .prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    /// Why a master key could not be had.
    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    /// A master key from its text form: 64 hex digits, or base64 of 32 bytes.
    public static func parse(_ text: String) throws -> SymmetricKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, trimmed.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var index = trimmed.startIndex
            while index < trimmed.endIndex {
                let next = trimmed.index(index, offsetBy: 2)
                bytes.append(UInt8(trimmed[index..<next], radix: 16)!)
                index = next
            }
            return SymmetricKey(data: bytes)
        }
        if let data = Data(base64Encoded: trimmed), data.count == 32 { return SymmetricKey(data: data) }
        throw KeyError(description: "a master key must be 64 hex digits or base64 of 32 bytes")
    }

    /// The key from `text` when given, otherwise from `directory/master.key`, created (0600) when
    /// missing.
    public static func load(masterKey text: String?, directory: String) throws -> SecretBox {
        if let text { return SecretBox(key: try Self.parse(text)) }
        let path = (directory as NSString).appendingPathComponent("master.key")
        let files = FileManager.default
        if files.fileExists(atPath: path) {
            let attributes = try files.attributesOfItem(atPath: path)
            if let permissions = attributes[.posixPermissions] as? Int, permissions & 0o077 != 0 {
                throw KeyError(
                    description:
                        "\(path) is readable by others (mode \(String(permissions, radix: 8))); run chmod 600 on it")
            }
            return SecretBox(key: try Self.parse(try String(contentsOfFile: path, encoding: .utf8)))
        }
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = SymmetricKey(size: .bits256)
        let hex = key.withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined() + "\n"
        // Created with 0600 from the start: never a moment when others could read it.
        guard files.createFile(atPath: path, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KeyError(description: "could not create \(path)")
        }
        return SecretBox(key: key)
    }

    /// `v1:` and base64 of nonce, ciphertext and tag.
    public func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: self.key)
        return "v1:" + box.combined!.base64EncodedString()
    }

    /// The plaintext of `sealed`; throws when it was sealed under another key or altered.
    public func open(_ sealed: String) throws -> String {
        guard sealed.hasPrefix("v1:"), let data = Data(base64Encoded: String(sealed.dropFirst(3))) else {
            throw KeyError(description: "not a sealed secret")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: self.key), as: UTF8.self)
        } catch {
            throw KeyError(
                description:
                    "a stored secret does not open with master key \(self.fingerprint): was PARLEY_MASTER_KEY changed?")
        }
    }

    /// A throwaway key, for tests and tools that store no secrets.
    public static func ephemeral() -> SecretBox { SecretBox(key: SymmetricKey(size: .bits256)) }
}
