import Foundation
public import Hummingbird
import Logging
public import ParleyCore
public import ParleyOutbound
public import ParleyRealtime
public import ParleyStore

/// What the routes need from the rest of the application.
public struct HTTPDependencies: Sendable {
    public var stores: Stores
    /// The public URL, without a trailing slash (`https://support.example.com`).
    public var baseURL: String
    /// Renders the Prometheus text exposition.
    public var metrics: @Sendable () -> String
    public var hub: RealtimeHub
    public var bus: any EventBus
    public var writer: ChatWriter
    /// The one road for tickets' changes.
    public var ticketWriter: TicketWriter
    /// Where handoffs lead (built from the stores and the writer when not given).
    public var handoff: Handoff
    public var tokens: VisitorTokens
    public var trustedProxies: TrustedProxies
    /// Visitor messages per IP (REST and WebSocket `send` alike).
    public var messageLimiter: RateLimiter
    /// Every public (visitor) request per IP.
    public var publicLimiter: RateLimiter
    /// The widget's files (and the dashboard's).
    public var web: WebAssets?
    /// `serve --demo`: a sample website with the widget at `/` and `/demo`.
    public var demo: Bool
    /// Where attachments' bytes go, and which files are accepted.
    public var attachmentStorage: any AttachmentStorage
    public var attachmentPolicy: AttachmentPolicy
    /// Drafts a reply to a ticket on an agent's request (the assistant; nil: none).
    public var drafter: (@Sendable (Ticket, [TicketMessage]) async throws -> TicketDraft?)?
    /// Ranks articles as the assistant does (nil: full text alone).
    public var searcher: KnowledgeSearcher?
    /// Checks URLs an API user sets (AI providers' base URLs, webhook URLs) before they are saved.
    public var outbound: OutboundGuard
    /// Whether a mail server is configured (what the dashboard tells agents about email).
    public var emailEnabled: Bool { self.mailFrom != nil }
    /// The sender address of emails (`PARLEY_MAIL_FROM`), when a mail server is configured.
    public var mailFrom: String?

    public init(
        stores: Stores, baseURL: String, metrics: @escaping @Sendable () -> String, hub: RealtimeHub, bus: any EventBus,
        writer: ChatWriter, ticketWriter: TicketWriter, handoff: Handoff? = nil, tokens: VisitorTokens,
        trustedProxies: TrustedProxies = .none,
        messageLimiter: RateLimiter = RateLimiter(limit: 20, per: 60),
        publicLimiter: RateLimiter = RateLimiter(limit: 300, per: 60), web: WebAssets? = nil, demo: Bool = false,
        attachmentStorage: (any AttachmentStorage)? = nil, attachmentPolicy: AttachmentPolicy = .standard,
        drafter: (@Sendable (Ticket, [TicketMessage]) async throws -> TicketDraft?)? = nil,
        searcher: KnowledgeSearcher? = nil, outbound: OutboundGuard = OutboundGuard(policy: .strict),
        mailFrom: String? = nil
    ) throws {
        self.stores = stores
        self.baseURL = baseURL
        self.metrics = metrics
        self.hub = hub
        self.bus = bus
        self.writer = writer
        self.ticketWriter = ticketWriter
        self.handoff =
            handoff ?? Handoff(chats: stores.chats, tickets: stores.tickets, writer: writer, ticketWriter: ticketWriter)
        self.tokens = tokens
        self.trustedProxies = trustedProxies
        self.messageLimiter = messageLimiter
        self.publicLimiter = publicLimiter
        self.web = web
        self.demo = demo
        self.attachmentStorage =
            try attachmentStorage
            ?? DiskAttachmentStorage(
                folder: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "parley-attachments-\(Secrets.randomString(12))"))
        self.attachmentPolicy = attachmentPolicy
        self.drafter = drafter
        self.searcher = searcher
        self.outbound = outbound
        self.mailFrom = mailFrom
    }
}

/// Builds every route of Parley. Other Hummingbird apps may mount the same controllers.
public func buildRouter(_ dependencies: HTTPDependencies) throws -> Router<ParleyRequestContext> {
    let stores = dependencies.stores
    let router = Router(context: ParleyRequestContext.self)
    router.addMiddleware {
        // CORS outermost: it adds its headers to every response, error responses included.
        CORSMiddleware(
            allowOrigin: .originBased, allowHeaders: [.accept, .authorization, .contentType, .origin],
            allowMethods: [.get, .post, .patch, .delete, .options], allowCredentials: false, maxAge: .seconds(3600))
        ErrorMiddleware()
        ClientIPMiddleware(trustedProxies: dependencies.trustedProxies)
        LogRequestsMiddleware(.debug)
        MetricsMiddleware()
    }
    OperationsController(stores: stores, metrics: dependencies.metrics).addRoutes(to: router)
    RealtimeGateway(
        hub: dependencies.hub, bus: dependencies.bus, stores: stores, chats: stores.chats, writer: dependencies.writer,
        tokens: dependencies.tokens, baseURL: dependencies.baseURL, messageLimiter: dependencies.messageLimiter,
        trustedProxies: dependencies.trustedProxies
    ).addRoutes(to: router)

    WebAssetsController(
        assets: try dependencies.web ?? WebAssets(), sites: stores.sites, organizations: stores.organizations,
        baseURL: dependencies.baseURL, demo: dependencies.demo
    ).addRoutes(to: router)

    MailLinkController(stores: stores, writer: dependencies.ticketWriter).addRoutes(to: router)

    let api = router.group("api/v1")
    try OpenAPIController().addRoutes(to: api)
    let auth = AuthController(
        stores: stores, secureCookies: dependencies.baseURL.hasPrefix("https://"),
        emailEnabled: dependencies.emailEnabled)
    auth.addPublicRoutes(to: api)

    let visitors = VisitorController(
        sites: stores.sites, chats: stores.chats, writer: dependencies.writer, handoff: dependencies.handoff,
        assistant: stores.assistant, tokens: dependencies.tokens,
        baseURL: dependencies.baseURL, messageLimiter: dependencies.messageLimiter,
        emailEnabled: dependencies.emailEnabled)
    let visitorRoutes = api.group().add(middleware: RateLimitMiddleware(dependencies.publicLimiter))
    visitors.addPublicRoutes(to: visitorRoutes)
    let visitorAPI = visitorRoutes.add(middleware: VisitorAuthenticationMiddleware(tokens: dependencies.tokens)).group(
        context: VisitorContext.self)
    visitors.addRoutes(to: visitorAPI)
    let attachments = AttachmentController(
        attachments: stores.attachments, chats: stores.chats, tickets: stores.tickets, writer: dependencies.writer,
        storage: dependencies.attachmentStorage, policy: dependencies.attachmentPolicy,
        messageLimiter: dependencies.messageLimiter)
    attachments.addVisitorRoutes(to: visitorAPI)
    CustomerTicketController(tickets: stores.tickets, chats: stores.chats, writer: dependencies.ticketWriter).addRoutes(
        to: visitorAPI)

    let signedIn = api.group()
        .add(middleware: AuthenticationMiddleware(stores: stores))
        .group(context: AgentContext.self)
    auth.addRoutes(to: signedIn)

    let admin = signedIn.group("admin")
    ChatController(
        chats: stores.chats, agents: stores.agents, writer: dependencies.writer, sites: stores.sites,
        tickets: stores.tickets, assistant: stores.assistant
    ).addRoutes(to: admin)
    attachments.addAgentRoutes(to: admin)
    ArticleController(articles: stores.articles, assistant: stores.assistant, searcher: dependencies.searcher)
        .addRoutes(to: admin)
    AssistantController(assistant: stores.assistant, outbound: dependencies.outbound).addRoutes(to: admin.group("ai"))
    TicketController(
        tickets: stores.tickets, agents: stores.agents, writer: dependencies.ticketWriter, chats: stores.chats,
        emailEnabled: dependencies.emailEnabled
    ).addRoutes(to: admin)
    InboundEmailController(
        tickets: stores.tickets, agents: stores.agents, writer: dependencies.ticketWriter,
        chatWriter: dependencies.writer,
        directory: stores.mailDirectory
    ).addRoutes(to: admin)
    TicketDraftController(
        tickets: stores.tickets, drafts: stores.drafts, writer: dependencies.ticketWriter, drafter: dependencies.drafter
    ).addRoutes(to: admin)
    NotificationController(notifications: stores.notifications).addRoutes(to: admin)
    ExportController(tickets: stores.tickets, chats: stores.chats).addRoutes(to: admin)
    AnalyticsController(analytics: stores.analytics).addRoutes(to: admin)
    CannedResponseController(
        responses: stores.cannedResponses, audit: stores.auditLog, tickets: stores.tickets, chats: stores.chats
    ).addRoutes(to: admin)
    AgentController(agents: stores.agents, tokens: stores.accountTokens, emailEnabled: dependencies.emailEnabled)
        .addRoutes(to: admin.group("agents"))
    MailSettingsController(directory: stores.mailDirectory, from: dependencies.mailFrom).addRoutes(to: admin)
    SiteController(sites: stores.sites, baseURL: dependencies.baseURL)
        .addRoutes(to: admin.group("sites").add(middleware: RequirePermission(.manageSites)))
    WebhookController(webhooks: stores.webhooks, outbox: stores.outbox, outbound: dependencies.outbound)
        .addRoutes(to: admin.group("webhooks"))
    OutboxController(outbox: stores.outbox).addRoutes(to: admin.group("outbox"))
    APIKeyController(apiKeys: stores.apiKeys)
        .addRoutes(to: admin.group("api-keys").add(middleware: RequirePermission(.manageAPIKeys)))
    return router
}
