import Foundation
import ParleyCore
import Testing

@Suite struct ChatLifecycleTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func session(_ status: ChatStatus, archived: Bool = false, lastSeq: Int64 = 4) -> ChatSession {
        ChatSession(
            id: .init(), organizationID: .init(), siteID: .init(), visitorID: .init(), status: status, lastSeq: lastSeq,
            createdAt: self.now, updatedAt: self.now, archivedAt: archived ? self.now : nil)
    }

    @Test(arguments: ChatStatus.allCases)
    func aVisitorMessageTakesTheNextSeqInAnyStatus(status: ChatStatus) throws {
        let outcome = try ChatLifecycle.apply(
            .visitorMessage(body: "hi", clientID: "c"), to: self.session(status), now: self.now)
        #expect(outcome.messages.map(\.seq) == [5])
        #expect(outcome.session.lastSeq == 5)
        #expect(outcome.session.lastVisitorSeq == 5)
        #expect(outcome.session.status == (status == .closed ? .aiActive : status))
    }

    @Test func anAgentReplyTakesOverAndAssigns() throws {
        let agent = Agent.ID()
        let outcome = try ChatLifecycle.apply(
            .agentMessage(agent: agent, agentName: "Ann", body: "Hello", clientID: nil), to: self.session(.aiActive),
            now: self.now)
        #expect(outcome.session.status == .agentActive)
        #expect(outcome.session.assignedAgentID == agent)
        #expect(outcome.messages.map(\.body) == ["Ann joined the conversation", "Hello"])
        #expect(outcome.messages.map(\.seq) == [5, 6])
        #expect(outcome.session.agentReadSeq == 6)
        let again = try ChatLifecycle.apply(
            .agentMessage(agent: agent, agentName: "Ann", body: "More", clientID: nil), to: outcome.session,
            now: self.now)
        #expect(again.messages.count == 1)
    }

    @Test func forbiddenTransitionsThrow() {
        #expect(throws: InvalidTransition.self) {
            try ChatLifecycle.apply(.close(.agent), to: self.session(.closed), now: self.now)
        }
        #expect(throws: InvalidTransition.self) {
            try ChatLifecycle.apply(.assign(.init()), to: self.session(.closed), now: self.now)
        }
        #expect(throws: InvalidTransition.self) {
            try ChatLifecycle.apply(.archive, to: self.session(.aiActive, archived: true), now: self.now)
        }
        #expect(throws: InvalidTransition.self) {
            try ChatLifecycle.apply(.restore, to: self.session(.aiActive), now: self.now)
        }
    }

    @Test func aVisitorMessageRestoresAnArchivedConversation() throws {
        let outcome = try ChatLifecycle.apply(
            .visitorMessage(body: "back", clientID: nil), to: self.session(.closed, archived: true), now: self.now)
        #expect(outcome.session.archivedAt == nil)
        #expect(outcome.sessionChanged)
    }

    @Test func closingSaysWhyToTheVisitor() throws {
        let outcome = try ChatLifecycle.apply(.close(.idle), to: self.session(.escalated), now: self.now)
        #expect(outcome.session.status == .closed)
        #expect(outcome.messages.first?.role == .system)
        #expect(outcome.messages.first?.body.contains("inactivity") == true)
    }

    @Test func visitorsMayJoinOnlyTheirOwnConversations() {
        let mine = self.session(.aiActive)
        let me = RealtimePrincipal.visitor(mine.visitorID, organization: mine.organizationID)
        let stranger = RealtimePrincipal.visitor(.init(), organization: mine.organizationID)
        let team = RealtimePrincipal.agent(.init(), organization: mine.organizationID)
        let otherTeam = RealtimePrincipal.agent(.init(), organization: .init())
        #expect(ChannelAccess.mayJoin(.supportChat(mine.id), as: me, session: mine))
        #expect(!ChannelAccess.mayJoin(.supportChat(mine.id), as: stranger, session: mine))
        #expect(!ChannelAccess.mayJoin(.inbox(mine.organizationID), as: me, session: nil))
        #expect(ChannelAccess.mayJoin(.inbox(mine.organizationID), as: team, session: nil))
        #expect(!ChannelAccess.mayJoin(.inbox(mine.organizationID), as: otherTeam, session: nil))
        #expect(!ChannelAccess.mayJoin(.supportChat(mine.id), as: otherTeam, session: mine))
        #expect(!ChannelAccess.mayJoin(.supportChat(mine.id), as: me, session: nil))
    }

    @Test func channelsRoundTrip() {
        let id = ChatSession.ID()
        #expect(Channel("supportChat:\(id)") == .supportChat(id))
        #expect(Channel(Channel.inbox(.init()).description) != nil)
        #expect(Channel("supportChat:nope") == nil)
        #expect(Channel("other:\(id)") == nil)
    }

    @Test func tokenBucketsRefill() {
        var bucket = TokenBucket(capacity: 20, per: 60, now: self.now)
        for _ in 0..<20 { #expect(bucket.take(now: self.now) == nil) }
        #expect(bucket.take(now: self.now) == 3)
        #expect(bucket.take(now: self.now.addingTimeInterval(3)) == nil)
    }
}
