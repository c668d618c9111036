import Foundation
public import HummingbirdTesting
import Hummingbird
public import HTTPTypes
import Logging
import NIOCore
public import ParleyApp
import ParleyOutbound
public import ParleyStore

/// Runs `body` against Parley built on a fresh database of `database`, through the router (no
/// sockets). The stores given to `body` share the app's database, for seeding and checking.
public func withTestApp<T: Sendable>(
    _ database: TestDatabase, setup: TestingSetup = .router,
    configure: @Sendable (inout ParleyConfiguration) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol, Stores) async throws -> T
) async throws -> T {
    try await database.withEngine { engine in
        try await withTestApp(on: engine, setup: setup, configure: configure, body)
    }
}

/// Runs `body` against Parley on `engine` (several apps on one database act as instances).
public func withTestApp<T: Sendable>(
    on engine: any DatabaseEngine, setup: TestingSetup = .router,
    configure: @Sendable (inout ParleyConfiguration) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol, Stores) async throws -> T
) async throws -> T {
    var configuration = ParleyConfiguration()
    configuration.bcryptCost = 4
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.baseURL = "http://parley.test"
    // Most suites test transport and APIs; the assistant's suites turn it on.
    configuration.assistantEnabled = false
    configuration.masterKey = testMasterKey
    configuration.dataDirectory =
        FileManager.default.temporaryDirectory
        .appendingPathComponent("parley-test-\(UUID().uuidString)").path
    configure(&configuration)
    let stores = Stores(
        engine: engine, hasher: PasswordHasher(cost: 4),
        secrets: SecretBox(key: try SecretBox.parse(configuration.masterKey ?? testMasterKey)))
    var logger = Logger(label: "parley.test")
    logger.logLevel =
        ProcessInfo.processInfo.environment["PARLEY_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    let app = try await buildApplication(configuration, logger: logger, database: engine, output: { _ in })
    return try await app.test(setup) { client in try await body(client, stores) }
}

extension ParleyConfiguration {
    /// Lets AI providers (and webhooks) reach servers the test runs on loopback
    /// (`ScriptedLLMServer` at `localhost`, llama.cpp at `127.0.0.1`), as an operator would with
    /// `PARLEY_OUTBOUND_ALLOW`.
    public mutating func allowLoopback() {
        // The entries are constant and valid.
        self.outboundPolicy = (try? OutboundPolicy(allowing: ["localhost", "127.0.0.1", "::1"])) ?? .strict
    }
}

/// The master key test apps seal secrets with.
public let testMasterKey = String(repeating: "5a", count: 32)

extension TestClientProtocol {
    /// The WebSocket URL of a live test server.
    public func realtimeURL(token: String? = nil) -> String {
        "ws://localhost:\(self.port ?? 0)/api/v1/realtime" + (token.map { "?token=\($0)" } ?? "")
    }
}

/// A signed-in dashboard session: the cookie and the CSRF token to send.
public struct TestSession: Sendable {
    public var cookie: String
    public var csrfToken: String

    /// Headers for a request in this session (the CSRF token on every request is harmless).
    public var headers: HTTPFields {
        [.cookie: "parley_session=\(self.cookie)", HTTPField.Name("X-CSRF-Token")!: self.csrfToken]
    }
}

/// A failed expectation about a response, with its body.
public struct UnexpectedResponse: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

extension TestClientProtocol {
    /// Sends `json` (any JSON-serialisable value) with `Content-Type: application/json`.
    public func send(
        _ method: HTTPRequest.Method, _ uri: String, json: Any? = nil, headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed]))
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        }
        return try await self.execute(uri: uri, method: method, headers: headers, body: body)
    }

    /// The same request on a connection of its own (a live app only): requests sent this way
    /// really run at once, where `send` shares one connection and so takes turns.
    public func sendAlone(
        _ method: HTTPRequest.Method, _ uri: String, json: Any? = nil, headers: HTTPFields = [:]
    ) async throws -> HTTPResponse.Status {
        guard let port = self.port else { throw TestClient.Error.connectionNotOpen }
        var headers = headers
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed]))
            headers[.contentType] = "application/json"
        }
        let client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
        do {
            let response = try await client.execute(
                TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
            try await client.shutdown()
            return response.status
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Signs in and returns the session; throws unless the sign-in succeeded.
    public func signIn(_ email: String, password: String = Stores.fixturePassword) async throws -> TestSession {
        let response = try await self.send(.post, "/api/v1/auth/login", json: ["email": email, "password": password])
        guard response.status == .ok, let setCookie = response.headers[.setCookie],
            let token = setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last,
            let csrf = try response.json()["csrfToken"] as? String
        else {
            throw UnexpectedResponse(description: "sign-in failed: \(response.status) \(String(buffer: response.body))")
        }
        return TestSession(cookie: String(token), csrfToken: csrf)
    }
}

extension TestResponse {
    /// The body as a JSON object.
    public func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(buffer: self.body)) as? [String: Any] else {
            throw UnexpectedResponse(description: "not a JSON object: \(String(buffer: self.body))")
        }
        return object
    }

    /// `error.code` of an error body.
    public func errorCode() throws -> String? { (try self.json()["error"] as? [String: Any])?["code"] as? String }

    /// `error.field` of an error body.
    public func errorField() throws -> String? { (try self.json()["error"] as? [String: Any])?["field"] as? String }

    public var text: String { String(buffer: self.body) }
}
