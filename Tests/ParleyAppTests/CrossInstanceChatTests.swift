import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

/// The delivery promise across instances: a conversation written from two instances at once
/// reaches subscribers on both with every message once, in seq order, with no gap.
@Suite struct CrossInstanceChatTests {
    @Test(.enabled(if: TestDatabase.postgresURL != nil))
    func messagesWrittenOnTwoInstancesAtOnceReachEverySubscriberWithoutAGap() async throws {
        try await TestDatabase.withPostgresEngines(2) { engines in
            try await withTestApp(on: engines[0], setup: .live) { first, stores in
                try await withTestApp(on: engines[1], setup: .live) { second, _ in
                    let org = try await stores.makeOrganization()
                    let visitor = try await first.startConversation(siteKey: org.site.publicKey)
                    let agentOne = try await first.signIn(org.owner.email)
                    let agentTwo = try await second.signIn(org.owner.email)
                    let channel = "supportChat:\(visitor.sessionID)"
                    try await withTestSocket(first.realtimeURL(), headers: agentOne.headers) { one in
                        try await withTestSocket(second.realtimeURL(), headers: agentTwo.headers) { two in
                            for socket in [one, two] {
                                try socket.send(["type": "subscribe", "channel": channel])
                                _ = try await socket.next { $0["type"] as? String == "subscribed" }
                            }
                            // The visitor writes through instance one, the agent through instance two.
                            let count = 30
                            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                                for index in 0..<count {
                                    group.addTask {
                                        let status: HTTPResponse.Status
                                        if index % 2 == 0 {
                                            status = try await first.sendAlone(
                                                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                                                json: ["body": "visitor \(index)", "clientId": "v\(index)"],
                                                headers: visitor.headers)
                                        } else {
                                            status = try await second.sendAlone(
                                                .post, "/api/v1/admin/chats/\(visitor.sessionID)/reply",
                                                json: ["body": "agent \(index)"], headers: agentTwo.headers)
                                        }
                                        return Int(status.code)
                                    }
                                }
                                var statuses: [Int] = []
                                for try await status in group { statuses.append(status) }
                                return statuses
                            }
                            #expect(statuses.allSatisfy { $0 == 201 }, "\(statuses)")
                            let session = try await stores.chats.session(
                                try #require(ChatSession.ID(visitor.sessionID)), in: org.organization.id)
                            let last = Int(session.lastSeq)
                            #expect(last >= count)
                            for socket in [one, two] {
                                var seqs: [Int] = []
                                while seqs.last != last {
                                    let frame = try await socket.next(timeout: .seconds(10)) {
                                        $0["name"] as? String == "message.created"
                                    }
                                    seqs.append(try #require(frame["seq"] as? Int))
                                }
                                #expect(seqs == Array(1...last))
                            }
                        }
                    }
                }
            }
        }
    }
}
