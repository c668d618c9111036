import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

/// Customers rate the help they got, once, wherever they got it; ratings are credited to the
/// agent who handled it, once.
@Suite struct SatisfactionTests {
    @Test(arguments: TestDatabase.all)
    func aConversationIsRatedOnceItEndedAndItsTicketWithIt(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let sam = try await stores.makeAgent(in: org.organization.id, email: "sam@example.com")
            let samSession = try await client.signIn("sam@example.com")
            let owner = try await client.signIn(org.owner.email)

            // A plain conversation Sam answered and closed, rated 3 with a comment.
            let plain = try await client.startConversation(siteKey: org.site.publicKey, visitorId: "plain")
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(plain.sessionID)/messages", json: ["clientId": "p1", "body": "Hi"],
                headers: plain.headers)
            let early = try await client.send(
                .post, "/api/v1/chat/sessions/\(plain.sessionID)/rating", json: ["stars": 3], headers: plain.headers)
            #expect(early.status == .conflict)
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(plain.sessionID)/reply", json: ["body": "Hello"],
                headers: samSession.headers)
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(plain.sessionID)/close", headers: samSession.headers)
            let rated = try await client.send(
                .post, "/api/v1/chat/sessions/\(plain.sessionID)/rating", json: ["stars": 3, "comment": "Slow"],
                headers: plain.headers)
            #expect(rated.status == .ok, "\(rated.text)")
            #expect((try rated.json()["satisfaction"] as? [String: Any])?["stars"] as? Int == 3)
            let again = try await client.send(
                .post, "/api/v1/chat/sessions/\(plain.sessionID)/rating", json: ["stars": 5], headers: plain.headers)
            #expect(again.status == .conflict)
            let bad = try await client.send(
                .post, "/api/v1/chat/sessions/\(plain.sessionID)/rating", json: ["stars": 9], headers: plain.headers)
            #expect(bad.status == .unprocessableContent)

            // A conversation that became Sam's ticket: resolving it ends the chat, whose rating is the ticket's.
            let (visitor, ticketID) = try await OneThreadTests.handedOver(client, siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply", json: ["body": "Fixed"],
                headers: samSession.headers)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticketID)/status", json: ["status": "resolved"],
                headers: samSession.headers)
            let ticketRated = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/rating", json: ["stars": 5],
                headers: visitor.headers)
            #expect(ticketRated.status == .ok, "\(ticketRated.text)")
            let ticket = try await client.send(.get, "/api/v1/admin/tickets/\(ticketID)", headers: owner.headers).json()
            #expect((ticket["satisfaction"] as? [String: Any])?["stars"] as? Int == 5)

            // An ended conversation nobody rated was asked all the same.
            let quiet = try await client.startConversation(siteKey: org.site.publicKey, visitorId: "quiet")
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(quiet.sessionID)/messages", json: ["clientId": "q1", "body": "Hi"],
                headers: quiet.headers)
            _ = try await client.send(.post, "/api/v1/admin/chats/\(quiet.sessionID)/close", headers: owner.headers)

            let report = try await client.send(.get, "/api/v1/admin/analytics", headers: owner.headers).json()
            let satisfaction = try #require(report["satisfaction"] as? [String: Any])
            // Rated: the plain conversation and the ticket (its conversation is not counted again).
            #expect(satisfaction["count"] as? Int == 2)
            #expect(satisfaction["average"] as? Double == 4)
            // Asked: the ticket, the plain conversation and the quiet one.
            #expect(satisfaction["asked"] as? Int == 3)
            #expect(satisfaction["responseRate"] as? Double == 0.667)
            let byDay = satisfaction["byDay"] as? [[String: Any]] ?? []
            #expect(byDay.count == 1)
            #expect(byDay.first?["count"] as? Int == 2)
            let board = report["leaderboard"] as? [[String: Any]] ?? []
            let samRow = try #require(board.first { $0["agentId"] as? String == sam.id.description })
            #expect(samRow["ratings"] as? Int == 2)
            #expect(samRow["satisfaction"] as? Double == 4)
        }
    }
}
