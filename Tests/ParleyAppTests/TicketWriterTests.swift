import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyHTTP
import ParleyStore
import ParleyTesting
import Synchronization
import Testing

/// The one road for tickets: changes racing on one ticket from two instances reach every
/// subscriber once each, in seq order, with no gap, and end in the state the database holds.
@Suite struct TicketWriterTests {
    @Test(.enabled(if: TestDatabase.postgresURL != nil))
    func changesRacingFromTwoInstancesReachEverySubscriberOnceInOrder() async throws {
        try await TestDatabase.withPostgresEngines(2) { engines in
            try await withTestApp(on: engines[0], setup: .live) { first, stores in
                try await withTestApp(on: engines[1], setup: .live) { second, _ in
                    let org = try await stores.makeOrganization()
                    let customer = try await TicketControllerTests.customer(first, org)
                    let created = try await first.send(
                        .post, "/api/v1/tickets", json: ["subject": "Race", "body": "Start."],
                        headers: customer.headers)
                    let id = try #require(try created.json()["id"] as? String)
                    let agentOne = try await first.signIn(org.owner.email)
                    let agentTwo = try await second.signIn(org.owner.email)
                    let channel = "support:\(id)"
                    try await withTestSocket(first.realtimeURL(), headers: agentOne.headers) { one in
                        try await withTestSocket(second.realtimeURL(), headers: agentTwo.headers) { two in
                            try await withTestSocket(second.realtimeURL(token: customer.token)) { requester in
                                for socket in [one, two, requester] {
                                    try socket.send(["type": "subscribe", "channel": channel])
                                    _ = try await socket.next { $0["type"] as? String == "subscribed" }
                                }
                                // Replies, notes, status, priority and tags, at once, through both instances.
                                let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                                    for index in 0..<30 {
                                        group.addTask {
                                            let client = index % 2 == 0 ? first : second
                                            let agent = index % 2 == 0 ? agentOne : agentTwo
                                            let path = "/api/v1/admin/tickets/\(id)"
                                            let status: HTTPResponse.Status
                                            switch index % 6 {
                                            case 0:
                                                status = try await client.sendAlone(
                                                    .post, "\(path)/reply", json: ["body": "reply \(index)"],
                                                    headers: agent.headers)
                                            case 1:
                                                status = try await client.sendAlone(
                                                    .post, "\(path)/reply",
                                                    json: ["body": "note \(index)", "internal": true],
                                                    headers: agent.headers)
                                            case 2:
                                                status = try await client.sendAlone(
                                                    .post, "/api/v1/tickets/\(id)/reply",
                                                    json: ["body": "customer \(index)"], headers: customer.headers)
                                            case 3:
                                                status = try await client.sendAlone(
                                                    .post, "\(path)/priority",
                                                    json: ["priority": ["low", "high", "urgent"][index % 3]],
                                                    headers: agent.headers)
                                            case 4:
                                                status = try await client.sendAlone(
                                                    .post, "\(path)/tags", json: ["tags": ["t\(index)"]],
                                                    headers: agent.headers)
                                            default:
                                                // May be refused (409) when the ticket is already pending.
                                                status = try await client.sendAlone(
                                                    .post, "\(path)/status", json: ["status": "pending"],
                                                    headers: agent.headers)
                                            }
                                            return (index, Int(status.code))
                                        }
                                    }
                                    var statuses: [(Int, Int)] = []
                                    for try await status in group { statuses.append(status) }
                                    return statuses
                                }
                                #expect(statuses.count == 30)
                                var writes = 0
                                var publicWrites = 0
                                for (index, code) in statuses {
                                    let kind = index % 6
                                    #expect(
                                        code < 300 || (kind == 5 && code == 409), "change \(index) answered \(code)")
                                    guard code < 300, kind <= 2 else { continue }
                                    writes += 1
                                    if kind != 1 { publicWrites += 1 }
                                }
                                let lastSeq = 1 + writes
                                #expect(lastSeq == 16)
                                let final = try await stores.tickets.ticket(
                                    try #require(Ticket.ID(id)), in: org.organization.id)
                                #expect(final.lastSeq == Int64(lastSeq))
                                for socket in [one, two] {
                                    // Every message once, in seq order, with no gap; then the final state.
                                    var seqs: [Int] = []
                                    while seqs.last != lastSeq {
                                        let frame = try await socket.next(timeout: .seconds(10)) {
                                            $0["name"] as? String == "message.created"
                                        }
                                        seqs.append(try #require(frame["seq"] as? Int))
                                    }
                                    #expect(seqs == Array(2...lastSeq))
                                    var state: [String: Any] = [:]
                                    while (state["tags"] as? [String]) != final.tags
                                        || state["priority"] as? String != final.priority.rawValue
                                        || state["status"] as? String != final.status.rawValue
                                        || state["lastSeq"] as? Int != lastSeq
                                    {
                                        let frame = try await socket.next(timeout: .seconds(10)) {
                                            $0["name"] as? String == "ticket.updated"
                                        }
                                        state = try #require(frame["data"] as? [String: Any])
                                    }
                                    let stray = await socket.collect(
                                        type: "event", name: "message.created", for: .milliseconds(300))
                                    #expect(stray.isEmpty, "a message shown twice: \(stray)")
                                }
                                // The requester: the public messages only, each once, in order.
                                var seen: [Int] = []
                                while seen.count < publicWrites {
                                    let frame = try await requester.next(timeout: .seconds(10)) {
                                        $0["name"] as? String == "message.created"
                                    }
                                    #expect(
                                        ((frame["data"] as? [String: Any])?["body"] as? String)?.hasPrefix("note")
                                            == false)
                                    seen.append(try #require(frame["seq"] as? Int))
                                }
                                #expect(seen == seen.sorted() && Set(seen).count == seen.count)
                            }
                        }
                    }
                }
            }
        }
    }
}
