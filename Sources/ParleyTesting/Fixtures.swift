import Foundation
import Logging
public import ParleyCore
public import ParleyStore

/// An organization made for a test, with the owner's password to sign in with.
public struct OrganizationFixture: Sendable {
    public var organization: Organization
    public var owner: Agent
    public var site: Site
    public var password: String
}

extension Stores {
    /// The password every fixture account has.
    public static let fixturePassword = "correct horse battery"

    /// Creates an organization with an owner (`owner@<slug>.test`) and a site.
    public func makeOrganization(_ name: String = "Acme") async throws -> OrganizationFixture {
        let slug = name.lowercased().filter(\.isLetter) + Secrets.randomString(4).lowercased()
        let created = try await self.createOrganization(
            .init(
                name: name,
                owner: .init(
                    email: "owner@\(slug).test", name: "\(name) Owner", role: .owner, password: Self.fixturePassword),
                site: .init(name: "\(name) website", allowedOrigins: ["https://\(slug).test"])
            ))
        return OrganizationFixture(
            organization: created.organization, owner: created.owner, site: created.site!,
            password: Self.fixturePassword)
    }

    /// Adds an agent with `role` to an organization.
    public func makeAgent(
        in organization: Organization.ID, role: AgentRole = .agent, email: String? = nil
    ) async throws -> Agent {
        try await self.agents.create(
            .init(
                email: email ?? "\(role.rawValue)-\(Secrets.randomString(6).lowercased())@example.test", name: "",
                role: role, password: Self.fixturePassword),
            in: organization, by: nil
        )
    }
}

extension Stores {
    /// A ticket writer over these stores whose commits are published to `onCommit` (nowhere by default).
    public func ticketWriter(onCommit: @escaping @Sendable ([DomainEvent]) -> Void = { _ in }) -> TicketWriter {
        TicketWriter(committer: Committer(engine: self.engine, onCommit: onCommit), tickets: self.tickets)
    }
}

extension Stores {
    /// A visitor's feedback on an assistant's reply, through the conversation writer's road.
    public func recordFeedback(
        on messageID: ChatMessage.ID, helpful: Bool, comment: String?, in organizationID: Organization.ID
    ) async throws {
        let writer = ChatWriter(
            committer: Committer(engine: self.engine) { _ in }, logger: Logger(label: "parley.test"))
        try await writer.recordFeedback(on: messageID, helpful: helpful, comment: comment, in: organizationID)
    }
}
