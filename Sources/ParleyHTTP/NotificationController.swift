import Foundation
import Hummingbird
import ParleyCore
public import ParleyStore

/// The signed-in agent's notifications: `/api/v1/admin/notifications`. The list is what the bell
/// shows on sign-in (no replay of old ones over the socket); new ones arrive on `inbox:` as
/// `notification.created`.
public struct NotificationController: Sendable {
    let notifications: NotificationStore

    public init(notifications: NotificationStore) { self.notifications = notifications }

    struct View: Encodable {
        var id: String
        var kind: String
        var title: String
        var ticketId: String?
        var sessionId: String?
        var createdAt: Date
        var readAt: Date?

        init(_ notification: AgentNotification) {
            self.id = notification.id.description
            self.kind = notification.kind.rawValue
            self.title = notification.title
            self.ticketId = notification.ticketID?.description
            self.sessionId = notification.sessionID?.description
            self.createdAt = notification.createdAt
            self.readAt = notification.readAt
        }
    }

    struct ListView: ResponseEncodable {
        var data: [View]
        var nextCursor: String?
        var unread: Int
    }

    struct ReadRequest: Decodable { var ids: [String]? }
    struct ReadResponse: ResponseEncodable {
        var updated: Int
        var unread: Int
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("notifications", use: self.list)
        group.post("notifications/read", use: self.read)
    }

    func agent(_ context: AgentContext) throws -> Agent.ID {
        guard let agent = context.principal.agent else {
            throw DomainError.forbidden("An API key has no notifications.")
        }
        return agent.id
    }

    /// `?unread=true` for unread ones only; newest first, keyset-paged.
    func list(_ request: Request, context: AgentContext) async throws -> ListView {
        let agent = try self.agent(context)
        let page = try await self.notifications.list(
            for: agent, in: context.organizationID, unreadOnly: request.uri.queryParameters["unread"] == "true",
            page: try request.pageRequest())
        return ListView(
            data: page.items.map(View.init), nextCursor: page.nextCursor?.token,
            unread: try await self.notifications.unreadCount(for: agent, in: context.organizationID))
    }

    /// `{ids: [...]}` marks those read; no ids marks all read.
    func read(_ request: Request, context: AgentContext) async throws -> ReadResponse {
        let agent = try self.agent(context)
        let input = try await request.decodeJSON(as: ReadRequest.self, context: context)
        let ids = try input.ids.map { texts in
            try texts.map { text in
                guard let id = AgentNotification.ID(text) else {
                    throw ValidationError(field: "ids", message: "\(text) is not a notification id.")
                }
                return id
            }
        }
        let updated = try await self.notifications.markRead(ids, for: agent, in: context.organizationID)
        return ReadResponse(
            updated: updated, unread: try await self.notifications.unreadCount(for: agent, in: context.organizationID))
    }
}
