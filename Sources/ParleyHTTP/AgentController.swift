import Hummingbird
import Foundation
import ParleyCore
public import ParleyStore

/// The team: `/api/v1/admin/agents`. Everyone may list it (to assign work); changing it takes
/// `manageTeam`, and owners are changed by owners only.
public struct AgentController: Sendable {
    let agents: AgentStore
    let tokens: AccountTokens?
    let emailEnabled: Bool

    public init(agents: AgentStore, tokens: AccountTokens? = nil, emailEnabled: Bool = false) {
        self.agents = agents
        self.tokens = tokens
        self.emailEnabled = emailEnabled
    }

    struct InvitationRequest: Decodable {
        var email: String
        var name: String?
        var role: AgentRole
    }

    struct NewAgentRequest: Decodable {
        var email: String
        var name: String?
        var role: AgentRole
        var password: String
    }

    struct AgentChangeRequest: Decodable {
        var name: String?
        var role: AgentRole?
        var isActive: Bool?
        var password: String?
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get(use: self.list)
        group.get(":agent", use: self.show)
        group.post(use: self.create)
        group.post("invite", use: self.invite)
        group.patch(":agent", use: self.update)
        group.delete(":agent", use: self.deactivate)
    }

    func list(_ request: Request, context: AgentContext) async throws -> PageResponse<AgentResponse> {
        try context.principal.require(.readTeam)
        let page = try request.pageRequest()
        return PageResponse(try await self.agents.list(in: context.organizationID, page: page), AgentResponse.init)
    }

    func show(_ request: Request, context: AgentContext) async throws -> AgentResponse {
        try context.principal.require(.readTeam)
        let id = try context.id("agent", as: Agent.ID.self, entity: "agent")
        return AgentResponse(try await self.agents.find(id, in: context.organizationID))
    }

    func create(_ request: Request, context: AgentContext) async throws -> EditedResponse<AgentResponse> {
        let new = try await request.decodeJSON(as: NewAgentRequest.self, context: context)
        let agent = try await self.agents.create(
            .init(email: new.email, name: new.name ?? "", role: new.role, password: new.password),
            in: context.organizationID, by: context.principal.role
        )
        context.logger.info("Agent created", metadata: ["parley.agent.id": "\(agent.id)"])
        return EditedResponse(status: .created, response: AgentResponse(agent))
    }

    /// Invites a teammate by email: they follow a single-use link (48 hours) and choose their own
    /// password. Needs a mail server (409 without one: create them with a password instead).
    func invite(_ request: Request, context: AgentContext) async throws -> EditedResponse<AgentResponse> {
        let input = try await request.decodeJSON(as: InvitationRequest.self, context: context)
        guard let tokens = self.tokens, self.emailEnabled else {
            throw DomainError.conflict(
                "Email is not configured (PARLEY_SMTP_URL), so an invitation can't be sent: add the agent with a password instead."
            )
        }
        let agent = try await tokens.invite(
            email: input.email, name: input.name ?? "", role: input.role, in: context.organizationID,
            by: context.principal.role, agents: self.agents)
        context.logger.info("Agent invited", metadata: ["parley.agent.id": "\(agent.id)"])
        return EditedResponse(status: .created, response: AgentResponse(agent))
    }

    func update(_ request: Request, context: AgentContext) async throws -> AgentResponse {
        let id = try context.id("agent", as: Agent.ID.self, entity: "agent")
        let change = try await request.decodeJSON(as: AgentChangeRequest.self, context: context)
        let agent = try await self.agents.update(
            id, in: context.organizationID,
            with: .init(name: change.name, role: change.role, isActive: change.isActive, password: change.password),
            by: context.principal.role, actorID: context.principal.agent?.id
        )
        return AgentResponse(agent)
    }

    /// Deactivates (never deletes: their messages keep their author).
    func deactivate(_ request: Request, context: AgentContext) async throws -> AgentResponse {
        let id = try context.id("agent", as: Agent.ID.self, entity: "agent")
        let agent = try await self.agents.update(
            id, in: context.organizationID, with: .init(isActive: false), by: context.principal.role,
            actorID: context.principal.agent?.id
        )
        return AgentResponse(agent)
    }
}
