import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct AnalyticsTests {
    @Test(arguments: TestDatabase.all)
    func theReportCountsVolumeTimesSatisfactionSLAAndTheAssistant(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            // Three tickets: two answered by the owner (one rated 5, one 3), one untouched.
            var ids: [Ticket.ID] = []
            for subject in ["One", "Two", "Three"] {
                ids.append(
                    try await stores.ticketWriter().create(
                        .init(requesterEmail: "c@example.com", subject: subject, body: "Help", priority: .urgent),
                        in: org.organization.id
                    ).id)
            }
            for (index, id) in ids.prefix(2).enumerated() {
                _ = try await stores.ticketWriter().apply(.assign(org.owner.id), to: id, in: org.organization.id)
                _ = try await stores.ticketWriter().apply(
                    .agentReply(org.owner.id), to: id, in: org.organization.id,
                    message: .init(role: .agent, body: "Done", author: org.owner.id))
                _ = try await stores.ticketWriter().apply(.changeStatus(.resolved), to: id, in: org.organization.id)
                _ = try await stores.ticketWriter().apply(
                    .rate(stars: index == 0 ? 5 : 3, comment: nil), to: id, in: org.organization.id)
            }
            // The assistant: one conversation answered and thumbed up, one handed over.
            let happy = try await client.startConversation(siteKey: org.site.publicKey)
            let unhappy = try await client.startConversation(siteKey: org.site.publicKey)
            let message = ChatMessage.ID()
            try await stores.assistant.log(
                .init(
                    organizationID: org.organization.id, sessionID: ChatSession.ID(happy.sessionID)!, replyTo: 1,
                    question: "Refund?", outcome: "answer", messageID: message, createdAt: Date()))
            try await stores.recordFeedback(on: message, helpful: true, comment: nil, in: org.organization.id)
            try await stores.assistant.log(
                .init(
                    organizationID: org.organization.id, sessionID: ChatSession.ID(unhappy.sessionID)!, replyTo: 1,
                    question: "Lawyer?", outcome: "handoff", reason: "visitor_asked", createdAt: Date()))

            let response = try await client.send(.get, "/api/v1/admin/analytics", headers: admin.headers)
            #expect(response.status == .ok, "\(response.text)")
            let report = try response.json()
            let volume = report["volume"] as? [[String: Any]] ?? []
            #expect(volume.reduce(0) { $0 + ($1["tickets"] as? Int ?? 0) } == 3)
            #expect(volume.reduce(0) { $0 + ($1["conversations"] as? Int ?? 0) } == 2)
            #expect((report["firstResponse"] as? [String: Any])?["count"] as? Int == 2)
            #expect((report["resolution"] as? [String: Any])?["count"] as? Int == 2)
            let satisfaction = report["satisfaction"] as? [String: Any]
            #expect(satisfaction?["average"] as? Double == 4)
            #expect((satisfaction?["distribution"] as? [String: Int])?["5"] == 1)
            let sla = report["sla"] as? [String: Any]
            #expect(sla?["firstResponseMeasured"] as? Int == 2 && sla?["firstResponseMet"] as? Int == 2)
            let assistant = report["assistant"] as? [String: Any]
            #expect(assistant?["conversations"] as? Int == 2)
            #expect(assistant?["handedOver"] as? Int == 1)
            #expect(assistant?["resolvedConfirmed"] as? Int == 1)
            #expect(assistant?["handoffRate"] as? Double == 0.5)
            let leaderboard = report["leaderboard"] as? [[String: Any]] ?? []
            #expect(leaderboard.first?["agentId"] as? String == org.owner.id.description)
            #expect(leaderboard.first?["resolved"] as? Int == 2)
            // Ranges are checked.
            #expect(
                try await client.send(
                    .get, "/api/v1/admin/analytics?from=2026-01-01&to=2025-01-01", headers: admin.headers
                ).status == .unprocessableContent)
            // Another organization's report is empty.
            let other = try await stores.makeOrganization("Other")
            let outsider = try await client.signIn(other.owner.email)
            let theirs = try await client.send(.get, "/api/v1/admin/analytics", headers: outsider.headers).json()
            #expect((theirs["volume"] as? [Any])?.isEmpty == true)
        }
    }
}
