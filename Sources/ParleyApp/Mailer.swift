import Foundation
import Logging
import ParleyCore
import ParleyMail
import ParleyStore

/// Sends the outbox's emails (`MailJob`), each rendered from the data as it stands now: what no
/// longer applies is skipped with a log line (an answer read in the widget, a ticket reopened
/// before its "resolved" email, an address that unsubscribed). Throws to have a row retried (a
/// refusal the server calls permanent too: it ends dead after the retry budget, where admins see it).
struct Mailer: Sendable {
    let stores: Stores
    let mail: SMTPConfiguration
    /// The public URL, for links (ratings, unsubscribes, the dashboard).
    let baseURL: String
    let logger: Logger

    var domain: String { self.mail.from.split(separator: "@").last.map(String.init) ?? "parley.local" }

    func send(_ item: Outbox.Item) async throws {
        let job = try JSONDecoder().decode(MailJob.self, from: Data(item.payload.utf8))
        guard let organizationID = Organization.ID(job.organization) else { return }
        let email: Email?
        switch job.kind ?? .ticketReply {
        case .ticketReceived: email = try await self.received(job, organizationID)
        case .ticketReply: email = try await self.reply(job, organizationID)
        case .ticketResolved: email = try await self.resolved(job, organizationID)
        case .chatUnread: email = try await self.unread(job, organizationID)
        case .teamTicket: email = try await self.teamTicket(job, organizationID)
        case .teamNotice: email = try await self.teamNotice(job, organizationID)
        case .accountInvitation, .accountReset: email = try await self.account(job, organizationID)
        }
        guard var email else { return }
        // The organization's own sender name, and where its customers' replies go.
        let settings = try await self.stores.mailDirectory.settings(in: organizationID)
        if let name = settings.fromName { email.from.name = name }
        if job.isToCustomer, let replyTo = settings.replyTo { email.replyTo = Email.Address(replyTo) }
        if job.isToCustomer, try await self.stores.suppressions.isSuppressed(email.to.email, in: organizationID) {
            self.logger.info(
                "Not emailing an address that unsubscribed", metadata: ["parley.mail.kind": "\(item.eventType)"])
            return
        }
        try await SMTPClient(self.mail).send(email)
        self.logger.info("Sent an email", metadata: ["parley.mail.kind": "\(item.eventType)"])
    }

    // MARK: To customers

    func ticket(_ job: MailJob, _ organizationID: Organization.ID) async throws -> Ticket? {
        guard let id = job.ticket.flatMap(Ticket.ID.init) else { return nil }
        let ticket = try await self.stores.tickets.ticket(id, in: organizationID)
        return ticket.requesterEmail.isEmpty ? nil : ticket
    }

    /// The thread's root: every email of a ticket answers it, so mail clients keep one thread.
    func root(_ ticket: Ticket) -> String { "<ticket-\(ticket.id)@\(self.domain)>" }

    /// The organization as the sender (its own name from its settings replaces this when sent).
    func sender(_ organization: Organization) -> Email.Address {
        Email.Address(self.mail.from, name: self.mail.fromName ?? organization.name)
    }

    /// An email to a customer: the unsubscribe footer and `List-Unsubscribe` come with it.
    func customerEmail(
        to recipient: Email.Address, organization: Organization, subject: String, text: String, messageID: String,
        inReplyTo: String?
    ) -> Email {
        var email = Email(
            from: self.sender(organization), to: recipient, subject: subject,
            text: text + "\n\n" + self.footer(for: recipient.email, in: organization), messageID: messageID,
            inReplyTo: inReplyTo)
        email.unsubscribeURL = self.unsubscribeURL(recipient.email, organization.id)
        return email
    }

    /// An email to a ticket's requester.
    func customerEmail(
        _ ticket: Ticket, organization: Organization, subject: String, text: String, messageID: String,
        inReplyTo: String?
    ) -> Email {
        self.customerEmail(
            to: Email.Address(ticket.requesterEmail, name: ticket.requesterName), organization: organization,
            subject: subject, text: text, messageID: messageID, inReplyTo: inReplyTo)
    }

    func unsubscribeURL(_ address: String, _ organizationID: Organization.ID) -> String {
        let link = MailLink(
            action: .unsubscribe, organization: organizationID.description, email: address.lowercased(),
            expires: Date().addingTimeInterval(MailLink.unsubscribeLifetime))
        return "\(self.baseURL)/unsubscribe/\(self.stores.mailLinks.sign(link))"
    }

    func footer(for address: String, in organization: Organization) -> String {
        "You get this email because you asked \(organization.name) for help.\n"
            + "Stop these emails: \(self.unsubscribeURL(address, organization.id))"
    }

    func received(_ job: MailJob, _ organizationID: Organization.ID) async throws -> Email? {
        guard let ticket = try await self.ticket(job, organizationID) else { return nil }
        let organization = try await self.stores.organizations.find(organizationID)
        let reference = InboundEmail.reference(for: ticket.id.description)
        let hello = ticket.requesterName.map { "Hello \($0)," } ?? "Hello,"
        return self.customerEmail(
            ticket, organization: organization, subject: "We received your request: \(ticket.subject) [#\(reference)]",
            text: """
                \(hello)

                We have your request "\(ticket.subject)" and will reply as soon as we can.
                Its reference is #\(reference). Reply to this email to add anything.

                --
                \(organization.name)
                """, messageID: self.root(ticket), inReplyTo: nil)
    }

    func reply(_ job: MailJob, _ organizationID: Organization.ID) async throws -> Email? {
        guard let ticket = try await self.ticket(job, organizationID), let seq = job.seq else { return nil }
        let messages = try await self.stores.tickets.messages(
            of: ticket.id, in: organizationID, includeInternal: true, after: seq - 1, limit: 1)
        guard let message = messages.first, message.seq == seq, Visibility.reachesCustomer(message) else {
            return nil
        }
        // One thread with a conversation: what the visitor read in the widget needs no email.
        if let chatSeq = message.chatSeq, let sessionID = ticket.chatSessionID,
            let session = try? await self.stores.chats.session(sessionID, in: organizationID),
            session.visitorReadSeq >= chatSeq
        {
            self.logger.info(
                "A ticket reply was read in the widget; no email",
                metadata: ["parley.ticket.id": "\(ticket.id)", "parley.ticket.seq": "\(message.seq)"])
            return nil
        }
        let organization = try await self.stores.organizations.find(organizationID)
        var signer = organization.name
        if let author = message.authorAgentID,
            let agent = try? await self.stores.agents.find(author, in: organizationID)
        {
            signer = "\(agent.name), \(organization.name)"
        } else if message.role == .ai {
            signer = "\(organization.name)'s assistant"
        }
        let reference = InboundEmail.reference(for: ticket.id.description)
        return self.customerEmail(
            ticket, organization: organization, subject: "Re: \(ticket.subject) [#\(reference)]",
            text: """
                \(message.body)

                --
                \(signer)
                Reply to this email to answer. Your request: #\(reference)
                """, messageID: "<ticket-\(ticket.id)-\(message.seq)@\(self.domain)>", inReplyTo: self.root(ticket))
    }

    func resolved(_ job: MailJob, _ organizationID: Organization.ID) async throws -> Email? {
        guard let ticket = try await self.ticket(job, organizationID) else { return nil }
        // Reopened before this went out: it would be wrong now.
        guard ticket.status == .resolved || ticket.status == .closed, let resolvedAt = ticket.resolvedAt else {
            return nil
        }
        let organization = try await self.stores.organizations.find(organizationID)
        let reference = InboundEmail.reference(for: ticket.id.description)
        let expires = Date().addingTimeInterval(MailLink.ratingLifetime)
        let labels = [1: "Very poor", 2: "Poor", 3: "OK", 4: "Good", 5: "Excellent"]
        let links = (1...5).map { stars in
            let token = self.stores.mailLinks.sign(
                MailLink(
                    action: .rate, organization: organizationID.description, ticket: ticket.id.description,
                    stars: stars, expires: expires))
            return "\(stars) – \(labels[stars] ?? ""): \(self.baseURL)/rate/\(token)"
        }
        return self.customerEmail(
            ticket, organization: organization, subject: "Resolved: \(ticket.subject) [#\(reference)]",
            text: """
                Your request "\(ticket.subject)" (#\(reference)) is resolved.

                How did we do? One click rates us from 1 to 5:
                \(links.joined(separator: "\n"))

                Still need help? Reply to this email and we'll pick it up again.

                --
                \(organization.name)
                """,
            messageID:
                "<ticket-\(ticket.id)-resolved-\(Int64(resolvedAt.timeIntervalSince1970 * 1000))@\(self.domain)>",
            inReplyTo: self.root(ticket))
    }

    /// A conversation's answers the visitor has not read, all of them in one email (each row
    /// sends what is unread and not yet emailed; the next finds nothing left).
    func unread(_ job: MailJob, _ organizationID: Organization.ID) async throws -> Email? {
        guard let sessionID = job.session.flatMap(ChatSession.ID.init), let seq = job.seq else { return nil }
        let session = try await self.stores.chats.session(sessionID, in: organizationID)
        let emailed = try await self.stores.mailDirectory.emailedSeq(of: sessionID)
        guard session.visitorReadSeq < seq, emailed < seq else {
            self.logger.info(
                "A conversation's answer was read in the widget, or emailed already; no email",
                metadata: ["parley.session.id": "\(sessionID)", "parley.seq": "\(seq)"])
            return nil
        }
        let visitor = try await self.stores.chats.visitor(session.visitorID, in: organizationID)
        guard let address = visitor.email, !address.isEmpty else { return nil }
        let after = max(session.visitorReadSeq, emailed)
        let answers = try await self.stores.chats.messages(in: sessionID, after: after, limit: 50).filter {
            Visibility.reachesCustomer($0) && ($0.role == .agent || $0.role == .ai)
        }
        guard let last = answers.last else { return nil }
        let organization = try await self.stores.organizations.find(organizationID)
        let reference = InboundEmail.conversationReference(for: sessionID.description)
        let lines = answers.map { message in
            let who = message.role == .ai ? "Assistant" : (message.metadata["authorName"] ?? organization.name)
            return "\(who): \(message.body)"
        }
        var text = """
            You have \(answers.count == 1 ? "a new reply" : "\(answers.count) new replies") from \(organization.name):

            \(lines.joined(separator: "\n\n"))

            Reply to this email to answer
            """
        if let page = visitor.currentPage, page.hasPrefix("https://") || page.hasPrefix("http://") {
            text += ", or continue the conversation here: \(page)"
        }
        text += ".\n\n--\n\(organization.name)"
        let email = self.customerEmail(
            to: Email.Address(address, name: visitor.name), organization: organization,
            subject: "New reply from \(organization.name) [#\(reference)]", text: text,
            messageID: "<chat-\(sessionID)-\(last.seq)@\(self.domain)>", inReplyTo: "<chat-\(sessionID)@\(self.domain)>"
        )
        // Counted as emailed before the send: a retry after a failure sends it again (at least
        // once), while a later row never repeats it.
        try await self.stores.mailDirectory.setEmailedSeq(last.seq, of: sessionID)
        return email
    }

    // MARK: To the team

    func teamTicket(_ job: MailJob, _ organizationID: Organization.ID) async throws -> Email? {
        guard let id = job.ticket.flatMap(Ticket.ID.init) else { return nil }
        let ticket = try await self.stores.tickets.ticket(id, in: organizationID)
        guard let (address, why) = try await self.stores.mailDirectory.teamAddress(for: ticket) else {
            self.logger.notice(
                "Nobody to tell of a new ticket: no site has a support email and the organization has no active owner",
                metadata: ["parley.ticket.id": "\(ticket.id)"])
            return nil
        }
        let organization = try await self.stores.organizations.find(organizationID)
        let thread = Visibility.customerThread(
            try await self.stores.tickets.messages(of: id, in: organizationID, includeInternal: false))
        let format = Date.FormatStyle(date: .abbreviated, time: .shortened, timeZone: .gmt)
        let transcript = thread.map { message in
            let who: String
            switch message.role {
            case .customer:
                who = ticket.requesterName ?? (ticket.requesterEmail.isEmpty ? "Visitor" : ticket.requesterEmail)
            case .agent: who = "Agent"
            case .ai: who = "Assistant"
            case .system: who = organization.name
            }
            return "\(who), \(message.createdAt.formatted(format)) UTC:\n\(message.body)"
        }.joined(separator: "\n\n")
        let requester =
            ticket.requesterEmail.isEmpty
            ? (ticket.requesterName ?? "an anonymous visitor") + " (no email address yet)"
            : [ticket.requesterName, "<\(ticket.requesterEmail)>"].compactMap { $0 }.joined(separator: " ")
        self.logger.info("Telling the team of a new ticket", metadata: ["parley.mail.to": "\(why)"])
        return Email(
            from: self.sender(organization),
            to: Email.Address(address),
            replyTo: ticket.requesterEmail.isEmpty
                ? nil : Email.Address(ticket.requesterEmail, name: ticket.requesterName),
            subject: "New ticket: \(ticket.subject) [#\(InboundEmail.reference(for: id.description))]",
            text: """
                A new ticket from \(requester), via \(ticket.source.rawValue), priority \(ticket.priority.rawValue).
                Open it: \(self.baseURL)/app#/tickets/\(id)

                \(transcript)
                """, messageID: "<team-ticket-\(id)@\(self.domain)>")
    }

    func teamNotice(_ job: MailJob, _ organizationID: Organization.ID) async throws -> Email? {
        guard let notice = job.notice else { return nil }
        let agent = try await self.stores.agents.find(notice.agentID, in: organizationID)
        let preferences = try await self.stores.agents.preferences(of: agent.id, in: organizationID)
        guard agent.isActive, preferences.wantsEmail(notice.kind) else { return nil }
        let organization = try await self.stores.organizations.find(organizationID)
        let link =
            notice.ticketID.map { "\(self.baseURL)/app#/tickets/\($0)" }
            ?? notice.sessionID.map { "\(self.baseURL)/app#/chats/\($0)" } ?? "\(self.baseURL)/app"
        return Email(
            from: self.sender(organization),
            to: Email.Address(agent.email, name: agent.name), subject: notice.title,
            text: """
                \(notice.title)

                Open it: \(link)

                --
                Parley for \(organization.name). Choose which notifications you get by email in your profile.
                """, messageID: "<notice-\(notice.id)@\(self.domain)>")
    }

    // MARK: Accounts

    func account(_ job: MailJob, _ organizationID: Organization.ID) async throws -> Email? {
        guard let agentID = job.agent.flatMap(Agent.ID.init), let sealed = job.sealedToken else { return nil }
        let agent = try await self.stores.agents.find(agentID, in: organizationID)
        guard agent.isActive else { return nil }
        let organization = try await self.stores.organizations.find(organizationID)
        let token = try self.stores.accountTokens.open(sealed)
        let from = self.sender(organization)
        if job.kind == .accountInvitation {
            return Email(
                from: from, to: Email.Address(agent.email, name: agent.name.isEmpty ? nil : agent.name),
                subject: "You're invited to join \(organization.name) on Parley",
                text: """
                    You're invited to answer \(organization.name)'s customers with Parley.

                    Choose your password here (the link works once, for 48 hours):
                    \(self.baseURL)/app#/invitation/\(token)

                    Then sign in at \(self.baseURL)/app with \(agent.email).
                    """, messageID: "<invitation-\(agent.id)-\(Secrets.randomString(8))@\(self.domain)>")
        }
        return Email(
            from: from, to: Email.Address(agent.email, name: agent.name.isEmpty ? nil : agent.name),
            subject: "Reset your Parley password",
            text: """
                Someone (we hope you) asked to reset the password of \(agent.email) for \(organization.name).

                Choose a new password here (the link works once, for one hour; your other sessions end):
                \(self.baseURL)/app#/reset/\(token)

                If you did not ask, ignore this email: your password stays as it is.
                """, messageID: "<reset-\(agent.id)-\(Secrets.randomString(8))@\(self.domain)>")
    }
}
