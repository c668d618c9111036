import Foundation

/// Who may change whom in a team. Pure: the store loads the facts and asks.
public enum TeamRules {
    /// A requested change to an agent.
    public struct Change: Sendable, Equatable {
        public var role: AgentRole?
        public var isActive: Bool?
        public var setsPassword: Bool

        public init(role: AgentRole? = nil, isActive: Bool? = nil, setsPassword: Bool = false) {
            self.role = role
            self.isActive = isActive
            self.setsPassword = setsPassword
        }
    }

    /// Throws unless `actorRole` (as agent `actorID`, nil for an API key) may make `change` to
    /// `target`, given how many active owners the organization has.
    public static func check(
        _ change: Change, to target: Agent, by actorRole: AgentRole, actorID: Agent.ID?, activeOwners: Int
    ) throws(DomainError) {
        guard actorRole.allows(.manageTeam) else { throw .forbidden("Only admins and owners can change the team.") }
        if target.role == .owner && !actorRole.allows(.manageOwners) {
            throw .forbidden("Only an owner can change an owner's account.")
        }
        if let role = change.role, role != target.role, !actorRole.mayGrant(role) {
            throw .forbidden("Only an owner can make someone an owner.")
        }
        if target.id == actorID {
            if change.isActive == false { throw .conflict("You can't deactivate your own account.") }
            if let role = change.role, role < target.role {
                throw .conflict("You can't lower your own role; ask another owner.")
            }
        }
        let losesOwner =
            target.role == .owner && target.isActive
            && (change.isActive == false || (change.role.map { $0 != .owner } ?? false))
        if losesOwner && activeOwners <= 1 {
            throw .conflict("An organization needs at least one active owner; make someone else an owner first.")
        }
    }

    /// Throws unless `actorRole` may create an account with `role`.
    public static func checkCreate(role: AgentRole, by actorRole: AgentRole) throws(DomainError) {
        guard actorRole.allows(.manageTeam) else { throw .forbidden("Only admins and owners can add to the team.") }
        guard actorRole.mayGrant(role) else { throw .forbidden("Only an owner can add an owner.") }
    }
}
