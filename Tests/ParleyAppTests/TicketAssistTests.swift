import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyHTTP
import ParleyStore
import ParleyTesting
import Testing

/// AI for agents: classification by the model, drafted replies (accept, edit, dismiss, history)
/// and auto-resolution, against a scripted OpenAI-compatible server over loopback.
@Suite struct TicketAssistTests {
    static let classification = #"{"priority": "urgent", "category": "billing"}"#
    static let answer =
        "You can get a full refund within 30 days, no questions asked [A1].\n<decision>{\"decision\":\"answer\",\"citations\":[\"A1\"],\"confidence\":0.92}</decision>"

    /// Classification requests get JSON; everything else the answer.
    static func server() -> ScriptedLLMServer {
        ScriptedLLMServer(
            [],
            fallback: .respond { body in
                body.contains("You classify customer support tickets")
                    ? ScriptedLLMServer.reply(Self.classification) : ScriptedLLMServer.reply(Self.answer)
            })
    }

    /// A customer's new "Refund" ticket, in an organization with the scripted model and `settings`.
    static func refundTicket(
        _ client: any TestClientProtocol, _ stores: Stores, model url: String, settings: AssistantSettings
    ) async throws -> (OrganizationFixture, TestVisitor, String, Ticket.ID) {
        let org = try await StreamingAssistantTests.setUp(stores, providers: [url], settings: settings)
        let customer = try await TicketControllerTests.customer(client, org)
        let created = try await client.send(
            .post, "/api/v1/tickets", json: ["subject": "Refund", "body": "How do refunds work?"],
            headers: customer.headers)
        let id = try #require(try created.json()["id"] as? String)
        return (org, customer, id, try #require(Ticket.ID(id)))
    }

    @Test func aModelsClassificationIsReadCarefully() {
        #expect(
            TicketClassifier.parse(modelReply: #"Sure! {"priority":"High","category":"technical"}"#) == (
                .high, "technical"
            ))
        #expect(TicketClassifier.parse(modelReply: #"{"priority":"whenever","category":"cats"}"#) == (nil, nil))
        #expect(TicketClassifier.parse(modelReply: "no idea") == (nil, nil))
        let ticket = Ticket(
            id: .init(), organizationID: .init(), visitorID: nil, requesterEmail: "a@b.c", requesterName: nil,
            subject: "s", status: .open, priority: .medium, source: .form, chatSessionID: nil, lastSeq: 1,
            createdAt: Date(), updatedAt: Date())
        let draft = TicketDraft(
            organizationID: ticket.organizationID, ticketID: ticket.id, basedOnSeq: 1, body: "b", citations: [],
            confidence: 0.8, kind: "answer", provider: nil, model: nil, createdAt: Date())
        #expect(TicketDraft.mayAutoResolve(draft, threshold: 0.7, ticket: ticket, agentHasReplied: false))
        #expect(!TicketDraft.mayAutoResolve(draft, threshold: nil, ticket: ticket, agentHasReplied: false))
        #expect(!TicketDraft.mayAutoResolve(draft, threshold: 0.9, ticket: ticket, agentHasReplied: false))
        #expect(!TicketDraft.mayAutoResolve(draft, threshold: 0.7, ticket: ticket, agentHasReplied: true))
        var answered = ticket
        answered.lastSeq = 2  // someone wrote after the draft was made
        #expect(!TicketDraft.mayAutoResolve(draft, threshold: 0.7, ticket: answered, agentHasReplied: false))
        #expect(!draft.stillFits(answered))
        var article = draft
        article.kind = "article"
        #expect(!TicketDraft.mayAutoResolve(article, threshold: 0.1, ticket: ticket, agentHasReplied: false))
        var assigned = ticket
        assigned.assigneeID = .init()
        #expect(!TicketDraft.mayAutoResolve(draft, threshold: 0.7, ticket: assigned, agentHasReplied: false))
    }

    @Test(arguments: TestDatabase.all)
    func aNewTicketIsClassifiedByTheModelAndGetsADraftAgentsAcceptEditOrDismiss(database: TestDatabase)
        async throws
    {
        let server = Self.server()
        try await server.run { url in
            try await withTestApp(database, setup: .live, configure: { $0.allowLoopback() }) { client, stores in
                let org = try await StreamingAssistantTests.setUp(stores, providers: [url])
                let agent = try await client.signIn(org.owner.email)
                let customer = try await TicketControllerTests.customer(client, org)
                let created = try await client.send(
                    .post, "/api/v1/tickets",
                    json: ["subject": "Money back?", "body": "I paid twice this month, can I get a refund?"],
                    headers: customer.headers)
                let id = try #require(try created.json()["id"] as? String)
                let ticketID = try #require(Ticket.ID(id))

                // The model's classification replaces the keywords' (urgent, not medium).
                #expect(
                    try await eventually {
                        try await stores.tickets.ticket(ticketID, in: org.organization.id).priority == .urgent
                    })
                let seen = try await client.send(.get, "/api/v1/admin/tickets/\(id)", headers: agent.headers).json()
                #expect(seen["category"] as? String == "billing")
                let audit = try await stores.auditLog.list(
                    in: org.organization.id, entityID: ticketID.description, page: PageRequest())
                #expect(audit.items.contains { $0.action == "ticket.priority" && $0.actorKind == "assistant" })

                // A draft with its source and confidence.
                #expect(
                    try await eventually {
                        try await !stores.drafts.list(for: ticketID, in: org.organization.id).isEmpty
                    })
                var drafts =
                    try await client.send(.get, "/api/v1/admin/tickets/\(id)/drafts", headers: agent.headers)
                    .json()["data"] as? [[String: Any]]
                let first = try #require(drafts?.first)
                #expect(first["status"] as? String == "pending")
                #expect(
                    first["body"] as? String == "You can get a full refund within 30 days, no questions asked [A1].")
                #expect((first["citations"] as? [[String: Any]])?.first?["title"] as? String == "Refund policy")
                // Its grounding support: "asked" is the one content word no passage holds.
                #expect(first["confidence"] as? Double == 0.8)
                // Internal notes never reach the model.
                _ = try await client.send(
                    .post, "/api/v1/admin/tickets/\(id)/reply", json: ["body": "SECRET-NOTE-42", "internal": true],
                    headers: agent.headers)

                // Dismissed: nothing is sent; asked again: a new draft; edited: the edit is sent.
                let firstID = try #require(first["id"] as? String)
                let dismissed = try await client.send(
                    .post, "/api/v1/admin/tickets/\(id)/drafts/\(firstID)/dismiss", headers: agent.headers)
                #expect(try dismissed.json()["status"] as? String == "dismissed")
                let again = try await client.send(
                    .post, "/api/v1/admin/tickets/\(id)/drafts/\(firstID)/dismiss", headers: agent.headers)
                #expect(again.status == .conflict)
                let fresh = try await client.send(.post, "/api/v1/admin/tickets/\(id)/drafts", headers: agent.headers)
                #expect(fresh.status == .created)
                #expect(!server.lastBody.contains("SECRET-NOTE-42"))
                let freshID = try #require(try fresh.json()["id"] as? String)
                // A double click: two accepts at once send one reply; the other is a 409.
                async let one = client.send(
                    .post, "/api/v1/admin/tickets/\(id)/drafts/\(freshID)/accept",
                    json: ["body": "Yes: a full refund within 30 days. I've started it."], headers: agent.headers)
                async let other = client.send(
                    .post, "/api/v1/admin/tickets/\(id)/drafts/\(freshID)/accept",
                    json: ["body": "Yes: a full refund within 30 days. I've started it."], headers: agent.headers)
                let both = try await [one, other]
                #expect(Set(both.map(\.status.code)) == [200, 409])
                let accepted = try #require(both.first { $0.status == .ok })
                #expect(accepted.status == .ok, "\(accepted.text)")
                #expect((try accepted.json()["draft"] as? [String: Any])?["status"] as? String == "edited")
                #expect(
                    (try accepted.json()["ticket"] as? [String: Any])?["status"] as? String == "waiting_on_customer")
                let thread = try await client.send(.get, "/api/v1/tickets/\(id)", headers: customer.headers).json()
                let bodies = (thread["messages"] as? [[String: Any]])?.compactMap { $0["body"] as? String }
                #expect(bodies?.last == "Yes: a full refund within 30 days. I've started it.")

                // The history keeps every draft and what became of it.
                drafts =
                    try await client.send(.get, "/api/v1/admin/tickets/\(id)/drafts", headers: agent.headers)
                    .json()["data"] as? [[String: Any]]
                #expect(Set(drafts?.compactMap { $0["status"] as? String } ?? []) == ["dismissed", "edited"])
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aboveTheThresholdTheAssistantResolvesAndTheCustomerCanReopen(database: TestDatabase) async throws {
        let server = Self.server()
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let (org, customer, id, ticketID) = try await Self.refundTicket(
                    client, stores, model: url, settings: AssistantSettings(autoResolveThreshold: 0.75))
                #expect(
                    try await eventually {
                        try await stores.tickets.ticket(ticketID, in: org.organization.id).status == .resolved
                    })
                let ticket = try await client.send(.get, "/api/v1/tickets/\(id)", headers: customer.headers).json()
                #expect(ticket["aiResolved"] as? Bool == true)
                let last = (ticket["messages"] as? [[String: Any]])?.last
                #expect(last?["role"] as? String == "ai")
                #expect(
                    last?["body"] as? String == "You can get a full refund within 30 days, no questions asked [A1].")
                // The draft is marked sent just after the ticket is resolved.
                #expect(
                    try await eventually {
                        try await stores.drafts.list(for: ticketID, in: org.organization.id).map(\.status) == [
                            .autoSent
                        ]
                    })
                // Not what the customer needed: they reopen it, and it is no longer AI-resolved.
                let reopened = try await client.send(
                    .post, "/api/v1/tickets/\(id)/reopen", headers: customer.headers)
                #expect(reopened.status == .ok)
                #expect(try reopened.json()["aiResolved"] as? Bool == false)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func belowTheThresholdOrWithoutAModelNothingIsSentOnItsOwn(database: TestDatabase) async throws {
        let server = Self.server()
        try await server.run { url in
            try await withTestApp(
                database, setup: .live,
                configure: {
                    $0.assistantEnabled = true; $0.allowLoopback()
                }
            ) { client, stores in
                let (org, _, _, ticketID) = try await Self.refundTicket(
                    client, stores, model: url, settings: AssistantSettings(autoResolveThreshold: 0.95))
                #expect(
                    try await eventually {
                        try await !stores.drafts.list(for: ticketID, in: org.organization.id).isEmpty
                    })
                let ticket = try await stores.tickets.ticket(ticketID, in: org.organization.id)
                #expect(ticket.status == .open)
                #expect(!ticket.aiResolved)
            }
        }
        // With the assistant off (the team answers everything) a draft is made but never sent.
        try await server.run { url in
            try await withTestApp(database, setup: .live, configure: { $0.allowLoopback() }) { client, stores in
                let (org, _, _, ticketID) = try await Self.refundTicket(
                    client, stores, model: url, settings: AssistantSettings(autoResolveThreshold: 0.5))
                #expect(
                    try await eventually {
                        try await !stores.drafts.list(for: ticketID, in: org.organization.id).isEmpty
                    })
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await stores.tickets.ticket(ticketID, in: org.organization.id).status == .open)
                #expect(
                    try await stores.drafts.list(for: ticketID, in: org.organization.id).map(\.status) == [.pending])
            }
        }
        // No provider: the keyword classification stands, and a strong article is offered as a draft.
        try await withTestApp(database, setup: .live, configure: { $0.allowLoopback() }) { client, stores in
            let org = try await StreamingAssistantTests.setUp(stores, providers: [])
            let agent = try await client.signIn(org.owner.email)
            let customer = try await TicketControllerTests.customer(client, org)
            let created = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "Refund policy", "body": "What is your refund policy?"],
                headers: customer.headers)
            let id = try #require(try created.json()["id"] as? String)
            let drafted = try await client.send(.post, "/api/v1/admin/tickets/\(id)/drafts", headers: agent.headers)
            #expect(drafted.status == .created)
            #expect(try drafted.json()["kind"] as? String == "article")
            let unrelated = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "Hello", "body": "Is anyone there at all?"],
                headers: customer.headers)
            let other = try #require(try unrelated.json()["id"] as? String)
            let none = try await client.send(.post, "/api/v1/admin/tickets/\(other)/drafts", headers: agent.headers)
            #expect(none.status == .unprocessableContent)
            #expect(try none.errorCode() == "no_draft")
            let seen = try await stores.tickets.ticket(Ticket.ID(other)!, in: org.organization.id)
            #expect(seen.priority == .medium)
        }
    }
}
