import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyHTTP
import ParleyStore
import ParleyTesting
import Testing

/// Tickets through the API, as customers (identified visitors) and agents see them.
@Suite struct TicketControllerTests {
    /// An identified visitor of the organization's site.
    static func customer(_ client: any TestClientProtocol, _ org: OrganizationFixture, id: String = "user-1")
        async throws -> TestVisitor
    {
        try await client.startConversation(
            siteKey: org.site.publicKey,
            user: [
                "id": id, "email": "\(id)@example.com", "name": "Ada",
                "userHash": VisitorTokens.userHash(userID: id, secret: org.site.identitySecret),
            ])
    }

    static func json(_ response: TestResponse) throws -> [String: Any] { try response.json() }

    @Test(arguments: TestDatabase.all)
    func aTicketGoesThroughItsLifecycleAndNotesNeverReachTheCustomer(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let customer = try await Self.customer(client, org)

            // The offline form.
            let created = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "Invoice is wrong", "body": "It says 40 dollars, not 4."],
                headers: customer.headers)
            #expect(created.status == .created)
            let ticket = try created.json()
            let id = try #require(ticket["id"] as? String)
            #expect(ticket["status"] as? String == "open")
            #expect(ticket["sla"] == nil)  // customers don't see the SLA
            #expect(ticket["category"] == nil)  // nor the classification
            #expect((ticket["messages"] as? [[String: Any]])?.first?["role"] as? String == "customer")

            // The agent sees it with its SLA deadlines, takes it, writes a note and replies.
            var seen = try await client.send(.get, "/api/v1/admin/tickets/\(id)", headers: agent.headers).json()
            #expect(seen["category"] as? String == "billing")  // classified from its words
            #expect(seen["priority"] as? String == "medium")
            let sla = try #require(seen["sla"] as? [String: Any])
            #expect(sla["firstResponse"] as? String == "ok")
            #expect(sla["firstResponseDueAt"] as? String != nil)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/assign", json: ["agentId": org.owner.id.description],
                headers: agent.headers)
            let note = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/reply",
                json: ["body": "SECRET: customer is on the legacy plan", "internal": true], headers: agent.headers)
            #expect(note.status == .created)
            #expect(try note.json()["status"] as? String == "in_progress")  // a note changes nothing
            let replied = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/reply", json: ["body": "Fixed, sorry!"], headers: agent.headers
            ).json()
            #expect(replied["status"] as? String == "waiting_on_customer")
            #expect(replied["firstResponseAt"] as? String != nil)
            #expect((replied["sla"] as? [String: Any])?["firstResponse"] as? String == "met")
            #expect((replied["sla"] as? [String: Any])?["paused"] as? Bool == true)

            // The note is nowhere the customer can look: the ticket, the list.
            let mine = try await client.send(.get, "/api/v1/tickets/\(id)", headers: customer.headers)
            #expect(!mine.text.contains("SECRET"))
            #expect((try mine.json()["messages"] as? [[String: Any]])?.count == 2)
            let list = try await client.send(.get, "/api/v1/tickets", headers: customer.headers)
            #expect(!list.text.contains("SECRET"))
            #expect((try list.json()["data"] as? [Any])?.count == 1)
            // ...but agents see it, flagged.
            seen = try await client.send(.get, "/api/v1/admin/tickets/\(id)", headers: agent.headers).json()
            let notes = (seen["messages"] as? [[String: Any]])?.filter { $0["internal"] as? Bool == true }
            #expect(notes?.count == 1)

            // The customer answers: back to the agent.
            let answered = try await client.send(
                .post, "/api/v1/tickets/\(id)/reply", json: ["body": "Thanks, works now"], headers: customer.headers)
            #expect(try answered.json()["status"] as? String == "in_progress")
            // Rating before resolution is refused; resolve, rate once.
            let early = try await client.send(
                .post, "/api/v1/tickets/\(id)/rate", json: ["stars": 5], headers: customer.headers)
            #expect(early.status == .conflict)
            let resolved = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/status", json: ["status": "resolved"], headers: agent.headers
            ).json()
            #expect(resolved["status"] as? String == "resolved")
            #expect(resolved["allowedStatuses"] as? [String] == ["closed", "in_progress", "open"])
            let rated = try await client.send(
                .post, "/api/v1/tickets/\(id)/rate", json: ["stars": 4, "comment": "Quick"], headers: customer.headers)
            #expect((try rated.json()["satisfaction"] as? [String: Any])?["stars"] as? Int == 4)
            let again = try await client.send(
                .post, "/api/v1/tickets/\(id)/rate", json: ["stars": 1], headers: customer.headers)
            #expect(again.status == .conflict)
            let badStars = try await client.send(
                .post, "/api/v1/tickets/\(id)/rate", json: ["stars": 9], headers: customer.headers)
            #expect(badStars.status == .unprocessableContent)
            // A reply reopens it; closing is final, and a forbidden change names both states.
            let reopened = try await client.send(
                .post, "/api/v1/tickets/\(id)/reply", json: ["body": "Actually, one more thing"],
                headers: customer.headers)
            #expect(try reopened.json()["status"] as? String == "in_progress")
            _ = try await client.send(.post, "/api/v1/tickets/\(id)/close", headers: customer.headers)
            let refused = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/status", json: ["status": "open"], headers: agent.headers)
            #expect(refused.status == .conflict)
            let message = (try refused.json()["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("closed") && message.contains("open"))
            let late = try await client.send(
                .post, "/api/v1/tickets/\(id)/reply", json: ["body": "Hello?"], headers: customer.headers)
            #expect(late.status == .conflict)

            // Another customer, and another organization, see nothing of it.
            let other = try await Self.customer(client, org, id: "user-2")
            #expect(try await client.send(.get, "/api/v1/tickets/\(id)", headers: other.headers).status == .notFound)
            #expect(
                try await client.send(
                    .post, "/api/v1/tickets/\(id)/reply", json: ["body": "hi"], headers: other.headers
                ).status == .notFound)
            let elsewhere = try await stores.makeOrganization("Other")
            let outsider = try await client.signIn(elsewhere.owner.email)
            #expect(
                try await client.send(.get, "/api/v1/admin/tickets/\(id)", headers: outsider.headers).status
                    == .notFound)
            // An anonymous visitor has no ticket list.
            let anonymous = try await client.startConversation(siteKey: org.site.publicKey)
            #expect(try await client.send(.get, "/api/v1/tickets", headers: anonymous.headers).status == .forbidden)
        }
    }

    @Test(arguments: TestDatabase.all)
    func agentsFilterSearchSortPageAndActInBulk(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let subjects = [
                ("Refund for order 1234", "low"), ("Cannot log in", "high"), ("Refund twice charged", "urgent"),
                ("Export my data", "medium"), ("Password reset link expired", "high"),
            ]
            var ids: [String] = []
            for (subject, priority) in subjects {
                let ticket = try await stores.ticketWriter().create(
                    .init(
                        requesterEmail: "c@example.com", subject: subject,
                        body: "Details about \(subject.lowercased())",
                        priority: TicketPriority(rawValue: priority)!), in: org.organization.id)
                ids.append(ticket.id.description)
            }
            func list(_ query: String) async throws -> [String] {
                let page = try await client.send(.get, "/api/v1/admin/tickets?\(query)", headers: agent.headers)
                #expect(page.status == .ok, "\(query): \(page.text)")
                return (try page.json()["data"] as? [[String: Any]] ?? []).compactMap { $0["subject"] as? String }
            }
            #expect(try await list("q=refund").sorted() == ["Refund for order 1234", "Refund twice charged"])
            #expect(try await list("q=charged%20twice") == ["Refund twice charged"])  // every word, any order
            #expect(try await list("q=expired%20reset") == ["Password reset link expired"])
            #expect(try await list("priority=high").count == 2)
            #expect(try await list("priority=urgent,low&q=refund").count == 2)
            #expect(try await list("sort=oldest&limit=2") == ["Refund for order 1234", "Cannot log in"])
            // Keyset paging walks everything once.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.send(
                    .get, "/api/v1/admin/tickets?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""),
                    headers: agent.headers
                ).json()
                seen += (page["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count == 5 && Set(seen) == Set(ids))
            #expect(
                try await client.send(.get, "/api/v1/admin/tickets?status=nope", headers: agent.headers).status
                    == .unprocessableContent)

            // Bulk: assign three to me; one id of nothing fails alone.
            let bulk = try await client.send(
                .post, "/api/v1/admin/tickets/bulk",
                json: [
                    "ids": Array(ids.prefix(3)) + [UUID().uuidString.lowercased()], "action": "assign",
                    "agentId": org.owner.id.description,
                ],
                headers: agent.headers
            ).json()
            let results = bulk["results"] as? [[String: Any]] ?? []
            #expect(results.map { $0["ok"] as? Bool } == [true, true, true, false])
            #expect(try await list("assignee=me").count == 3)
            #expect(try await list("assignee=unassigned").count == 2)
            #expect(try await list("status=in_progress").count == 3)
            let counts = try await client.send(.get, "/api/v1/admin/tickets/counts", headers: agent.headers).json()
            #expect(counts["in_progress"] as? Int == 3 && counts["open"] as? Int == 2)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(ids[0])/tags", json: ["tags": ["Billing", "vip"]],
                headers: agent.headers)
            #expect(try await list("tag=billing") == ["Refund for order 1234"])
        }
    }

    @Test(arguments: TestDatabase.all)
    func slaPoliciesAndBusinessHoursSetTheDeadlines(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            let defaults = try await client.send(.get, "/api/v1/admin/sla-policies", headers: admin.headers).json()
            #expect((defaults["policies"] as? [Any])?.count == 4)
            let set = try await client.send(
                .put, "/api/v1/admin/sla-policies",
                json: [
                    "policies": [
                        [
                            "priority": "high", "firstResponseMinutes": 15, "resolutionMinutes": 120,
                            "businessHoursOnly": false,
                        ]
                    ]
                ],
                headers: admin.headers)
            #expect(set.status == .ok)
            let hours = try await client.send(
                .put, "/api/v1/admin/settings/business-hours",
                json: [
                    "timeZone": "Europe/Paris", "weeklyHours": ["monday": [["start": "09:00", "end": "17:30"]]],
                    "holidays": ["2026-12-25"],
                ], headers: admin.headers)
            #expect(hours.status == .ok)
            #expect((try hours.json()["weeklyHours"] as? [String: Any])?["monday"] != nil)
            let badZone = try await client.send(
                .put, "/api/v1/admin/settings/business-hours",
                json: ["timeZone": "Mars/Olympus", "weeklyHours": [:], "holidays": []], headers: admin.headers)
            #expect(badZone.status == .unprocessableContent)
            let badTime = try await client.send(
                .put, "/api/v1/admin/settings/business-hours",
                json: [
                    "timeZone": "UTC", "weeklyHours": ["monday": [["start": "25:00", "end": "26:00"]]], "holidays": [],
                ],
                headers: admin.headers)
            #expect(badTime.status == .unprocessableContent)

            let high = try await stores.ticketWriter().create(
                .init(requesterEmail: "c@example.com", subject: "Down", body: "Site down", priority: .high),
                in: org.organization.id)
            #expect(high.firstResponseDueAt == high.createdAt.addingTimeInterval(15 * 60))
            #expect(high.resolutionDueAt == high.createdAt.addingTimeInterval(120 * 60))
            // A priority without a policy has no deadlines; changing priority recomputes them.
            let low = try await stores.ticketWriter().create(
                .init(requesterEmail: "c@example.com", subject: "Idea", body: "A feature", priority: .low),
                in: org.organization.id)
            #expect(low.firstResponseDueAt == nil)
            let raised = try await client.send(
                .post, "/api/v1/admin/tickets/\(low.id)/priority", json: ["priority": "high"], headers: admin.headers
            ).json()
            #expect((raised["sla"] as? [String: Any])?["firstResponseDueAt"] as? String != nil)
            // Breached tickets are a filter away: one opened three hours ago (first response due in
            // 15 minutes) is late; the fresh ones are not.
            let past = Stores(engine: stores.engine, now: { Date().addingTimeInterval(-3 * 3600) })
            let late = try await past.ticketWriter().create(
                .init(requesterEmail: "c@example.com", subject: "Waiting", body: "Hello?", priority: .high),
                in: org.organization.id)
            let breached =
                try await client.send(.get, "/api/v1/admin/tickets?sla=breached", headers: admin.headers)
                .json()["data"] as? [[String: Any]] ?? []
            #expect(breached.compactMap { $0["id"] as? String } == [late.id.description])
            #expect((breached.first?["sla"] as? [String: Any])?["firstResponse"] as? String == "breached")
        }
    }

    @Test(arguments: TestDatabase.all)
    func outsideBusinessHoursAHandoffSaysWhenTheTeamIsBack(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            // Open only on the weekday two days from now: closed today, whatever today is.
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let openDay = utc.component(.weekday, from: Date().addingTimeInterval(2 * 86400))
            _ = try await stores.tickets.setCalendar(
                BusinessCalendar(timeZone: "UTC", weeklyHours: [openDay: [.init(start: 540, end: 1020)]]),
                in: org.organization.id)
            let config = try await client.send(.get, "/api/v1/widget/config?site=\(org.site.publicKey)").json()
            #expect(config["withinBusinessHours"] as? Bool == false)
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/escalate", headers: visitor.headers)
            let messages =
                try await client.send(
                    .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages", headers: visitor.headers
                ).json()["data"] as? [[String: Any]] ?? []
            let notice = messages.last?["body"] as? String ?? ""
            let dayName = utc.weekdaySymbols[openDay - 1]
            #expect(notice.contains("away") && notice.contains(dayName) && notice.contains("9:00"), "\(notice)")
        }
    }
}

@Suite struct CannedResponseControllerTests {
    @Test(arguments: TestDatabase.all)
    func adminsWriteAgentsPickAndFillThemAndTheAuditLogKeepsTrack(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            let created = try await client.send(
                .post, "/api/v1/admin/canned-responses",
                json: [
                    "shortcut": "/refund", "title": "Refund",
                    "body": "Hi {{visitor.name}}, refunds take 5 days. {{agent.name}} (ticket {{ticket.id}})",
                ],
                headers: admin.headers)
            #expect(created.status == .created)
            let id = try #require(try created.json()["id"] as? String)
            #expect(try created.json()["shortcut"] as? String == "refund")
            let taken = try await client.send(
                .post, "/api/v1/admin/canned-responses", json: ["shortcut": "refund", "title": "Again", "body": "x"],
                headers: admin.headers)
            #expect(taken.status == .conflict)
            _ = try await client.send(
                .post, "/api/v1/admin/canned-responses",
                json: ["shortcut": "hours", "title": "Hours", "body": "9 to 5"],
                headers: admin.headers)
            let picked = try await client.send(.get, "/api/v1/admin/canned-responses?q=ref", headers: admin.headers)
                .json()
            #expect((picked["data"] as? [[String: Any]])?.map { $0["shortcut"] as? String } == ["refund"])

            let ticket = try await stores.ticketWriter().create(
                .init(requesterEmail: "ada@example.com", requesterName: "Ada", subject: "Refund", body: "Where is it?"),
                in: org.organization.id)
            let agentAccount = try await stores.makeAgent(
                in: org.organization.id, role: .agent, email: "bob@acme.example")
            let agent = try await client.signIn("bob@acme.example")
            let rendered = try await client.send(
                .post, "/api/v1/admin/canned-responses/\(id)/use", json: ["ticketId": ticket.id.description],
                headers: agent.headers
            ).json()
            #expect(
                rendered["body"] as? String == "Hi Ada, refunds take 5 days. \(agentAccount.name) (ticket \(ticket.id))"
            )
            let list = try await client.send(.get, "/api/v1/admin/canned-responses", headers: agent.headers).json()
            #expect((list["data"] as? [[String: Any]])?.first?["usageCount"] as? Int == 1)  // most used first
            // Agents use them; only admins write them or read the audit log.
            #expect(
                try await client.send(
                    .post, "/api/v1/admin/canned-responses", json: ["shortcut": "x", "title": "x", "body": "x"],
                    headers: agent.headers
                ).status == .forbidden)
            #expect(try await client.send(.get, "/api/v1/admin/audit-log", headers: agent.headers).status == .forbidden)

            // The audit log: who did what to the ticket.
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticket.id)/assign", json: ["agentId": agentAccount.id.description],
                headers: admin.headers)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticket.id)/reply", json: ["body": "On it", "internal": true],
                headers: agent.headers)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticket.id)/status", json: ["status": "resolved"], headers: agent.headers
            )
            let log =
                try await client.send(
                    .get, "/api/v1/admin/audit-log?entity=\(ticket.id)", headers: admin.headers
                ).json()["data"] as? [[String: Any]] ?? []
            // (Entries of one millisecond may come in either order: look them up by action.)
            func entry(_ action: String) -> [String: Any]? { log.first { $0["action"] as? String == action } }
            #expect(
                Set(log.compactMap { $0["action"] as? String }) == [
                    "ticket.status", "ticket.note", "ticket.assign", "ticket.create",
                ])
            #expect(log.first?["action"] as? String != "ticket.create" || log.count == 1)
            #expect(entry("ticket.status")?["details"] as? String == "in_progress -> resolved")
            #expect(entry("ticket.status")?["actorAgentId"] as? String == agentAccount.id.description)
            #expect(entry("ticket.assign")?["actorAgentId"] as? String == org.owner.id.description)
            #expect(entry("ticket.create")?["actorKind"] as? String == "customer")
            // Another organization sees none of it.
            let other = try await stores.makeOrganization("Other")
            let outsider = try await client.signIn(other.owner.email)
            let theirs = try await client.send(.get, "/api/v1/admin/audit-log", headers: outsider.headers).json()
            #expect((theirs["data"] as? [Any])?.isEmpty == true)
            #expect(
                try await client.send(
                    .post, "/api/v1/admin/canned-responses/\(id)/use", json: [:], headers: outsider.headers
                ).status == .notFound)
        }
    }

    @Test(arguments: TestDatabase.all)
    func agentsHearOfAssignmentsAndCustomerRepliesOnceAndLive(database: TestDatabase) async throws {
        try await withTestApp(database, setup: .live) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            let bob = try await stores.makeAgent(in: org.organization.id, role: .agent, email: "bob@acme.example")
            let bobSession = try await client.signIn("bob@acme.example")
            let customer = try await TicketControllerTests.customer(client, org)
            let created = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "Broken export", "body": "It fails"],
                headers: customer.headers
            ).json()
            let id = try #require(created["id"] as? String)
            try await withTestSocket(client.realtimeURL(), headers: bobSession.headers) { inbox in
                try inbox.send(["type": "subscribe", "channel": "inbox:\(org.organization.id)"])
                _ = try await inbox.next(where: { $0["type"] as? String == "subscribed" })
                _ = try await client.send(
                    .post, "/api/v1/admin/tickets/\(id)/assign", json: ["agentId": bob.id.description],
                    headers: admin.headers)
                let pushed = try await inbox.next(where: { $0["name"] as? String == "notification.created" })
                let data = pushed["data"] as? [String: Any]
                #expect(data?["kind"] as? String == "assignment")
                #expect(data?["agentId"] as? String == bob.id.description)
                _ = try await client.send(
                    .post, "/api/v1/tickets/\(id)/reply", json: ["body": "Any news?"], headers: customer.headers)
                let reply = try await inbox.next(where: { $0["name"] as? String == "notification.created" })
                #expect((reply["data"] as? [String: Any])?["kind"] as? String == "customer_reply")
            }
            var mine = try await client.send(.get, "/api/v1/admin/notifications", headers: bobSession.headers).json()
            #expect(mine["unread"] as? Int == 2)
            let items = mine["data"] as? [[String: Any]] ?? []
            #expect(items.map { $0["kind"] as? String } == ["customer_reply", "assignment"])
            let first = try #require(items.first?["id"] as? String)
            let read = try await client.send(
                .post, "/api/v1/admin/notifications/read", json: ["ids": [first]], headers: bobSession.headers
            ).json()
            #expect(read["updated"] as? Int == 1 && read["unread"] as? Int == 1)
            _ = try await client.send(.post, "/api/v1/admin/notifications/read", json: [:], headers: bobSession.headers)
            mine = try await client.send(.get, "/api/v1/admin/notifications?unread=true", headers: bobSession.headers)
                .json()
            #expect((mine["data"] as? [Any])?.isEmpty == true)
            // The admin who assigned got nothing; nobody reads another's.
            let theirs = try await client.send(.get, "/api/v1/admin/notifications", headers: admin.headers).json()
            #expect(theirs["unread"] as? Int == 0)
        }
    }
}

@Suite struct ExportControllerTests {
    @Test(arguments: TestDatabase.all)
    func exportsStreamEveryRowFilteredNeutralisedAndWithoutNotes(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await client.signIn(org.owner.email)
            let dangerous = try await stores.ticketWriter().create(
                .init(requesterEmail: "c@example.com", subject: "=HYPERLINK(\"http://evil\",\"x\")", body: "Hi"),
                in: org.organization.id)
            _ = try await stores.ticketWriter().apply(
                .internalNote, to: dangerous.id, in: org.organization.id,
                message: .init(role: .agent, body: "SECRET note", isInternal: true))
            // More than one page (500) of tickets, to be streamed.
            for index in 0..<520 {
                _ = try await stores.ticketWriter().create(
                    .init(requesterEmail: "c@example.com", subject: "Ticket \(index), with a comma", body: "Body"),
                    in: org.organization.id)
            }
            let csv = try await client.send(.get, "/api/v1/admin/export/tickets?format=csv", headers: admin.headers)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"tickets-") == true)
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.count == 1 + 521)
            #expect(lines.first?.hasPrefix("id,subject,status") == true)
            #expect(csv.text.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""))
            #expect(!csv.text.contains(",=HYPERLINK"))
            #expect(csv.text.contains("\"Ticket 7, with a comma\""))
            #expect(!csv.text.contains("SECRET"))
            // JSON, filtered like the list.
            _ = try await stores.ticketWriter().apply(
                .changeStatus(.pending), to: dangerous.id, in: org.organization.id)
            let json = try await client.send(
                .get, "/api/v1/admin/export/tickets?format=json&status=pending", headers: admin.headers)
            let rows = try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [[String: String]]
            #expect(rows?.count == 1)
            #expect(rows?.first?["id"] == dangerous.id.description)
            // Conversations too; agents may not export; a bad format is refused.
            _ = try await client.startConversation(siteKey: org.site.publicKey)
            let conversations = try await client.send(
                .get, "/api/v1/admin/export/conversations?format=json", headers: admin.headers)
            #expect((try JSONSerialization.jsonObject(with: Data(conversations.text.utf8)) as? [Any])?.count == 1)
            _ = try await stores.makeAgent(in: org.organization.id, role: .agent, email: "agent@acme.example")
            let agent = try await client.signIn("agent@acme.example")
            #expect(
                try await client.send(.get, "/api/v1/admin/export/tickets", headers: agent.headers).status == .forbidden
            )
            #expect(
                try await client.send(.get, "/api/v1/admin/export/tickets?format=xls", headers: admin.headers).status
                    == .unprocessableContent)
        }
    }
}
