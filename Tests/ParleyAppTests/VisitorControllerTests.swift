import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyHTTP
import ParleyStore
import ParleyTesting
import Testing

@Suite struct VisitorControllerTests {
    @Test(arguments: TestDatabase.all)
    func theWidgetConfigSaysWhyItIsOff(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let key = org.site.publicKey
            let on = try await client.send(.get, "/api/v1/widget/config?site=\(key)").json()
            #expect(on["enabled"] as? Bool == true)
            #expect(on["title"] as? String == "Support")
            #expect(
                try await client.send(.get, "/api/v1/widget/config?site=site_nope").json()["reason"] as? String
                    == "unknown_site")
            let elsewhere = try await client.send(
                .get, "/api/v1/widget/config?site=\(key)", headers: [.origin: "https://evil.example"]
            )
            .json()
            #expect(elsewhere["reason"] as? String == "origin_not_allowed")
            _ = try await stores.sites.update(
                org.site.id, in: org.organization.id,
                with: .init(
                    widget: {
                        var widget = WidgetSettings.default
                        widget.enabled = false
                        return widget
                    }()))
            #expect(
                try await client.send(.get, "/api/v1/widget/config?site=\(key)").json()["reason"] as? String
                    == "widget_disabled")
            #expect(try await client.send(.get, "/api/v1/widget/config").status == .unprocessableContent)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aVisitorStartsResumesAndSendsWithIdempotentClientIDs(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let first = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "c-1", "body": "Where is my order?"],
                headers: visitor.headers)
            #expect(first.status == .created)
            let again = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "c-1", "body": "Where is my order?"],
                headers: visitor.headers)
            #expect(again.status == .ok)
            #expect(try again.json()["id"] as? String == first.json()["id"] as? String)
            let history = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=0", headers: visitor.headers
            ).json()
            #expect((history["data"] as? [[String: Any]])?.count == 1)
            #expect(history["lastSeq"] as? Int == 1)
            let polled = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=1", headers: visitor.headers
            ).json()
            #expect((polled["data"] as? [[String: Any]])?.isEmpty == true)

            let resumed = try await client.startConversation(siteKey: org.site.publicKey, visitorId: visitor.visitorID)
            #expect(resumed.sessionID == visitor.sessionID)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aVisitorNeverReachesAnotherVisitorsConversation(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let alice = try await client.startConversation(siteKey: org.site.publicKey)
            let bob = try await client.startConversation(siteKey: org.site.publicKey)
            for (method, path, body) in [
                (HTTPRequest.Method.get, "messages", nil), (.post, "messages", ["clientId": "x", "body": "hi"]),
                (.post, "close", nil), (.post, "read", ["seq": 1]), (.post, "email", ["email": "a@b.co"]),
            ] as [(HTTPRequest.Method, String, [String: Any]?)] {
                let response = try await client.send(
                    method, "/api/v1/chat/sessions/\(alice.sessionID)/\(path)", json: body, headers: bob.headers)
                #expect(response.status == .notFound, "\(method) \(path)")
            }
            let forged = try await client.send(
                .get, "/api/v1/chat/sessions/\(alice.sessionID)/messages",
                headers: [.authorization: "Bearer v1.forged.token"])
            #expect(forged.status == .unauthorized)
            #expect(
                try await client.send(.get, "/api/v1/chat/sessions/\(alice.sessionID)/messages").status == .unauthorized
            )
        }
    }

    @Test(arguments: TestDatabase.all)
    func identifiedVisitorsNeedAValidSignature(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let hash = VisitorTokens.userHash(userID: "user-42", secret: org.site.identitySecret)
            let signed = try await client.send(
                .post, "/api/v1/chat/sessions",
                json: [
                    "site": org.site.publicKey,
                    "user": ["id": "user-42", "email": "ada@example.com", "userHash": hash],
                ])
            #expect(try signed.json()["identified"] as? Bool == true)
            let wrong = try await client.send(
                .post, "/api/v1/chat/sessions",
                json: [
                    "site": org.site.publicKey,
                    "user": ["id": "user-42", "userHash": String(repeating: "0", count: 64)],
                ])
            #expect(wrong.status == .unauthorized)
            #expect(try wrong.errorCode() == "identity_not_verified")
            let unsigned = try await client.send(
                .post, "/api/v1/chat/sessions", json: ["site": org.site.publicKey, "user": ["id": "user-42"]])
            #expect(unsigned.status == .ok)
            #expect(try unsigned.json()["identified"] as? Bool == false)
            _ = try await stores.sites.update(org.site.id, in: org.organization.id, with: .init(strictIdentity: true))
            let strict = try await client.send(
                .post, "/api/v1/chat/sessions", json: ["site": org.site.publicKey, "user": ["id": "user-42"]])
            #expect(strict.status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabase.all)
    func badMessagesAndOriginsAreRefused(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let path = "/api/v1/chat/sessions/\(visitor.sessionID)/messages"
            let long = try await client.send(
                .post, path, json: ["clientId": "c", "body": String(repeating: "a", count: 10_001)],
                headers: visitor.headers)
            #expect(long.status == .unprocessableContent)
            #expect(try long.errorField() == "body")
            #expect(
                try await client.send(.post, path, json: ["clientId": "c", "body": "   "], headers: visitor.headers)
                    .status
                    == .unprocessableContent)
            #expect(
                try await client.send(.post, path, json: ["body": "no client id"], headers: visitor.headers).status
                    == .unprocessableContent
            )
            let evil = try await client.send(
                .post, "/api/v1/chat/sessions", json: ["site": org.site.publicKey],
                headers: [.origin: "https://evil.example"])
            #expect(evil.status == .forbidden)
            let allowed = try await client.send(
                .post, "/api/v1/chat/sessions", json: ["site": org.site.publicKey],
                headers: [.origin: org.site.allowedOrigins[0]])
            #expect(allowed.status == .ok)
            #expect(allowed.headers[.accessControlAllowOrigin] == org.site.allowedOrigins[0])
            #expect(
                try await client.send(.post, "/api/v1/chat/sessions", json: ["site": "site_unknown"]).status
                    == .notFound)
        }
    }

    @Test(arguments: TestDatabase.all)
    func visitorMessagesAreRateLimitedPerIP(database: TestDatabase) async throws {
        try await withTestApp(database, configure: { $0.chatRateLimit = 5 }) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            for index in 0..<5 {
                let response = try await client.send(
                    .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                    json: ["clientId": "c\(index)", "body": "hi \(index)"],
                    headers: visitor.headers)
                #expect(response.status == .created)
            }
            let limited = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "c9", "body": "one too many"],
                headers: visitor.headers)
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
        }
    }
}

@Suite struct ChatControllerTests {
    @Test(arguments: TestDatabase.all)
    func agentsSeeReplyAssignCloseArchiveAndRestore(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let colleague = try await stores.makeAgent(in: org.organization.id)
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", json: ["clientId": "1", "body": "Help!"],
                headers: visitor.headers)
            let agent = try await client.signIn(org.owner.email)

            let list = try await client.send(.get, "/api/v1/admin/chats", headers: agent.headers).json()
            let first = try #require((list["data"] as? [[String: Any]])?.first)
            let session = try #require(first["session"] as? [String: Any])
            #expect(session["id"] as? String == visitor.sessionID)
            #expect(session["unread"] as? Bool == true)
            #expect(session["lastMessagePreview"] as? String == "Help!")
            #expect((first["visitor"] as? [String: Any])?["anonymousId"] as? String == visitor.visitorID)

            let reply = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "On it."],
                headers: agent.headers)
            #expect(reply.status == .created)
            #expect((try reply.json()["session"] as? [String: Any])?["status"] as? String == "agent_active")
            #expect((try reply.json()["session"] as? [String: Any])?["unread"] as? Bool == false)
            let mine = try await client.send(.get, "/api/v1/admin/chats?assigned=me", headers: agent.headers).json()
            #expect((mine["data"] as? [[String: Any]])?.count == 1)

            let assigned = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/assign", json: ["agentId": colleague.id.description],
                headers: agent.headers)
            #expect(try assigned.json()["assignedAgentId"] as? String == colleague.id.description)
            #expect(
                try await client.send(
                    .post, "/api/v1/admin/chats/\(visitor.sessionID)/assign", json: ["agentId": UUID().uuidString],
                    headers: agent.headers
                ).status == .notFound)

            #expect(
                try await client.send(.post, "/api/v1/admin/chats/\(visitor.sessionID)/close", headers: agent.headers)
                    .status == .ok)
            let twice = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/close", headers: agent.headers)
            #expect(twice.status == .conflict)
            #expect(try twice.errorCode() == "invalid_transition")
            #expect(
                try await client.send(.post, "/api/v1/admin/chats/\(visitor.sessionID)/archive", headers: agent.headers)
                    .status == .ok)
            let counts = try await client.send(.get, "/api/v1/admin/chats/counts", headers: agent.headers).json()
            #expect(counts["archived"] as? Int == 1)
            #expect(
                (try await client.send(.get, "/api/v1/admin/chats", headers: agent.headers).json()["data"] as? [Any])?
                    .isEmpty == true)
            #expect(
                (try await client.send(.get, "/api/v1/admin/chats?archived=true", headers: agent.headers).json()["data"]
                    as? [Any])?.count
                    == 1)

            // A new visitor message brings it back.
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "2", "body": "Still there?"],
                headers: visitor.headers)
            let detail = try await client.send(.get, "/api/v1/admin/chats/\(visitor.sessionID)", headers: agent.headers)
                .json()
            #expect((detail["session"] as? [String: Any])?["archivedAt"] == nil)
            let roles = (detail["messages"] as? [[String: Any]])?.compactMap { $0["role"] as? String }
            #expect(roles == ["user", "system", "agent", "system", "user"])
        }
    }

    @Test(arguments: TestDatabase.all)
    func anotherOrganizationsConversationsAreNotFound(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let acme = try await stores.makeOrganization("Acme")
            let globex = try await stores.makeOrganization("Globex")
            let visitor = try await client.startConversation(siteKey: globex.site.publicKey)
            let agent = try await client.signIn(acme.owner.email)
            for (method, path) in [
                (HTTPRequest.Method.get, ""), (.get, "/messages"), (.post, "/close"), (.post, "/archive"),
                (.post, "/read"),
            ] {
                #expect(
                    try await client.send(
                        method, "/api/v1/admin/chats/\(visitor.sessionID)\(path)", headers: agent.headers
                    ).status
                        == .notFound)
            }
            let reply = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "hi"], headers: agent.headers)
            #expect(reply.status == .notFound)
            #expect(
                (try await client.send(.get, "/api/v1/admin/chats", headers: agent.headers).json()["data"] as? [Any])?
                    .isEmpty == true)
        }
    }
}
