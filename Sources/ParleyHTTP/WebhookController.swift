import Foundation
import Hummingbird
import ParleyCore
public import ParleyOutbound
public import ParleyStore

/// Outbound webhooks, mounted at `/api/v1/admin/webhooks`, for admins and owners: endpoints,
/// their signing secrets (shown once), their deliveries, retries and test events.
public struct WebhookController: Sendable {
    let webhooks: WebhookStore
    let outbox: Outbox
    /// The SSRF guard: a URL is checked when saved (422 naming `url`) and on every delivery.
    let outbound: OutboundGuard

    public init(webhooks: WebhookStore, outbox: Outbox, outbound: OutboundGuard) {
        self.webhooks = webhooks
        self.outbox = outbox
        self.outbound = outbound
    }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get(":endpoint", use: self.show)
        group.patch(":endpoint", use: self.update)
        group.delete(":endpoint", use: self.delete)
        group.post(":endpoint/secret", use: self.rollSecret)
        group.post(":endpoint/test", use: self.test)
        group.get(":endpoint/deliveries", use: self.deliveries)
        group.post(":endpoint/deliveries/:delivery/retry", use: self.retry)
    }

    struct EndpointBody: Decodable {
        var url: String?
        var description: String?
        var events: [String]?
        var active: Bool?
    }

    struct List: ResponseEncodable {
        var data: [WebhookEndpointView]
        var eventTypes: [String]
    }

    func list(_ request: Request, context: AgentContext) async throws -> List {
        try context.principal.require(.manageSettings)
        return List(
            data: try await self.webhooks.list(in: context.organizationID).map { WebhookEndpointView($0) },
            eventTypes: WebhookEvent.types)
    }

    /// Creates an endpoint; its signing secret is in this answer and never again.
    func create(_ request: Request, context: AgentContext) async throws -> EditedResponse<WebhookEndpointView> {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: EndpointBody.self, context: context)
        if let url = input.url { try await self.outbound.validate(url, field: "url") }
        let (endpoint, secret) = try await self.webhooks.create(
            .init(url: input.url, description: input.description, events: input.events, active: input.active),
            in: context.organizationID)
        context.logger.info("Webhook endpoint created", metadata: ["parley.webhook.id": "\(endpoint.id)"])
        return EditedResponse(status: .created, response: WebhookEndpointView(endpoint, secret: secret))
    }

    func show(_ request: Request, context: AgentContext) async throws -> WebhookEndpointView {
        try context.principal.require(.manageSettings)
        return WebhookEndpointView(
            try await self.webhooks.find(try self.endpointID(context), in: context.organizationID))
    }

    func update(_ request: Request, context: AgentContext) async throws -> WebhookEndpointView {
        try context.principal.require(.manageSettings)
        let id = try self.endpointID(context)
        let input = try await request.decodeJSON(as: EndpointBody.self, context: context)
        if let url = input.url { try await self.outbound.validate(url, field: "url") }
        let endpoint = try await self.webhooks.update(
            id,
            with: .init(
                url: input.url, description: input.description.map { Optional($0) }, events: input.events,
                active: input.active), in: context.organizationID)
        return WebhookEndpointView(endpoint)
    }

    func delete(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.manageSettings)
        try await self.webhooks.delete(try self.endpointID(context), in: context.organizationID)
        return Response(status: .noContent)
    }

    /// A new signing secret, shown in this answer only; the old one stops signing at once.
    func rollSecret(_ request: Request, context: AgentContext) async throws -> WebhookEndpointView {
        try context.principal.require(.manageSettings)
        let (endpoint, secret) = try await self.webhooks.rollSecret(
            try self.endpointID(context), in: context.organizationID)
        return WebhookEndpointView(endpoint, secret: secret)
    }

    /// Queues a `webhook.test` event to the endpoint (active or not).
    func test(_ request: Request, context: AgentContext) async throws -> EditedResponse<DeliveryView> {
        try context.principal.require(.manageSettings)
        let queued = try await self.webhooks.sendTest(try self.endpointID(context), in: context.organizationID)
        let item = try await self.outbox.item(queued.id, in: context.organizationID)
        return EditedResponse(status: .accepted, response: DeliveryView(item))
    }

    func deliveries(_ request: Request, context: AgentContext) async throws -> PageResponse<DeliveryView> {
        try context.principal.require(.manageSettings)
        let endpoint = try await self.webhooks.find(try self.endpointID(context), in: context.organizationID)
        let page = try await self.outbox.list(
            in: context.organizationID, target: endpoint.id.description, page: try request.pageRequest())
        return PageResponse(page) { DeliveryView($0) }
    }

    /// Sends a delivery again now, with the same `webhook-id` (a dead letter, say).
    func retry(_ request: Request, context: AgentContext) async throws -> DeliveryView {
        try context.principal.require(.manageSettings)
        let endpoint = try await self.webhooks.find(try self.endpointID(context), in: context.organizationID)
        let delivery = try context.parameters.require("delivery")
        let item = try await self.outbox.item(delivery, in: context.organizationID)
        guard item.targetID == endpoint.id.description else { throw DomainError.notFound(entity: "delivery") }
        return DeliveryView(try await self.outbox.retry(delivery, in: context.organizationID))
    }

    func endpointID(_ context: AgentContext) throws -> WebhookEndpoint.ID {
        try context.id("endpoint", as: WebhookEndpoint.ID.self, entity: "webhook endpoint")
    }
}

/// The dead letters of every side effect that leaves the server (webhook deliveries, emails),
/// mounted at `/api/v1/admin/outbox`, for admins and owners: list, retry, discard.
public struct OutboxController: Sendable {
    let outbox: Outbox

    public init(outbox: Outbox) { self.outbox = outbox }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get(use: self.list)
        group.post(":item/retry", use: self.retry)
        group.delete(":item", use: self.discard)
    }

    /// `?status=dead` (the default), `pending` or `delivered`.
    func list(_ request: Request, context: AgentContext) async throws -> PageResponse<OutboxItemView> {
        try context.principal.require(.manageSettings)
        let text = request.uri.queryParameters["status"].map(String.init) ?? "dead"
        guard let status = Outbox.Status(rawValue: text) else {
            throw ValidationError(field: "status", message: "status must be dead, pending, running or delivered.")
        }
        let page = try await self.outbox.list(
            in: context.organizationID, status: status, page: try request.pageRequest())
        return PageResponse(page) { OutboxItemView($0) }
    }

    func retry(_ request: Request, context: AgentContext) async throws -> OutboxItemView {
        try context.principal.require(.manageSettings)
        return OutboxItemView(
            try await self.outbox.retry(try context.parameters.require("item"), in: context.organizationID))
    }

    func discard(_ request: Request, context: AgentContext) async throws -> Response {
        try context.principal.require(.manageSettings)
        try await self.outbox.discard(try context.parameters.require("item"), in: context.organizationID)
        return Response(status: .noContent)
    }
}

/// An endpoint on the wire; `secret` only when just made or rolled.
struct WebhookEndpointView: ResponseEncodable, Sendable {
    var id: String
    var url: String
    var description: String?
    var events: [String]
    var active: Bool
    var createdAt: Date
    var updatedAt: Date
    var secret: String?

    init(_ endpoint: WebhookEndpoint, secret: String? = nil) {
        self.id = endpoint.id.description
        self.url = endpoint.url
        self.description = endpoint.description
        self.events = endpoint.events
        self.active = endpoint.active
        self.createdAt = endpoint.createdAt
        self.updatedAt = endpoint.updatedAt
        self.secret = secret
    }
}

/// A webhook delivery on the wire (its id is the `webhook-id` header).
struct DeliveryView: ResponseEncodable, Sendable {
    var id: String
    var eventType: String
    var status: String
    var attempts: Int
    var responseStatus: Int?
    var latencyMs: Int?
    var error: String?
    var responseExcerpt: String?
    var createdAt: Date
    var lastAttemptAt: Date?
    var nextAttemptAt: Date?
    var deliveredAt: Date?

    init(_ item: Outbox.Item) {
        self.id = item.id
        self.eventType = item.eventType
        // A claimed row is still waiting for its answer.
        self.status = item.status == .running ? "pending" : item.status.rawValue
        self.attempts = item.attempts
        self.responseStatus = item.lastStatus
        self.latencyMs = item.lastLatencyMilliseconds
        self.error = item.lastError
        self.responseExcerpt = item.responseExcerpt
        self.createdAt = item.createdAt
        self.lastAttemptAt = item.lastAttemptAt
        self.nextAttemptAt = item.status == .pending ? item.nextAttemptAt : nil
        self.deliveredAt = item.deliveredAt
    }
}

/// An outbox row (a dead letter) on the wire.
struct OutboxItemView: ResponseEncodable, Sendable {
    var id: String
    var kind: String
    var summary: String
    var attempts: Int
    var error: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ item: Outbox.Item) {
        self.id = item.id
        self.kind = item.kind.rawValue
        switch item.kind {
        case .webhook: self.summary = "\(item.eventType) to endpoint \(item.targetID ?? "?")"
        case .email:
            self.summary = "\(item.eventType) email (\(item.orderKey.replacingOccurrences(of: "email|", with: "")))"
        }
        self.attempts = item.attempts
        self.error = item.lastError
        self.createdAt = item.createdAt
        self.updatedAt = item.updatedAt
    }
}
