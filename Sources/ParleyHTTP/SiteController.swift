import Hummingbird
import Foundation
import ParleyCore
public import ParleyStore

/// Sites and their widget settings: `/api/v1/admin/sites`, for admins and owners.
public struct SiteController: Sendable {
    let sites: SiteStore
    let baseURL: String

    public init(sites: SiteStore, baseURL: String) {
        self.sites = sites
        self.baseURL = baseURL
    }

    struct NewSiteRequest: Decodable {
        var name: String
        var allowedOrigins: [String]?
        var widget: WidgetSettingsPatch?
        var strictIdentity: Bool?
    }

    struct SiteChangeRequest: Decodable {
        var name: String?
        var allowedOrigins: [String]?
        var widget: WidgetSettingsPatch?
        var strictIdentity: Bool?
        var isActive: Bool?
    }

    /// Widget settings where every field is optional: what is sent replaces what was there.
    struct WidgetSettingsPatch: Decodable {
        var title: String?
        var color: String?
        var welcomeMessage: String?
        var launcherText: String?
        var position: WidgetPosition?
        var supportEmail: String?
        var enabled: Bool?

        func applied(to settings: WidgetSettings) -> WidgetSettings {
            var settings = settings
            if let title { settings.title = title }
            if let color { settings.color = color }
            if let welcomeMessage { settings.welcomeMessage = welcomeMessage }
            if let launcherText { settings.launcherText = launcherText }
            if let position { settings.position = position }
            if let supportEmail { settings.supportEmail = supportEmail }
            if let enabled { settings.enabled = enabled }
            return settings
        }
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get(":site", use: self.show)
        group.patch(":site", use: self.update)
        group.post(":site/rotate-secret", use: self.rotateSecret)
    }

    func list(_ request: Request, context: AgentContext) async throws -> PageResponse<SiteResponse> {
        let page = try request.pageRequest()
        let sites = try await self.sites.list(in: context.organizationID, page: page)
        return PageResponse(sites) { SiteResponse($0, baseURL: self.baseURL) }
    }

    func create(_ request: Request, context: AgentContext) async throws -> EditedResponse<SiteResponse> {
        let new = try await request.decodeJSON(as: NewSiteRequest.self, context: context)
        let site = try await self.sites.create(
            .init(
                name: new.name, allowedOrigins: new.allowedOrigins ?? [],
                widget: new.widget?.applied(to: .default) ?? .default, strictIdentity: new.strictIdentity ?? false
            ),
            in: context.organizationID
        )
        context.logger.info("Site created", metadata: ["parley.site.id": "\(site.id)"])
        return EditedResponse(status: .created, response: SiteResponse(site, baseURL: self.baseURL))
    }

    func show(_ request: Request, context: AgentContext) async throws -> SiteResponse {
        let id = try context.id("site", as: Site.ID.self, entity: "site")
        return SiteResponse(try await self.sites.find(id, in: context.organizationID), baseURL: self.baseURL)
    }

    func update(_ request: Request, context: AgentContext) async throws -> SiteResponse {
        let id = try context.id("site", as: Site.ID.self, entity: "site")
        let change = try await request.decodeJSON(as: SiteChangeRequest.self, context: context)
        var widget: WidgetSettings?
        if let patch = change.widget {
            widget = patch.applied(to: try await self.sites.find(id, in: context.organizationID).widget)
        }
        let site = try await self.sites.update(
            id, in: context.organizationID,
            with: .init(
                name: change.name, allowedOrigins: change.allowedOrigins, widget: widget,
                strictIdentity: change.strictIdentity, isActive: change.isActive
            )
        )
        return SiteResponse(site, baseURL: self.baseURL)
    }

    /// Replaces the identity secret; user hashes signed with the old one stop working.
    func rotateSecret(_ request: Request, context: AgentContext) async throws -> SiteResponse {
        let id = try context.id("site", as: Site.ID.self, entity: "site")
        let site = try await self.sites.update(id, in: context.organizationID, with: .init(rotateIdentitySecret: true))
        return SiteResponse(site, baseURL: self.baseURL)
    }
}
