import Foundation
import HTTPTypes
import Hummingbird
import Hummingbird
import HummingbirdTesting
import Logging
import ParleyApp
import ParleyCore
import ParleyHTTP
import ParleyRealtime
import ParleyStore
import ParleyTesting
import Testing

@Suite struct OperationsTests {
    @Test(arguments: TestDatabase.all)
    func probesAndMetricsAnswer(database: TestDatabase) async throws {
        try await withTestApp(database) { client, _ in
            #expect(try await client.send(.get, "/healthz").json()["status"] as? String == "ok")
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok)
            let metrics = try await client.send(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("hb_requests"))
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
        }
    }

    @Test(arguments: TestDatabase.all)
    func firstStartCreatesAnOwnerWhoCanSignIn(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            var configuration = ParleyConfiguration()
            configuration.bcryptCost = 4
            configuration.adminEmail = "boss@example.com"
            configuration.adminPassword = "first start password"
            configuration.masterKey = testMasterKey
            // Files (attachments) go to a folder of the test's own, never the working directory.
            configuration.dataDirectory =
                FileManager.default.temporaryDirectory
                .appendingPathComponent("parley-first-start-\(UUID().uuidString)").path
            let printed = Printed()
            var logger = Logger(label: "parley.test")
            logger.logLevel = .warning
            let app = try await buildApplication(
                configuration, logger: logger, database: engine, output: { line in printed.append(line) })
            try await app.test(.router) { client in
                _ = try await client.signIn("boss@example.com", password: "first start password")
            }
            let text = printed.text
            #expect(text.contains("boss@example.com"))
            #expect(text.contains("data-site=\"site_"))
            #expect(!text.contains("first start password"))  // a password set by the operator is not echoed
            // A second start creates nothing and prints nothing.
            let again = Printed()
            let second = try await buildApplication(
                configuration, logger: logger, database: engine, output: { again.append($0) })
            try await second.test(.router) { _ in }
            #expect(again.text.isEmpty)
            #expect(try await Stores(engine: engine).organizations.all().count == 1)
        }
    }

    @Test func theOpenAPIDocumentDescribesEveryRoute() async throws {
        try await TestDatabase.sqlite.withEngine { engine in
            let hub = RealtimeHub()
            let bus = LocalEventBus(hub: hub)
            let writer = ChatWriter(engine: engine, origin: "test", logger: Logger(label: "test")) { bus.publish($0) }
            let stores = Stores(engine: engine)
            let router = try buildRouter(
                try HTTPDependencies(
                    stores: stores, baseURL: "http://x", metrics: { "" }, hub: hub, bus: bus, writer: writer,
                    ticketWriter: stores.ticketWriter(), tokens: VisitorTokens(secret: "test")))
            let url = Self.documentURL()
            let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths {
                for method in operations.keys where method != "parameters" {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            let registered = Set(
                router.routes.map { route in
                    let path = route.path.description.split(separator: "/").map { part in
                        part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
                    }.joined(separator: "/")
                    return "\(route.method.rawValue) /\(path)"
                })
            #expect(registered.subtracting(documented).sorted() == [], "routes missing from openapi.json")
            #expect(documented.subtracting(registered).sorted() == [], "documented routes that do not exist")
        }
    }

    static func documentURL() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Sources/ParleyHTTP/Resources/openapi.json")
    }

    @Test func theServedOpenAPIDocumentIsTheResource() async throws {
        try await withTestApp(.sqlite) { client, _ in
            let response = try await client.send(.get, "/api/v1/openapi.json")
            #expect(response.status == .ok)
            #expect(try response.json()["paths"] != nil)
        }
    }
}

final class Printed: Sendable {
    private let lines = LockedLines()
    func append(_ line: String) { self.lines.append(line) }
    var text: String { self.lines.all.joined(separator: "\n") }
}

import Synchronization

final class LockedLines: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { self.storage.withLock { $0.append(line) } }
    var all: [String] { self.storage.withLock { $0 } }
}
