import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyApp
import ParleyCore
import ParleyMail
import ParleyStore
import ParleyTesting
import Testing

/// Email, against a real SMTP server (aiosmtpd, `scripts/smtp-server`) delivering into a Maildir:
/// answers to tickets are emailed through the outbox, internal notes never; emails in become
/// replies or new tickets.
@Suite struct EmailTests {
    static let url = ProcessInfo.processInfo.environment["PARLEY_TEST_SMTP_URL"]
    static let maildir = ProcessInfo.processInfo.environment["PARLEY_TEST_SMTP_MAILDIR"]
    static let required = ProcessInfo.processInfo.environment["PARLEY_TEST_REQUIRE_SMTP"] == "1"

    /// A received message: its headers and its decoded text.
    struct Received {
        var headers: [String: String]
        var text: String
    }

    /// The messages in the Maildir sent to `recipient`.
    static func received(by recipient: String) throws -> [Received] {
        guard let maildir else { return [] }
        let folder = URL(fileURLWithPath: maildir).appendingPathComponent("new")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try names.sorted().compactMap { name in
            let raw = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                .replacingOccurrences(of: "\r\n", with: "\n")
            guard let split = raw.range(of: "\n\n") else { return nil }
            var headers: [String: String] = [:]
            for line in raw[..<split.lowerBound].split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            guard headers["to"]?.contains(recipient) == true else { return nil }
            let base64 = raw[split.upperBound...].filter { !$0.isWhitespace }
            let text = Data(base64Encoded: String(base64)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return Received(headers: headers, text: text)
        }
    }

    /// Runs `body` against a live app whose emails go to aiosmtpd (`scripts/smtp-server`); without
    /// it the test is skipped, or fails when scripts/test requires it.
    static func withMailApp(
        _ database: TestDatabase, configure: @escaping @Sendable (inout ParleyConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol, Stores) async throws -> Void
    ) async throws {
        guard let url = Self.url else {
            #expect(!Self.required, "PARLEY_TEST_SMTP_URL is not set: run scripts/smtp-server start")
            return
        }
        try await withTestApp(
            database, setup: .live,
            configure: {
                $0.mail = try? SMTPConfiguration(url: url, from: "support@acme.test")
                configure(&$0)
            }, body)
    }

    @Test func anEmailIsRenderedSafely() {
        let email = Email(
            from: .init("support@acme.test", name: "Acme \"Support\""), to: .init("ada@example.com", name: "Adä"),
            subject: "Refund\r\nBcc: everyone@example.com", text: "Line 1\n.\nLine 3", messageID: "<m1@acme.test>",
            inReplyTo: "<t1@acme.test>")
        let rendered = email.rendered(date: Date(timeIntervalSince1970: 0))
        let headers = rendered.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(headers.contains("Subject: Refund  Bcc: everyone@example.com"))
        #expect(!headers.contains { $0.hasPrefix("Bcc:") })
        #expect(headers.contains("From: \"Acme \\\"Support\\\"\" <support@acme.test>"))
        #expect(headers.contains("To: =?UTF-8?B?\(Data("Adä".utf8).base64EncodedString())?= <ada@example.com>"))
        #expect(headers.contains("In-Reply-To: <t1@acme.test>"))
        #expect(headers.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        let body = rendered.components(separatedBy: "\r\n\r\n")[1].filter { !$0.isWhitespace }
        #expect(Data(base64Encoded: body).map { String(decoding: $0, as: UTF8.self) } == "Line 1\r\n.\r\nLine 3")
        #expect(SMTPError.rejected(command: "RCPT", code: 451, message: "later").isTransient)
        #expect(!SMTPError.rejected(command: "RCPT", code: 550, message: "no such user").isTransient)
        #expect(throws: SMTPError.self) { try SMTPConfiguration(url: "http://x", from: "a@b.c") }
        #expect((try? SMTPConfiguration(url: "smtps://u:p%40ss@mail.example.com", from: "a@b.c"))?.port == 465)
        #expect((try? SMTPConfiguration(url: "smtps://u:p%40ss@mail.example.com", from: "a@b.c"))?.password == "p@ss")
        // Decoded once: a literal % in a password survives.
        #expect((try? SMTPConfiguration(url: "smtps://u:100%25@mail.example.com", from: "a@b.c"))?.password == "100%")
        #expect(!email.rendered().contains("Auto-Submitted"))
        // A long non-ASCII subject: encoded words of 75 characters at most, each on its own line.
        let long = Email(
            from: .init("support@acme.test"), to: .init("ada@example.com"),
            subject: String(repeating: "Überweisung fehlgeschlagen ", count: 8), text: "x")
        let subjectLines = long.rendered().components(separatedBy: "\r\n").drop { !$0.hasPrefix("Subject:") }
            .prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") }
        #expect(subjectLines.count > 3)
        #expect(subjectLines.allSatisfy { $0.count <= 78 })
        let decoded = subjectLines.map { line in
            let word = line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "Subject: ", with: "")
            return String(
                decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(
            decoded == String(repeating: "Überweisung fehlgeschlagen ", count: 8).trimmingCharacters(in: .whitespaces))
        // A password travels only over TLS (STARTTLS is required to another machine), or to this one.
        #expect(throws: SMTPError.self) {
            try SMTPConfiguration(url: "smtp://u:p@mail.example.com?starttls=never", from: "a@b.c")
        }
        #expect((try? SMTPConfiguration(url: "smtp://u:p@127.0.0.1:2525", from: "a@b.c")) != nil)
    }

    @Test(arguments: TestDatabase.all)
    func answersAreEmailedNotesNeverAndEmailsInBecomeRepliesOrTickets(database: TestDatabase) async throws {
        guard let url = Self.url else {
            #expect(!Self.required, "PARLEY_TEST_SMTP_URL is not set: run scripts/smtp-server start")
            return
        }
        let customerEmail = "ada-\(database)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        try await withTestApp(
            database, setup: .live,
            configure: { $0.mail = try? SMTPConfiguration(url: url, from: "support@acme.test") }
        ) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let apiKey = try await stores.apiKeys.create(
                name: "mail provider", role: .agent, in: org.organization.id, by: nil, creatorRole: .owner)
            let key: HTTPFields = [.authorization: "Bearer \(apiKey.secret)"]

            // An email in opens a ticket (source email), without the quoted history.
            let opened = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: [
                    "from": customerEmail, "name": "Ada", "subject": "Fwd: Export broken",
                    "text": "The export stops at 50%.\n\nOn Mon, someone wrote:\n> old stuff",
                ], headers: key)
            #expect(opened.status == .created, "\(opened.text)")
            let id = try #require(try opened.json()["ticketId"] as? String)
            var ticket = try await client.send(.get, "/api/v1/admin/tickets/\(id)", headers: agent.headers).json()
            #expect(ticket["source"] as? String == "email")
            #expect(ticket["subject"] as? String == "Export broken")
            #expect((ticket["messages"] as? [[String: Any]])?.first?["body"] as? String == "The export stops at 50%.")

            // A note and an answer: exactly one email, the answer, threaded by the reference.
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/reply",
                json: ["body": "SECRET: the export service is down", "internal": true], headers: agent.headers)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/reply", json: ["body": "Fixed: try again now."],
                headers: agent.headers)
            // Answers: the ticket's "received" email is not one (CustomerEmailTests has it).
            @Sendable func answers() throws -> [Received] {
                try Self.received(by: customerEmail).filter { $0.headers["subject"]?.hasPrefix("Re:") == true }
            }
            #expect(try await eventually { try !answers().isEmpty })
            try await Task.sleep(for: .milliseconds(1500))  // a second job would have run by now
            let mails = try answers()
            #expect(mails.count == 1)
            let mail = try #require(mails.first)
            let reference = InboundEmail.reference(for: id)
            #expect(mail.headers["subject"] == "Re: Export broken [#\(reference)]")
            #expect(mail.text.contains("Fixed: try again now."))
            #expect(!mail.text.contains("SECRET"))
            #expect(mail.headers["in-reply-to"] == "<ticket-\(id)@acme.test>")

            // The customer answers by email: their reply, without the quote, reopens the thread.
            let replied = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: [
                    "from": customerEmail.uppercased(), "subject": "Re: Export broken [#\(reference)]",
                    "text": "Works now, thanks!\n\n> Fixed: try again now.",
                ], headers: key)
            #expect(try replied.json()["outcome"] as? String == "reply")
            ticket = try await client.send(.get, "/api/v1/admin/tickets/\(id)", headers: agent.headers).json()
            #expect((ticket["messages"] as? [[String: Any]])?.last?["body"] as? String == "Works now, thanks!")
            #expect(ticket["status"] as? String == "open")  // unassigned: back to open

            // Someone else quoting the reference gets their own ticket; auto-replies are dropped.
            let other = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: ["from": "mallory@example.com", "subject": "Re: [#\(reference)]", "text": "Let me in"],
                headers: key)
            #expect(try other.json()["outcome"] as? String == "created")
            #expect(try other.json()["ticketId"] as? String != id)
            let auto = try await client.send(
                .post, "/api/v1/admin/inbound/email",
                json: [
                    "from": customerEmail, "subject": "Out of office", "text": "Away", "autoSubmitted": "auto-replied",
                ],
                headers: key)
            #expect(auto.status == .accepted)
            #expect(try auto.json()["outcome"] as? String == "ignored")
        }
    }
}
