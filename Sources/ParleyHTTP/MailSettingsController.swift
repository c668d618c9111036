import Foundation
import Hummingbird
import ParleyCore
public import ParleyStore

/// `/api/v1/admin/settings/email`: whether email is on (a mail server is configured), the
/// server's sender address, and the organization's own sender name and reply address.
public struct MailSettingsController: Sendable {
    let directory: MailDirectory
    /// `PARLEY_MAIL_FROM` when a mail server is configured.
    let from: String?

    public init(directory: MailDirectory, from: String?) {
        self.directory = directory
        self.from = from
    }

    struct Body: ResponseEncodable, Decodable {
        var configured: Bool?
        var from: String?
        var fromName: String?
        var replyTo: String?
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("settings/email", use: self.show)
        group.put("settings/email", use: self.update)
    }

    func show(_ request: Request, context: AgentContext) async throws -> Body {
        try context.principal.require(.answerConversations)
        let settings = try await self.directory.settings(in: context.organizationID)
        return Body(
            configured: self.from != nil, from: self.from, fromName: settings.fromName, replyTo: settings.replyTo)
    }

    func update(_ request: Request, context: AgentContext) async throws -> Body {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: Body.self, context: context)
        let saved = try await self.directory.setSettings(
            MailSettings(fromName: input.fromName, replyTo: input.replyTo), in: context.organizationID, now: Date())
        return Body(configured: self.from != nil, from: self.from, fromName: saved.fromName, replyTo: saved.replyTo)
    }
}
