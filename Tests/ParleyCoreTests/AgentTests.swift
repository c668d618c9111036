import Foundation
import ParleyCore
import Testing

@Suite struct AgentTests {
    static func agent(_ role: AgentRole, active: Bool = true, id: Agent.ID = .init()) -> Agent {
        Agent(
            id: id, organizationID: .init(), email: "a@b.co", name: "A", role: role, isActive: active,
            createdAt: .init(), updatedAt: .init())
    }

    @Test func rolesGrantPermissionsByRank() {
        #expect(AgentRole.agent.allows(.readTeam))
        #expect(!AgentRole.agent.allows(.manageSites))
        #expect(!AgentRole.agent.allows(.manageAPIKeys))
        #expect(AgentRole.admin.allows(.manageTeam))
        #expect(!AgentRole.admin.allows(.manageOwners))
        #expect(Permission.allCases.allSatisfy { AgentRole.owner.allows($0) })
    }

    @Test func agentsCannotChangeTheTeam() {
        #expect(throws: DomainError.self) {
            try TeamRules.check(
                .init(isActive: false), to: Self.agent(.agent), by: .agent, actorID: nil, activeOwners: 1)
        }
        #expect(throws: DomainError.self) { try TeamRules.checkCreate(role: .agent, by: .agent) }
    }

    @Test func adminsCannotTouchOwnersOrMakeThem() {
        #expect(throws: DomainError.forbidden("Only an owner can change an owner's account.")) {
            try TeamRules.check(
                .init(isActive: false), to: Self.agent(.owner), by: .admin, actorID: nil, activeOwners: 2)
        }
        #expect(throws: DomainError.self) {
            try TeamRules.check(.init(role: .owner), to: Self.agent(.agent), by: .admin, actorID: nil, activeOwners: 1)
        }
        #expect(throws: DomainError.self) { try TeamRules.checkCreate(role: .owner, by: .admin) }
        #expect(throws: Never.self) { try TeamRules.checkCreate(role: .admin, by: .admin) }
        #expect(throws: Never.self) {
            try TeamRules.check(.init(role: .admin), to: Self.agent(.agent), by: .admin, actorID: nil, activeOwners: 1)
        }
    }

    @Test func theLastActiveOwnerStays() {
        let owner = Self.agent(.owner)
        #expect(throws: DomainError.self) {
            try TeamRules.check(.init(isActive: false), to: owner, by: .owner, actorID: nil, activeOwners: 1)
        }
        #expect(throws: DomainError.self) {
            try TeamRules.check(.init(role: .admin), to: owner, by: .owner, actorID: nil, activeOwners: 1)
        }
        #expect(throws: Never.self) {
            try TeamRules.check(.init(role: .admin), to: owner, by: .owner, actorID: nil, activeOwners: 2)
        }
    }

    @Test func nobodyDeactivatesOrDemotesThemselves() {
        let me = Self.agent(.admin)
        #expect(throws: DomainError.self) {
            try TeamRules.check(.init(isActive: false), to: me, by: .admin, actorID: me.id, activeOwners: 1)
        }
        #expect(throws: DomainError.self) {
            try TeamRules.check(.init(role: .agent), to: me, by: .admin, actorID: me.id, activeOwners: 1)
        }
    }

    @Test func typedIDsRoundTripAsLowercaseText() throws {
        let id = Site.ID()
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(id.rawValue.uuidString.lowercased())\"]")
        #expect(try JSONDecoder().decode([Site.ID].self, from: data) == [id])
        #expect(Site.ID("not-a-uuid") == nil)
    }
}
