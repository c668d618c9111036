import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix

/// Random tokens and their hashes. Tokens are stored only as SHA-256 hashes, so a copy of the
/// database gives no one a way in.
public enum Secrets {
    private static let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")

    /// `count` characters from an unambiguous alphabet, from the system's secure generator.
    public static func randomString(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(
            (0..<count).map { _ in self.alphabet[Int(generator.next(upperBound: UInt64(self.alphabet.count)))] })
    }

    /// A session or CSRF token: 32 random bytes, base64url.
    public static func token() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A new site's public key.
    public static func siteKey() -> String { "site_" + self.randomString(20) }

    /// A new site's identity secret (HMAC key), hex.
    public static func identitySecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined()
    }

    /// A new API key secret.
    public static func apiKey() -> String { "pk_" + self.randomString(40) }

    /// A generated password for a first owner, readable and strong (about 119 bits).
    public static func password() -> String { self.randomString(20) }

    /// The SHA-256 of `text`, hex.
    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares in time that does not depend on where the strings differ.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

/// Bcrypt, run on NIO's thread pool so that hashing never blocks an event loop.
public struct PasswordHasher: Sendable {
    /// The bcrypt cost: 12 in production (about 0.25 s a hash here); tests use the minimum.
    public var cost: UInt8

    public init(cost: UInt8 = 12) { self.cost = cost }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A hash of a password no one knows, verified against when the email is unknown so that
    /// the answer takes as long as for a known email.
    public func dummyHash() async throws -> String {
        try await self.hash("no such user, no such password")
    }
}
