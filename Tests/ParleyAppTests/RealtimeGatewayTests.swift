import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

/// The delivery promise over real WebSocket connections.
@Suite struct RealtimeGatewayTests {
    static func isEvent(_ name: String) -> @Sendable ([String: Any]) -> Bool {
        { $0["type"] as? String == "event" && $0["name"] as? String == name }
    }

    static func isType(_ type: String) -> @Sendable ([String: Any]) -> Bool { { $0["type"] as? String == type } }

    @Test(arguments: TestDatabase.all)
    func aSendIsAckedAfterCommitAndAResendGivesTheSameMessage(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let channel = "supportChat:\(visitor.sessionID)"
            try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                try socket.send(["type": "subscribe", "channel": channel])
                let subscribed = try await socket.next(where: Self.isType("subscribed"))
                #expect(subscribed["recovered"] as? Bool == true)
                try socket.send(["type": "send", "channel": channel, "clientId": "c-1", "body": "Hello"])
                let ack = try await socket.next(where: Self.isType("ack"))
                let message = try #require(ack["message"] as? [String: Any])
                #expect(message["seq"] as? Int == 1)
                #expect(ack["duplicate"] as? Bool == false)
                try socket.send(["type": "send", "channel": channel, "clientId": "c-1", "body": "Hello"])
                let again = try await socket.next(where: Self.isType("ack"))
                #expect(again["duplicate"] as? Bool == true)
                #expect((again["message"] as? [String: Any])?["id"] as? String == message["id"] as? String)
                let created = await socket.collect(type: "event", name: "message.created", for: .milliseconds(300))
                #expect(created.count == 1)
            }
            let stored = try await stores.chats.messages(in: ChatSession.ID(visitor.sessionID)!, after: 0, limit: 10)
            #expect(stored.count == 1)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aClientThatResumesWithAfterGetsExactlyWhatItMissedInOrderThenLiveEvents(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let channel = "supportChat:\(visitor.sessionID)"
            let agent = try await client.signIn(org.owner.email)
            try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                try socket.send(["type": "subscribe", "channel": channel])
                _ = try await socket.next(where: Self.isType("subscribed"))
                try socket.send(["type": "send", "channel": channel, "clientId": "v-1", "body": "Anyone?"])
                _ = try await socket.next(where: Self.isType("ack"))
                socket.close()
            }
            let lastSeen = 1  // the visitor saw its own message
            // While the visitor is away: a takeover (system + agent message) and two more replies.
            for body in ["Hi, I'm here", "What do you need?", "Still there?"] {
                let reply = try await client.send(
                    .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": body],
                    headers: agent.headers)
                #expect(reply.status == .created)
            }
            try await withTestSocket(client.realtimeURL(token: visitor.token)) { socket in
                try socket.send(["type": "subscribe", "channel": channel, "after": lastSeen])
                let subscribed = try await socket.next(where: Self.isType("subscribed"))
                #expect(subscribed["recovered"] as? Bool == true)
                var replayed: [Int] = []
                for _ in 0..<4 {
                    let event = try await socket.next(where: Self.isEvent("message.created"))
                    replayed.append(event["seq"] as? Int ?? -1)
                }
                #expect(replayed == [2, 3, 4, 5])
                _ = try await client.send(
                    .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "Live now"],
                    headers: agent.headers)
                let live = await socket.collect(type: "event", name: "message.created", for: .milliseconds(400))
                #expect(live.map { $0["seq"] as? Int ?? -1 } == [6])
                #expect((live.first?["data"] as? [String: Any])?["body"] as? String == "Live now")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aVisitorCannotJoinAnotherVisitorsConversationOrTheInbox(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let alice = try await client.startConversation(siteKey: org.site.publicKey)
            let bob = try await client.startConversation(siteKey: org.site.publicKey)
            try await withTestSocket(client.realtimeURL(token: bob.token)) { socket in
                for channel in [
                    "supportChat:\(alice.sessionID)", "inbox:\(org.organization.id)", "supportChat:\(UUID())",
                ] {
                    try socket.send(["type": "subscribe", "channel": channel])
                    let error = try await socket.next(where: Self.isType("error"))
                    #expect(error["code"] as? String == "forbidden", "\(channel)")
                }
                try socket.send([
                    "type": "send", "channel": "supportChat:\(alice.sessionID)", "clientId": "x", "body": "sneaky",
                ])
                #expect(try await socket.next(where: Self.isType("error"))["code"] as? String == "not_subscribed")
                try socket.send(["type": "subscribe", "channel": "nonsense"])
                #expect(try await socket.next(where: Self.isType("error"))["code"] as? String == "bad_channel")
            }
            #expect(try await stores.chats.messages(in: ChatSession.ID(alice.sessionID)!, after: 0, limit: 10).isEmpty)
            await #expect(throws: (any Error).self) {
                try await withTestSocket(client.realtimeURL(token: "v1.forged.token")) { socket in
                    _ = try await socket.next(timeout: .seconds(2))
                }
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func theUpgradeChecksTheOriginAndTheCredential(database: TestDatabase) async throws {
        // Through the router: a real client library sets its own Origin, a browser page would not.
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let path = "/api/v1/realtime?token=\(visitor.token)"
            #expect(try await client.send(.get, path, headers: [.origin: "https://evil.example"]).status == .forbidden)
            #expect(try await client.send(.get, path, headers: [.origin: org.site.allowedOrigins[0]]).status == .ok)
            #expect(try await client.send(.get, path, headers: [.origin: "http://parley.test"]).status == .ok)
            #expect(try await client.send(.get, "/api/v1/realtime?token=v1.forged.x").status == .unauthorized)
            #expect(try await client.send(.get, "/api/v1/realtime").status == .unauthorized)
            let agent = try await client.signIn(org.owner.email)
            let cookie = "parley_session=\(agent.cookie)"
            #expect(
                try await client.send(
                    .get, "/api/v1/realtime", headers: [.cookie: cookie, .origin: "https://evil.example"]
                ).status
                    == .forbidden)
            #expect(
                try await client.send(
                    .get, "/api/v1/realtime", headers: [.cookie: cookie, .origin: "http://parley.test"]
                ).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.all)
    func typingReadReceiptsAndNewConversationsReachTheOtherSide(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let cookie: HTTPFields = [.cookie: "parley_session=\(agent.cookie)"]
            try await withTestSocket(client.realtimeURL(), headers: cookie) { agentSocket in
                try agentSocket.send(["type": "subscribe", "channel": "inbox:\(org.organization.id)"])
                _ = try await agentSocket.next(where: Self.isType("subscribed"))
                let visitor = try await client.startConversation(siteKey: org.site.publicKey)
                let created = try await agentSocket.next(where: Self.isEvent("session.created"))
                #expect((created["data"] as? [String: Any])?["id"] as? String == visitor.sessionID)
                let channel = "supportChat:\(visitor.sessionID)"
                try agentSocket.send(["type": "subscribe", "channel": channel])
                _ = try await agentSocket.next(where: {
                    $0["type"] as? String == "subscribed" && $0["channel"] as? String == channel
                })

                try await withTestSocket(client.realtimeURL(token: visitor.token)) { visitorSocket in
                    try visitorSocket.send(["type": "subscribe", "channel": channel])
                    _ = try await visitorSocket.next(where: Self.isType("subscribed"))
                    try visitorSocket.send(["type": "typing", "channel": channel, "on": true])
                    let typing = try await agentSocket.next(where: Self.isEvent("typing"))
                    #expect((typing["data"] as? [String: Any])?["on"] as? Bool == true)
                    #expect((typing["data"] as? [String: Any])?["role"] as? String == "user")

                    try visitorSocket.send(["type": "send", "channel": channel, "clientId": "v1", "body": "Hi!"])
                    let onInbox = try await agentSocket.next(where: {
                        $0["name"] as? String == "message.created"
                            && $0["channel"] as? String == "inbox:\(org.organization.id)"
                    })
                    #expect((onInbox["data"] as? [String: Any])?["body"] as? String == "Hi!")

                    try agentSocket.send(["type": "read", "channel": channel, "seq": 1])
                    let read = try await visitorSocket.next(where: Self.isEvent("read"))
                    #expect((read["data"] as? [String: Any])?["seq"] as? Int == 1)
                    #expect((read["data"] as? [String: Any])?["byVisitor"] as? Bool == false)

                    try agentSocket.send([
                        "type": "send", "channel": channel, "clientId": "a1", "body": "Hello from the team",
                    ])
                    let reply = try await visitorSocket.next(where: { frame in
                        frame["name"] as? String == "message.created"
                            && (frame["data"] as? [String: Any])?["role"] as? String == "agent"
                    })
                    #expect((reply["data"] as? [String: Any])?["body"] as? String == "Hello from the team")
                }
            }
        }
    }

    @Test(.enabled(if: TestDatabase.postgresURL != nil))
    func twoInstancesOnOnePostgreSQLActAsOne() async throws {
        try await TestDatabase.withPostgresEngines(2) { engines in
            try await withTestApp(on: engines[0], setup: .live) { first, stores in
                try await withTestApp(on: engines[1], setup: .live) { second, _ in
                    let org = try await stores.makeOrganization()
                    let visitor = try await first.startConversation(siteKey: org.site.publicKey)
                    let agent = try await second.signIn(org.owner.email)
                    let channel = "supportChat:\(visitor.sessionID)"
                    try await withTestSocket(second.realtimeURL(), headers: [.cookie: "parley_session=\(agent.cookie)"])
                    { agentSocket in
                        try agentSocket.send(["type": "subscribe", "channel": channel])
                        _ = try await agentSocket.next(where: Self.isType("subscribed"))
                        try await withTestSocket(first.realtimeURL(token: visitor.token)) { visitorSocket in
                            try visitorSocket.send(["type": "subscribe", "channel": channel])
                            _ = try await visitorSocket.next(where: Self.isType("subscribed"))
                            // Through instance one, seen on instance two.
                            let sent = try await first.send(
                                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                                json: ["clientId": "x1", "body": "Via instance one"],
                                headers: visitor.headers)
                            #expect(sent.status == .created)
                            let seen = try await agentSocket.next(where: Self.isEvent("message.created"))
                            #expect((seen["data"] as? [String: Any])?["body"] as? String == "Via instance one")
                            // And back: an agent on instance two, seen by the visitor on instance one.
                            try agentSocket.send([
                                "type": "send", "channel": channel, "clientId": "a1", "body": "Via instance two",
                            ])
                            let back = try await visitorSocket.next(where: { frame in
                                frame["name"] as? String == "message.created"
                                    && (frame["data"] as? [String: Any])?["body"] as? String == "Via instance two"
                            })
                            // 1 the visitor's message, 2 "joined", 3 the reply.
                            #expect((back["data"] as? [String: Any])?["seq"] as? Int == 3)
                            try visitorSocket.send(["type": "typing", "channel": channel, "on": true])
                            _ = try await agentSocket.next(where: Self.isEvent("typing"))
                        }
                    }
                }
            }
        }
    }
}
