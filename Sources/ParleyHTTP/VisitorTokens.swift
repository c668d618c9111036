import Crypto
import Synchronization
public import Foundation
public import ParleyCore

/// Signs and checks visitor tokens: `v1.<claims>.<HMAC-SHA256>` (base64url), under a key every
/// instance shares. A token names the visitor, their site and organization; it is all a visitor
/// has, so it is checked on every request and at WebSocket upgrade.
public final class VisitorTokens: Sendable {
    /// What a valid token says.
    public struct Claims: Codable, Sendable, Equatable {
        public var visitor: Visitor.ID
        public var site: Site.ID
        public var organization: Organization.ID
        /// Expiry, seconds since 1970.
        public var exp: Int64
    }

    /// How long a token lives (the widget gets a fresh one each time it starts a conversation).
    public static let lifetime: TimeInterval = 180 * 24 * 3600

    /// Installed at start from the database (`ChatStore.serverKey`), shared by every instance.
    private let storedKey = Mutex<SymmetricKey?>(nil)

    public init() {}

    public convenience init(secret: String) {
        self.init()
        self.install(secret: secret)
    }

    public func install(secret: String) { self.storedKey.withLock { $0 = SymmetricKey(data: Data(secret.utf8)) } }

    private var key: SymmetricKey {
        guard let key = self.storedKey.withLock({ $0 }) else {
            preconditionFailure("VisitorTokens used before start-up installed its key")
        }
        return key
    }

    public func sign(visitor: Visitor.ID, site: Site.ID, organization: Organization.ID, now: Date) -> String {
        let claims = Claims(
            visitor: visitor, site: site, organization: organization,
            exp: Int64(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970))
        let body = Self.base64url((try? JSONEncoder().encode(claims)) ?? Data())
        let mac = Self.base64url(Data(HMAC<SHA256>.authenticationCode(for: Data("v1.\(body)".utf8), using: self.key)))
        return "v1.\(body).\(mac)"
    }

    /// The claims of a valid, unexpired token; nil otherwise.
    public func verify(_ token: String, now: Date) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", token.count < 2048, let mac = Self.decode(String(parts[2])),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data("v1.\(parts[1])".utf8), using: self.key),
            let body = Self.decode(String(parts[1])), let claims = try? JSONDecoder().decode(Claims.self, from: body),
            Double(claims.exp) > now.timeIntervalSince1970
        else { return nil }
        return claims
    }

    /// Whether `userHash` is the HMAC-SHA256 of `userID` under the site's identity secret (hex).
    public static func isValid(userHash: String, userID: String, secret: String) -> Bool {
        let expected = HMAC<SHA256>.authenticationCode(
            for: Data(userID.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let hex = expected.map { String(format: "%02x", $0) }.joined()
        let given = Array(userHash.lowercased().utf8)
        let want = Array(hex.utf8)
        guard given.count == want.count else { return false }
        return zip(given, want).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The hex `userHash` a site's backend computes for `userID` (for tests and docs).
    public static func userHash(userID: String, secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(userID.utf8), using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64)
    }
}
