import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyHTTP
import ParleyMail
import ParleyStore
import ParleyTesting
import Testing

/// Every customer and teammate hears what they should, exactly once, through the outbox and a
/// real SMTP server (aiosmtpd): a ticket received, answered and resolved (with rating links that
/// work once), the team told of a new ticket, an assignee of their assignment, a visitor who left
/// of the answers they did not read; an address that unsubscribed hears nothing more.
@Suite struct CustomerEmailTests {
    /// The mail to `address`, once the outbox has nothing left to send.
    static func settled(_ stores: Stores, to address: String) async throws -> [EmailTests.Received] {
        _ = try await eventually(seconds: 15) {
            let counts = try await stores.outbox.counts()
            return (counts["pending"] ?? 0) + (counts["running"] ?? 0) == 0
        }
        return try EmailTests.received(by: address)
    }

    /// What follows `prefix` in each word of `text` that has it (links in an email's text).
    static func words(in text: String, after prefix: String) -> [String] {
        text.split(whereSeparator: { $0.isWhitespace }).compactMap { word in
            word.range(of: prefix).map { String(word[$0.upperBound...]) }
        }
    }

    /// The paths of the `/rate/…` or `/unsubscribe/…` links in `text`, for the test client.
    static func links(in text: String, _ kind: String) -> [String] {
        Self.words(in: text, after: "http://parley.test/\(kind)/").map { "/\(kind)/" + $0 }
    }

    /// The headers of a mail provider's inbound webhook (an agent's API key).
    static func mailProvider(_ stores: Stores, _ org: OrganizationFixture) async throws -> HTTPFields {
        let key = try await stores.apiKeys.create(
            name: "mail", role: .agent, in: org.organization.id, by: nil, creatorRole: .owner)
        return [.authorization: "Bearer \(key.secret)"]
    }

    static func unique(_ name: String, _ database: TestDatabase) -> String {
        "\(name)-\(database)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
    }

    @Test(arguments: TestDatabase.all)
    func aTicketsRequesterAndTheTeamHearOfItsLifeOnce(database: TestDatabase) async throws {
        let customer = Self.unique("ada", database)
        let team = Self.unique("team", database)
        try await EmailTests.withMailApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let site = try await client.send(
                .patch, "/api/v1/admin/sites/\(org.site.id)", json: ["widget": ["supportEmail": team]],
                headers: agent.headers)
            #expect(site.status == .ok, "\(site.text)")
            let provider = try await Self.mailProvider(stores, org)
            let opened = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: ["from": customer, "name": "Ada", "subject": "Export broken", "text": "It stops at 50%."],
                headers: provider)
            let id = try #require(try opened.json()["ticketId"] as? String)
            let reference = InboundEmail.reference(for: id)
            let admin = "/api/v1/admin/tickets/\(id)"
            _ = try await client.send(
                .post, "\(admin)/reply", json: ["body": "SECRET: ask finance", "internal": true], headers: agent.headers
            )
            _ = try await client.send(.post, "\(admin)/reply", json: ["body": "Try again now."], headers: agent.headers)
            let resolved = try await client.send(
                .post, "\(admin)/status", json: ["status": "resolved"], headers: agent.headers)
            #expect(resolved.status == .ok)

            // The requester: received, the answer, resolved; threaded on the first; never the note.
            let mails = try await Self.settled(stores, to: customer)
            // (A Maildir's file names do not keep the order mail arrived in.)
            #expect(
                mails.compactMap { $0.headers["subject"] }.sorted() == [
                    "Re: Export broken [#\(reference)]", "Resolved: Export broken [#\(reference)]",
                    "We received your request: Export broken [#\(reference)]",
                ])
            #expect(!mails.contains { $0.text.contains("SECRET") })
            let root = "<ticket-\(id)@acme.test>"
            let receipt = mails.first { $0.headers["subject"]?.hasPrefix("We received") == true }
            #expect(receipt?.headers["message-id"] == root)
            let answers = mails.filter { $0.headers["subject"]?.hasPrefix("We received") == false }
            #expect(answers.count == 2)
            #expect(answers.allSatisfy { $0.headers["in-reply-to"] == root && $0.headers["references"] == root })
            #expect(mails.allSatisfy { $0.headers["from"]?.contains("Acme") == true })
            #expect(
                mails.allSatisfy {
                    $0.headers["list-unsubscribe"]?.hasPrefix("<http://parley.test/unsubscribe/") == true
                })
            #expect(mails.allSatisfy { $0.headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click" })

            // The team: one email, answering goes to the requester.
            let told = try await Self.settled(stores, to: team)
            #expect(told.count == 1)
            #expect(told.first?.headers["subject"] == "New ticket: Export broken [#\(reference)]")
            #expect(told.first?.headers["reply-to"]?.contains(customer) == true)
            #expect(told.first?.text.contains("It stops at 50%.") == true)

            // Five rating links, each for its score; the first followed counts, once.
            let rating = try #require(mails.first { $0.headers["subject"]?.hasPrefix("Resolved:") == true })
            let links = Self.links(in: rating.text, "rate")
            #expect(links.count == 5)
            let four = try await client.send(.get, links[3])
            #expect(four.status == .ok)
            #expect(four.text.contains("4 out of 5"))
            #expect(four.headers[.contentType]?.hasPrefix("text/html") == true)
            let comment = try await client.execute(
                uri: links[3], method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "comment=Quick+and+kind%21"))
            #expect(comment.status == .ok)
            let five = try await client.send(.get, links[4])
            #expect(five.text.contains("Already rated"))
            #expect(five.text.contains("4 out of 5"))
            let ticket = try await client.send(.get, admin, headers: agent.headers).json()
            let satisfaction = ticket["satisfaction"] as? [String: Any]
            #expect(satisfaction?["stars"] as? Int == 4)
            #expect(satisfaction?["comment"] as? String == "Quick and kind!")
            // A changed link is no link.
            let forged = try await client.send(.get, String(links[3].dropLast(2)) + "xx")
            #expect(forged.status == .notFound)

            // Unsubscribed: the next answer is not emailed.
            let unsubscribe = try #require(Self.links(in: rating.text, "unsubscribe").first)
            let confirm = try await client.send(.get, unsubscribe)
            #expect(confirm.text.contains(customer))
            let done = try await client.execute(
                uri: unsubscribe, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "List-Unsubscribe=One-Click"))
            #expect(done.status == .ok)
            _ = try await client.send(
                .post, "\(admin)/status", json: ["status": "in_progress"], headers: agent.headers)
            _ = try await client.send(.post, "\(admin)/reply", json: ["body": "One more thing"], headers: agent.headers)
            let after = try await Self.settled(stores, to: customer)
            #expect(after.count == 3)
            #expect(!after.contains { $0.text.contains("One more thing") })
        }
    }

    @Test(arguments: TestDatabase.all)
    func anAssigneeIsToldInTheAppAndByEmail(database: TestDatabase) async throws {
        let samEmail = Self.unique("sam", database)
        try await EmailTests.withMailApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let owner = try await client.signIn(org.owner.email)
            let sam = try await stores.makeAgent(in: org.organization.id, email: samEmail)
            let samSession = try await client.signIn(samEmail)
            // A conversation given to Sam.
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "v1", "body": "Where is my parcel?"], headers: visitor.headers)
            let assigned = try await client.send(
                .post, "/api/v1/admin/chats/\(visitor.sessionID)/assign", json: ["agentId": sam.id.description],
                headers: owner.headers)
            #expect(assigned.status == .ok, "\(assigned.text)")
            // A ticket given to Sam.
            let customer = try await TicketControllerTests.customer(client, org)
            let created = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "Refund", "body": "Please."], headers: customer.headers)
            let ticketID = try #require(try created.json()["id"] as? String)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(ticketID)/assign", json: ["agentId": sam.id.description],
                headers: owner.headers)
            // Sam assigns himself one more: nobody tells him what he did himself.
            let own = try await client.startConversation(siteKey: org.site.publicKey, visitorId: "visitor-b")
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(own.sessionID)/assign", json: ["agentId": sam.id.description],
                headers: samSession.headers)

            let bell = try await client.send(.get, "/api/v1/admin/notifications", headers: samSession.headers).json()
            let titles = (bell["data"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }.sorted()
            #expect(titles == ["Assigned to you: Refund", "Conversation assigned to you: Where is my parcel?"])
            let mails = try await Self.settled(stores, to: samEmail)
            #expect(
                mails.compactMap { $0.headers["subject"] }.sorted() == [
                    "Assigned to you: Refund", "Conversation assigned to you: Where is my parcel?",
                ])
            #expect(mails.contains { $0.text.contains("http://parley.test/app#/tickets/\(ticketID)") })

            // Sam turns assignment emails off: the bell still rings, no email comes.
            let preferences = try await client.send(
                .put, "/api/v1/me/preferences", json: ["notifications": [:], "email": ["assignment": false]],
                headers: samSession.headers)
            #expect(preferences.status == .ok, "\(preferences.text)")
            #expect((try preferences.json()["email"] as? [String: Bool])?["sla_breach"] == true)
            let third = try await client.startConversation(siteKey: org.site.publicKey, visitorId: "visitor-c")
            _ = try await client.send(
                .post, "/api/v1/admin/chats/\(third.sessionID)/assign", json: ["agentId": sam.id.description],
                headers: owner.headers)
            #expect(try await Self.settled(stores, to: samEmail).count == 2)
            let rung = try await client.send(.get, "/api/v1/admin/notifications", headers: samSession.headers).json()
            #expect((rung["data"] as? [Any])?.count == 3)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aVisitorWhoLeftGetsTheUnreadAnswersInOneEmailAndAnswersBack(database: TestDatabase) async throws {
        let address = Self.unique("bea", database)
        // A delay a busy machine's requests fit in: "read in time" and "both in one email" hold.
        try await EmailTests.withMailApp(database, configure: { $0.chatEmailDelay = 4 }) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let hash = VisitorTokens.userHash(userID: "bea", secret: org.site.identitySecret)
            let visitor = try await client.startConversation(
                siteKey: org.site.publicKey, user: ["id": "bea", "email": address, "name": "Bea", "userHash": hash])
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/messages",
                json: ["clientId": "v1", "body": "Do you ship to Norway?"], headers: visitor.headers)
            let chat = "/api/v1/admin/chats/\(visitor.sessionID)"
            // Read in time: no email.
            _ = try await client.send(.post, "\(chat)/reply", json: ["body": "Let me check."], headers: agent.headers)
            let history = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=0", headers: visitor.headers
            ).json()
            _ = try await client.send(
                .post, "/api/v1/chat/sessions/\(visitor.sessionID)/read",
                json: ["seq": history["lastSeq"] as? Int ?? 0],
                headers: visitor.headers)
            // Gone: two answers and a note, one email with both answers.
            _ = try await client.send(.post, "\(chat)/reply", json: ["body": "Yes, we do."], headers: agent.headers)
            _ = try await client.send(
                .post, "\(chat)/reply", json: ["body": "SECRET: margins", "internal": true], headers: agent.headers)
            _ = try await client.send(
                .post, "\(chat)/reply", json: ["body": "Delivery takes 5 days."], headers: agent.headers)
            // Every row sent or skipped (each waits out the delay first).
            let mails = try await Self.settled(stores, to: address)
            #expect(mails.count == 1)
            let mail = try #require(mails.first)
            #expect(mail.text.contains("Yes, we do."))
            #expect(mail.text.contains("Delivery takes 5 days."))
            #expect(!mail.text.contains("Let me check."))
            #expect(!mail.text.contains("SECRET"))
            let subject = try #require(mail.headers["subject"])
            #expect(subject.contains("[#c-"))

            // Bea answers the email: it goes on in the conversation.
            let provider = try await Self.mailProvider(stores, org)
            let answered = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: [
                    "from": address, "subject": "Re: \(subject)",
                    "text": "Great, ordering now.\n\nOn Sat, Acme wrote:\n> Yes, we do.",
                ], headers: provider)
            #expect(answered.status == .ok, "\(answered.text)")
            #expect(try answered.json()["outcome"] as? String == "message")
            let messages =
                try await client.send(
                    .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=0", headers: visitor.headers
                ).json()["data"] as? [[String: Any]] ?? []
            #expect(messages.last?["body"] as? String == "Great, ordering now.")
            #expect(messages.last?["role"] as? String == "user")
            // Someone else's address with the same reference opens a ticket instead.
            let stranger = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: ["from": "mallory@example.com", "subject": "Re: \(subject)", "text": "Hi"],
                headers: provider)
            #expect(try stranger.json()["outcome"] as? String == "created")
        }
    }

    @Test(arguments: TestDatabase.all)
    func anAgentAnsweringFromTheirMailClientRepliesAsThemselves(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let provider = try await Self.mailProvider(stores, org)
            let opened = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: ["from": "cy@example.com", "subject": "Invoice", "text": "Wrong VAT."],
                headers: provider)
            let id = try #require(try opened.json()["ticketId"] as? String)
            let reference = InboundEmail.reference(for: id)
            let answered = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: [
                    "from": org.owner.email.uppercased(), "subject": "Re: Invoice [#\(reference)]",
                    "text": "Corrected, see the new invoice.\n\n> Wrong VAT.",
                ], headers: provider)
            #expect(try answered.json()["outcome"] as? String == "agent_reply")
            let ticket = try await client.send(.get, "/api/v1/admin/tickets/\(id)", headers: agent.headers).json()
            let last = (ticket["messages"] as? [[String: Any]])?.last
            #expect(last?["role"] as? String == "agent")
            #expect(last?["authorAgentId"] as? String == org.owner.id.description)
            #expect(last?["body"] as? String == "Corrected, see the new invoice.")
            #expect(ticket["status"] as? String == "waiting_on_customer")
            #expect(ticket["firstResponseAt"] is String)
        }
    }

    /// The token of the account link in `text` (`http://parley.test/app#/<kind>/TOKEN`).
    static func accountToken(in text: String, _ kind: String) -> String? {
        Self.words(in: text, after: "http://parley.test/app#/\(kind)/").first
    }

    @Test(arguments: TestDatabase.all)
    func anInviteeChoosesTheirPasswordAndAForgottenOneIsResetOnce(database: TestDatabase) async throws {
        let newbie = Self.unique("newbie", database)
        try await EmailTests.withMailApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let owner = try await client.signIn(org.owner.email)
            let invited = try await client.send(
                .post, "/api/v1/admin/agents/invite", json: ["email": newbie, "name": "Newbie", "role": "agent"],
                headers: owner.headers)
            #expect(invited.status == .created, "\(invited.text)")
            // Nobody knows a password yet: the invitee can't sign in before choosing one.
            await #expect(throws: (any Error).self) { try await client.signIn(newbie) }
            let mails = try await Self.settled(stores, to: newbie)
            #expect(mails.count == 1)
            #expect(mails.first?.headers["subject"] == "You're invited to join Acme on Parley")
            let token = try #require(Self.accountToken(in: mails.first?.text ?? "", "invitation"))
            let accepted = try await client.send(
                .post, "/api/v1/auth/invitation/accept",
                json: ["token": token, "password": "a-password-of-mine", "name": "New Bie"])
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(try accepted.json()["email"] as? String == newbie)
            _ = try await client.signIn(newbie, password: "a-password-of-mine")
            let again = try await client.send(
                .post, "/api/v1/auth/invitation/accept", json: ["token": token, "password": "another-password-1"])
            #expect(again.status == .gone)

            // Forgot password: the same answer for an unknown address, one email for a known one.
            let unknown = try await client.send(
                .post, "/api/v1/auth/password/forgot", json: ["email": "nobody-\(newbie)"])
            #expect(unknown.status == .accepted)
            let session = try await client.signIn(newbie, password: "a-password-of-mine")
            let forgot = try await client.send(.post, "/api/v1/auth/password/forgot", json: ["email": newbie])
            #expect(forgot.status == .accepted)
            let resets = try await Self.settled(stores, to: newbie).filter {
                $0.headers["subject"] == "Reset your Parley password"
            }
            #expect(resets.count == 1)
            let reset = try #require(Self.accountToken(in: resets.first?.text ?? "", "reset"))
            let changed = try await client.send(
                .post, "/api/v1/auth/password/reset", json: ["token": reset, "password": "my-new-password-2"])
            #expect(changed.status == .ok, "\(changed.text)")
            // The old session ended; the old password no longer works; the link works once.
            #expect(try await client.send(.get, "/api/v1/me", headers: session.headers).status == .unauthorized)
            await #expect(throws: (any Error).self) { try await client.signIn(newbie, password: "a-password-of-mine") }
            _ = try await client.signIn(newbie, password: "my-new-password-2")
            let reused = try await client.send(
                .post, "/api/v1/auth/password/reset", json: ["token": reset, "password": "my-new-password-3"])
            #expect(reused.status == .gone)
            let forged = try await client.send(
                .post, "/api/v1/auth/password/reset",
                json: ["token": "x" + reset.dropFirst(), "password": "whatever-123"])
            #expect(forged.status == .gone)
        }
    }

    @Test func anInvitationNeedsAMailServer() async throws {
        try await withTestApp(.sqlite) { client, stores in
            let org = try await stores.makeOrganization()
            let owner = try await client.signIn(org.owner.email)
            let invited = try await client.send(
                .post, "/api/v1/admin/agents/invite", json: ["email": "x@example.com", "role": "agent"],
                headers: owner.headers)
            #expect(invited.status == .conflict)
            #expect(invited.text.contains("Email is not configured"))
            // Nor a reset link; saying so tells nothing about who has an account.
            let forgot = try await client.send(.post, "/api/v1/auth/password/forgot", json: ["email": "x@example.com"])
            #expect(forgot.status == .conflict)
            let settings = try await client.send(.get, "/api/v1/admin/settings/email", headers: owner.headers).json()
            #expect(settings["configured"] as? Bool == false)
        }
    }

    @Test(arguments: TestDatabase.all)
    func anOrganizationSignsItsEmailsAndTakesRepliesWhereItSays(database: TestDatabase) async throws {
        let customer = Self.unique("dee", database)
        try await EmailTests.withMailApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let owner = try await client.signIn(org.owner.email)
            let bad = try await client.send(
                .put, "/api/v1/admin/settings/email", json: ["replyTo": "not an address"], headers: owner.headers)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.errorField() == "replyTo")
            let saved = try await client.send(
                .put, "/api/v1/admin/settings/email", json: ["fromName": "Acme Help", "replyTo": "help@acme.test"],
                headers: owner.headers)
            #expect(saved.status == .ok, "\(saved.text)")
            #expect(try saved.json()["from"] as? String == "support@acme.test")
            #expect(try saved.json()["configured"] as? Bool == true)
            let provider = try await Self.mailProvider(stores, org)
            _ = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: ["from": customer, "subject": "Signed", "text": "Who signs?"],
                headers: provider)
            let mails = try await Self.settled(stores, to: customer)
            #expect(mails.count == 1)
            #expect(mails.first?.headers["from"] == "\"Acme Help\" <support@acme.test>")
            #expect(mails.first?.headers["reply-to"] == "<help@acme.test>")
        }
    }

    @Test(arguments: TestDatabase.all)
    func anSLAAlertOnATicketNobodyHasGoesToEveryAdmin(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await stores.makeAgent(in: org.organization.id, role: .admin)
            let agent = try await stores.makeAgent(in: org.organization.id, role: .agent)
            let customer = try await TicketControllerTests.customer(client, org)
            let created = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "Late", "body": "Hello?"], headers: customer.headers)
            #expect(created.status == .created)
            let result = try await stores.ticketWriter().sweep(
                now: Date().addingTimeInterval(30 * 24 * 3600), autoCloseAfter: 365 * 24 * 3600)
            let told = Set(result.notifications.map(\.agentID))
            #expect(told == [org.owner.id, admin.id])
            #expect(!told.contains(agent.id))
            #expect(result.notifications.allSatisfy { $0.kind == .slaBreach })
        }
    }
}

/// STARTTLS against aiosmtpd with a certificate from a throwaway CA (`scripts/smtp-server`).
@Suite struct StartTLSTests {
    static let environment = ProcessInfo.processInfo.environment

    static func email(to address: String) -> Email {
        Email(
            from: .init("support@acme.test", name: "Acme"), to: .init(address), subject: "Over TLS",
            text: "Only over TLS.")
    }

    @Test func mailGoesOverStartTLSToAVerifiedServerOnly() async throws {
        guard let url = Self.environment["PARLEY_TEST_SMTP_STARTTLS_URL"],
            let ca = Self.environment["PARLEY_TEST_SMTP_CA"],
            let maildir = Self.environment["PARLEY_TEST_SMTP_STARTTLS_MAILDIR"], let plain = EmailTests.url
        else {
            #expect(!EmailTests.required, "the STARTTLS server is not set: run scripts/smtp-server start")
            return
        }
        var configuration = try SMTPConfiguration(url: url, from: "support@acme.test")
        #expect(configuration.startTLS == .required)
        configuration.trustedCAFile = ca
        let address = "tls-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        try await SMTPClient(configuration).send(Self.email(to: address))
        let folder = URL(fileURLWithPath: maildir).appendingPathComponent("new")
        let arrived = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { name in
            (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))?.contains(address) == true
        }
        #expect(arrived.count == 1)

        // The certificate is verified: without trusting its CA, nothing is sent.
        var untrusted = configuration
        untrusted.trustedCAFile = nil
        await #expect(throws: (any Error).self) { try await SMTPClient(untrusted).send(Self.email(to: address)) }
        // A server that does not offer STARTTLS gets nothing when it is required.
        let refused = try SMTPConfiguration(url: plain + "?starttls=required", from: "support@acme.test")
        await #expect(throws: SMTPError.self) { try await SMTPClient(refused).send(Self.email(to: address)) }
        let after = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { name in
            (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))?.contains(address) == true
        }
        #expect(after.count == 1)
    }

    @Test func aPasswordGoesOnlyOverTLS() throws {
        #expect((try? SMTPConfiguration(url: "smtp://u:p@mail.example.com:587", from: "a@b.c"))?.startTLS == .required)
        #expect((try? SMTPConfiguration(url: "smtp://u:p@mail.example.com", from: "a@b.c"))?.startTLS == .required)
        #expect(throws: SMTPError.self) {
            try SMTPConfiguration(url: "smtp://u:p@mail.example.com?starttls=never", from: "a@b.c")
        }
        #expect(throws: SMTPError.self) {
            try SMTPConfiguration(url: "smtp://u:p@mail.example.com?starttls=opportunistic", from: "a@b.c")
        }
        #expect(throws: SMTPError.self) {
            try SMTPConfiguration(url: "smtps://mail.example.com?starttls=required", from: "a@b.c")
        }
        #expect((try? SMTPConfiguration(url: "smtp://127.0.0.1:2525", from: "a@b.c"))?.startTLS == .never)
        #expect((try? SMTPConfiguration(url: "smtps://u:p@mail.example.com", from: "a@b.c"))?.startTLS == .never)
    }
}

/// Emails caused while the mail server is down arrive once each when it comes back.
@Suite struct MailOutageTests {
    @Test(arguments: TestDatabase.all)
    func emailsCausedDuringAnOutageArriveOnceAfterIt(database: TestDatabase) async throws {
        guard let python = ProcessInfo.processInfo.environment["PARLEY_TEST_PYTHON"] else {
            #expect(!EmailTests.required, "PARLEY_TEST_PYTHON is not set: run through scripts/test")
            return
        }
        let port = Int.random(in: 41_000...48_000)
        let maildir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "parley-outage-\(UUID().uuidString)")
        for folder in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(
                at: maildir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let customer = "outage-\(database)@example.com"
        try await withTestApp(
            database, setup: .live,
            configure: {
                $0.mail = try? SMTPConfiguration(url: "smtp://127.0.0.1:\(port)", from: "support@acme.test")
                $0.outboxRetry.base = 0.2
            }
        ) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let provider = try await CustomerEmailTests.mailProvider(stores, org)
            let opened = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: ["from": customer, "subject": "Down", "text": "Is it down?"],
                headers: provider)
            let id = try #require(try opened.json()["ticketId"] as? String)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/reply", json: ["body": "Back soon."], headers: agent.headers)
            // Down: every email was tried and failed, none was lost.
            #expect(
                try await eventually {
                    // The receipt and the team's email were tried; the answer waits behind the
                    // receipt (one ticket's emails leave in order).
                    let rows = try await stores.outbox.list(in: org.organization.id, page: PageRequest(limit: 50)).items
                    return rows.count == 3 && rows.filter { $0.attempts > 1 }.count == 2
                })
            #expect(try await stores.outbox.counts()["delivered"] == nil)
            // Up again.
            let server = Process()
            server.executableURL = URL(fileURLWithPath: python)
            server.arguments = [
                "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir.path,
            ]
            // Its own output: an inherited pipe would keep `swift test` waiting for it.
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            defer {
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
            let received = { () -> [String] in
                let names =
                    (try? FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("new").path))
                    ?? []
                return names.compactMap {
                    try? String(
                        contentsOf: maildir.appendingPathComponent("new").appendingPathComponent($0), encoding: .utf8)
                }
            }
            _ = try await eventually(seconds: 30) {
                let counts = try await stores.outbox.counts()
                return (counts["pending"] ?? 0) + (counts["running"] ?? 0) == 0
            }
            let mails = received()
            let toCustomer = mails.filter { $0.contains("\nTo: <\(customer)>") }
            #expect(toCustomer.count == 2, "\(mails.count) emails")
            #expect(toCustomer.filter { $0.contains("Subject: Re: Down") }.count == 1)
            #expect(toCustomer.filter { $0.contains("Subject: We received your request: Down") }.count == 1)
            // The team's email too, once.
            #expect(mails.filter { $0.contains("Subject: New ticket: Down") }.count == 1)
        }
    }
}
