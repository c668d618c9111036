import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import ParleyApp
import ParleyCore
import ParleyOutbound
import ParleyStore
import ParleyTesting
import Synchronization
import Testing

/// Outbound webhooks, the first listener on the road: every event an endpoint wants arrives once,
/// signed the Standard Webhooks way, in order per conversation and ticket; internal notes never;
/// failures are retried and end as dead letters that admins redeliver; the SSRF guard refuses
/// internal addresses when a URL is saved and again when it is used.
@Suite struct WebhookTests {
    /// Verifies a delivery the documented way, independently of Parley's own signing code.
    static func verify(secret: String, headers: [String: String], body: String) -> Bool {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))),
            let id = headers["webhook-id"], let timestamp = headers["webhook-timestamp"],
            let signature = headers["webhook-signature"]
        else { return false }
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: key))
        return signature.split(separator: " ").contains { $0 == "v1," + Data(mac).base64EncodedString() }
    }

    struct Delivery: @unchecked Sendable {
        var path: String
        var headers: [String: String]
        var body: String
        var json: [String: Any]
        var type: String { self.json["type"] as? String ?? "" }
        var data: [String: Any] { self.json["data"] as? [String: Any] ?? [:] }
    }

    static func deliveries(_ receiver: ScriptedLLMServer) -> [Delivery] {
        let requests = receiver.requests.withLock { $0 }
        let headers = receiver.headers.withLock { $0 }
        return zip(requests, headers).map { request, headers in
            Delivery(
                path: request.path, headers: headers, body: request.body,
                json: (try? JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any]) ?? [:])
        }
    }

    static func hook(_ base: String, _ path: String) -> String {
        base.replacingOccurrences(of: "/v1", with: path)
    }

    @Test(arguments: TestDatabase.all)
    func anEndpointGetsEveryEventItWantsSignedOnceInOrderAndNeverANote(database: TestDatabase) async throws {
        let receiver = ScriptedLLMServer([], fallback: .status(204))
        try await receiver.run { base in
            try await withTestApp(database, configure: { $0.allowLoopback() }) { client, stores in
                let org = try await stores.makeOrganization()
                let agent = try await client.signIn(org.owner.email)
                let created = try await client.send(
                    .post, "/api/v1/admin/webhooks",
                    json: ["url": Self.hook(base, "/all"), "events": WebhookEvent.types, "description": "everything"],
                    headers: agent.headers)
                #expect(created.status == .created)
                let secret = try #require(try created.json()["secret"] as? String)
                #expect(
                    secret.hasPrefix("whsec_") && (Data(base64Encoded: String(secret.dropFirst(6)))?.count ?? 0) >= 24)
                let endpointID = try #require(try created.json()["id"] as? String)
                let only = try await client.send(
                    .post, "/api/v1/admin/webhooks",
                    json: ["url": Self.hook(base, "/tickets"), "events": ["ticket.created"]], headers: agent.headers)
                #expect(only.status == .created)
                // The secret is shown once.
                let shown = try await client.send(.get, "/api/v1/admin/webhooks/\(endpointID)", headers: agent.headers)
                #expect(try shown.json()["secret"] == nil)

                // A conversation: started, a message, a note, an answer, closed.
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                let chat = "/api/v1/admin/chats/\(visitor.sessionID)"
                _ = try await client.send(
                    .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                    json: ["body": "Where is my order?", "clientId": "c1"], headers: visitor.headers)
                _ = try await client.send(
                    .post, "\(chat)/reply", json: ["body": "SECRET NOTE: refund fraud?", "internal": true],
                    headers: agent.headers)
                _ = try await client.send(.post, "\(chat)/reply", json: ["body": "On its way!"], headers: agent.headers)
                _ = try await client.send(.post, "\(chat)/close", headers: agent.headers)
                // Another asks for a person.
                let other = try await client.startConversation(siteKey: org.site.publicKey)
                let escalated = try await client.send(
                    .post, "/api/v1/chat/sessions/\(other.sessionID)/escalate", headers: other.headers)
                #expect(escalated.status == .ok)
                // A ticket: opened, reprioritized, a note, a reply, resolved, rated.
                let customer = try await TicketControllerTests.customer(client, org)
                let ticket = try await client.send(
                    .post, "/api/v1/tickets", json: ["subject": "Invoice", "body": "Wrong VAT."],
                    headers: customer.headers)
                let ticketID = try #require(try ticket.json()["id"] as? String)
                let admin = "/api/v1/admin/tickets/\(ticketID)"
                _ = try await client.send(
                    .post, "\(admin)/priority", json: ["priority": "high"], headers: agent.headers)
                _ = try await client.send(
                    .post, "\(admin)/reply", json: ["body": "NOTE: ask finance", "internal": true],
                    headers: agent.headers)
                _ = try await client.send(.post, "\(admin)/reply", json: ["body": "Fixed."], headers: agent.headers)
                _ = try await client.send(
                    .post, "\(admin)/status", json: ["status": "resolved"], headers: agent.headers)
                let rated = try await client.send(
                    .post, "/api/v1/tickets/\(ticketID)/rate", json: ["stars": 5], headers: customer.headers)
                #expect(rated.status == .ok)

                #expect(
                    try await eventually {
                        Self.deliveries(receiver).contains { $0.type == "ticket.rated" }
                            && Self.deliveries(receiver).contains { $0.type == "conversation.escalated" }
                    })
                let all = Self.deliveries(receiver).filter { $0.path == "/all" }
                for delivery in Self.deliveries(receiver) {
                    let wanted = delivery.path == "/all" ? secret : nil
                    if let wanted {
                        #expect(Self.verify(secret: wanted, headers: delivery.headers, body: delivery.body))
                    }
                    #expect(delivery.json["id"] as? String == delivery.headers["webhook-id"])
                    #expect(delivery.json["organizationId"] as? String == org.organization.id.description)
                    let stamp = Double(delivery.headers["webhook-timestamp"] ?? "") ?? 0
                    #expect(abs(stamp - Date().timeIntervalSince1970) < 300)
                }
                // A signature made with another secret does not verify (the check can fail).
                #expect(!Self.verify(secret: WebhookStore.newSecret(), headers: all[0].headers, body: all[0].body))
                #expect(Set(all.map(\.type)) == Set(WebhookEvent.types).subtracting(["feedback.created"]))
                #expect(Set(all.compactMap { $0.headers["webhook-id"] }).count == all.count)
                // Never a note, in messages or replies.
                #expect(!all.contains { $0.body.contains("NOTE") })
                let messages = all.filter { $0.type == "message.created" }
                #expect(
                    messages.compactMap { ($0.data["message"] as? [String: Any])?["body"] as? String } == [
                        "Where is my order?", "On its way!",
                    ])
                #expect(all.filter { $0.type == "ticket.replied" }.count == 1)
                // In order per conversation: created, messages, closed.
                let first = all.filter {
                    ($0.data["conversation"] as? [String: Any])?["id"] as? String == visitor.sessionID
                        || $0.data["conversationId"] as? String == visitor.sessionID
                }
                #expect(
                    first.map(\.type) == [
                        "conversation.created", "message.created", "message.created", "conversation.closed",
                    ])
                let updates = all.filter { $0.type == "ticket.updated" }.compactMap { $0.data["changes"] as? [String] }
                #expect(updates.first == ["priority"])
                #expect(updates.contains { $0.contains("status") })
                // The other endpoint wanted new tickets only: the handed-over conversation's, then the form's.
                let news = Self.deliveries(receiver).filter { $0.path == "/tickets" }
                #expect(news.map(\.type) == ["ticket.created", "ticket.created"])
                #expect(
                    news.compactMap { ($0.data["ticket"] as? [String: Any])?["source"] as? String } == ["chat", "form"])
                // The delivery log says so.
                let path = "/api/v1/admin/webhooks/\(endpointID)/deliveries?limit=200"
                #expect(
                    try await eventually {
                        let rows = try await client.send(.get, path, headers: agent.headers).json()["data"]
                        return (rows as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "delivered" } == true
                    })
                let rows = try #require(
                    try await client.send(.get, path, headers: agent.headers).json()["data"] as? [[String: Any]])
                #expect(rows.count == all.count)
                #expect(rows.allSatisfy { $0["responseStatus"] as? Int == 204 && $0["latencyMs"] as? Int != nil })
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func failuresAreRetriedThenDeadThenRedeliveredWithTheSameID(database: TestDatabase) async throws {
        let healthy = Mutex(false)
        let receiver = ScriptedLLMServer(
            [],
            fallback: .respond { _ in healthy.withLock { $0 } ? .status(200, body: "ok") : .status(503, body: "down") })
        try await receiver.run { base in
            try await withTestApp(
                database,
                configure: {
                    $0.allowLoopback()
                    // Generous enough for a few attempts on a busy machine.
                    $0.outboxRetry = Outbox.RetryPolicy(base: 0.05, budget: 4)
                }
            ) { client, stores in
                let org = try await stores.makeOrganization()
                let agent = try await client.signIn(org.owner.email)
                let created = try await client.send(
                    .post, "/api/v1/admin/webhooks",
                    json: ["url": Self.hook(base, "/hook"), "events": ["ticket.created"]],
                    headers: agent.headers)
                let endpoint = try #require(try created.json()["id"] as? String)
                let test = try await client.send(
                    .post, "/api/v1/admin/webhooks/\(endpoint)/test", headers: agent.headers)
                #expect(test.status == .accepted)
                let delivery = try #require(try test.json()["id"] as? String)
                // Retried with backoff until the budget is spent, then dead.
                let log = "/api/v1/admin/webhooks/\(endpoint)/deliveries"
                #expect(
                    try await eventually {
                        let rows =
                            try await client.send(.get, log, headers: agent.headers).json()["data"] as? [[String: Any]]
                        return rows?.first?["status"] as? String == "dead"
                    })
                let row = try #require(
                    try await client.send(.get, log, headers: agent.headers).json()["data"] as? [[String: Any]])
                #expect((row.first?["attempts"] as? Int ?? 0) > 2)
                #expect(row.first?["responseStatus"] as? Int == 503)
                #expect(row.first?["responseExcerpt"] as? String == "down")
                let attempts = receiver.requestCount
                #expect(attempts == row.first?["attempts"] as? Int)
                // Listed for admins with the dead letters; retried, it arrives with the same id.
                let dead = try await client.send(.get, "/api/v1/admin/outbox?status=dead", headers: agent.headers)
                #expect((try dead.json()["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [delivery])
                healthy.withLock { $0 = true }
                let retried = try await client.send(
                    .post, "/api/v1/admin/outbox/\(delivery)/retry", headers: agent.headers)
                #expect(retried.status == .ok)
                #expect(
                    try await eventually {
                        let rows =
                            try await client.send(.get, log, headers: agent.headers).json()["data"] as? [[String: Any]]
                        return rows?.first?["status"] as? String == "delivered"
                    })
                let ids = receiver.headers.withLock { $0.compactMap { $0["webhook-id"] } }
                #expect(Set(ids) == [delivery])
                #expect(receiver.requestCount == attempts + 1)
                let empty = try await client.send(.get, "/api/v1/admin/outbox", headers: agent.headers)
                #expect((try empty.json()["data"] as? [Any])?.isEmpty == true)
                // A dead letter can also be discarded.
                healthy.withLock { $0 = false }
                let again = try await client.send(
                    .post, "/api/v1/admin/webhooks/\(endpoint)/test", headers: agent.headers)
                let second = try #require(try again.json()["id"] as? String)
                #expect(
                    try await eventually {
                        let rows = try await client.send(.get, "/api/v1/admin/outbox", headers: agent.headers).json()[
                            "data"]
                        return (rows as? [[String: Any]])?.first?["id"] as? String == second
                    })
                let discarded = try await client.send(.delete, "/api/v1/admin/outbox/\(second)", headers: agent.headers)
                #expect(discarded.status == .noContent)
                let gone = try await client.send(.get, "/api/v1/admin/outbox", headers: agent.headers)
                #expect((try gone.json()["data"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test(arguments: [
        "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://0x7f.1/", "http://2130706433/",
        "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "ftp://example.com/", "http://[fd00::1]/",
    ])
    func anInternalURLIsRefusedWhenSaved(url: String) async throws {
        try await withTestApp(.sqlite) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let created = try await client.send(
                .post, "/api/v1/admin/webhooks", json: ["url": url, "events": ["ticket.created"]],
                headers: agent.headers)
            #expect(created.status == .unprocessableContent)
            #expect(try created.json().description.contains("url"))
            let list = try await client.send(.get, "/api/v1/admin/webhooks", headers: agent.headers)
            #expect((try list.json()["data"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func anAddressThatTurnedInternalAfterSavingIsRefusedWhenSent() async throws {
        let receiver = ScriptedLLMServer([], fallback: .status(200))
        // The name resolves to a public address when saved, then (DNS changed) to the receiver.
        let internalNow = Mutex(false)
        let resolver = OutboundResolver { host, _ in
            guard host == "hooks.example.com" else { throw OutboundError.unresolvable(host) }
            return [IPAddress(internalNow.withLock { $0 } ? "127.0.0.1" : "93.184.216.34")!]
        }
        try await receiver.run { base in
            let port = try #require(URL(string: base)?.port)
            try await withTestApp(.sqlite, configure: { $0.outboundResolver = resolver }) { client, stores in
                let org = try await stores.makeOrganization()
                let agent = try await client.signIn(org.owner.email)
                let created = try await client.send(
                    .post, "/api/v1/admin/webhooks",
                    json: ["url": "http://hooks.example.com:\(port)/hook", "events": ["ticket.created"]],
                    headers: agent.headers)
                #expect(created.status == .created)
                internalNow.withLock { $0 = true }
                let endpoint = try #require(try created.json()["id"] as? String)
                _ = try await client.send(.post, "/api/v1/admin/webhooks/\(endpoint)/test", headers: agent.headers)
                let log = "/api/v1/admin/webhooks/\(endpoint)/deliveries"
                #expect(
                    try await eventually {
                        let rows =
                            try await client.send(.get, log, headers: agent.headers).json()["data"] as? [[String: Any]]
                        return (rows?.first?["attempts"] as? Int ?? 0) >= 1 && rows?.first?["error"] as? String != nil
                    })
                let row = try #require(
                    try await client.send(.get, log, headers: agent.headers).json()["data"] as? [[String: Any]])
                #expect((row.first?["error"] as? String)?.contains("127.0.0.1") == true)
                #expect(receiver.requestCount == 0)
            }
        }
    }
}
