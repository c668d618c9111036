import Hummingbird
import Foundation
import ParleyCore
public import ParleyStore

/// API keys: `/api/v1/admin/api-keys`, for admins and owners.
public struct APIKeyController: Sendable {
    let apiKeys: APIKeyStore

    public init(apiKeys: APIKeyStore) { self.apiKeys = apiKeys }

    struct NewKeyRequest: Decodable {
        var name: String
        var role: AgentRole?
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.delete(":key", use: self.revoke)
    }

    func list(_ request: Request, context: AgentContext) async throws -> PageResponse<APIKeyResponse> {
        let page = try request.pageRequest()
        return PageResponse(try await self.apiKeys.list(in: context.organizationID, page: page), APIKeyResponse.init)
    }

    /// Creates a key and returns its secret, which is never shown again.
    func create(_ request: Request, context: AgentContext) async throws -> EditedResponse<CreatedAPIKeyResponse> {
        let new = try await request.decodeJSON(as: NewKeyRequest.self, context: context)
        let (key, secret) = try await self.apiKeys.create(
            name: new.name, role: new.role ?? .agent, in: context.organizationID, by: context.principal.agent?.id,
            creatorRole: context.principal.role
        )
        context.logger.info("API key created", metadata: ["parley.apikey.id": "\(key.id)"])
        return EditedResponse(
            status: .created, response: CreatedAPIKeyResponse(key: APIKeyResponse(key), secret: secret))
    }

    func revoke(_ request: Request, context: AgentContext) async throws -> APIKeyResponse {
        let id = try context.id("key", as: APIKey.ID.self, entity: "API key")
        let key = try await self.apiKeys.revoke(id, in: context.organizationID)
        context.logger.info("API key revoked", metadata: ["parley.apikey.id": "\(key.id)"])
        return APIKeyResponse(key)
    }
}
