public import Foundation
public import ParleyCore
import SQLKit

/// Every store over one engine, sharing one clock.
public struct Stores: Sendable {
    public let engine: any DatabaseEngine
    public let organizations: OrganizationStore
    public let sites: SiteStore
    public let agents: AgentStore
    public let sessions: AgentSessionStore
    public let apiKeys: APIKeyStore
    public let loginThrottles: LoginThrottleStore
    public let jobs: JobQueue
    public let chats: ChatStore
    public let articles: ArticleStore
    public let assistant: AssistantStore
    public let tickets: TicketStore
    public let cannedResponses: CannedResponseStore
    public let attachments: AttachmentStore
    public let drafts: TicketDraftStore
    public let auditLog: AuditLogStore
    public let notifications: NotificationStore
    public let analytics: AnalyticsStore
    public let outbox: Outbox
    public let webhooks: WebhookStore
    /// Signs the links emails carry (ratings, unsubscribes).
    public let mailLinks: MailLinks
    public let suppressions: MailSuppressions
    public let mailDirectory: MailDirectory
    public let accountTokens: AccountTokens

    public init(
        engine: any DatabaseEngine, hasher: PasswordHasher = PasswordHasher(), secrets: SecretBox = .ephemeral(),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.engine = engine
        self.organizations = OrganizationStore(engine: engine, now: now)
        self.sites = SiteStore(engine: engine, now: now)
        self.agents = AgentStore(engine: engine, hasher: hasher, now: now)
        self.sessions = AgentSessionStore(engine: engine, now: now)
        self.apiKeys = APIKeyStore(engine: engine, now: now)
        self.loginThrottles = LoginThrottleStore(engine: engine, now: now)
        self.jobs = JobQueue(engine: engine, now: now)
        self.chats = ChatStore(engine: engine, now: now)
        self.articles = ArticleStore(engine: engine, now: now)
        self.assistant = AssistantStore(engine: engine, box: secrets, now: now)
        self.tickets = TicketStore(engine: engine, now: now)
        self.cannedResponses = CannedResponseStore(engine: engine, now: now)
        self.attachments = AttachmentStore(engine: engine, now: now)
        self.drafts = TicketDraftStore(engine: engine, now: now)
        self.auditLog = AuditLogStore(engine: engine)
        self.notifications = NotificationStore(engine: engine, now: now)
        self.analytics = AnalyticsStore(engine: engine, now: now)
        self.outbox = Outbox(engine: engine, now: now)
        self.webhooks = WebhookStore(engine: engine, box: secrets, now: now)
        self.mailLinks = MailLinks(secrets: secrets)
        self.suppressions = MailSuppressions(engine: engine, now: now)
        self.mailDirectory = MailDirectory(engine: engine)
        self.accountTokens = AccountTokens(engine: engine, hasher: hasher, box: secrets, now: now)
    }

    /// Answers when the database does (for `/readyz`).
    public func ping() async throws {
        _ = try await self.engine.read { db in try await db.raw("SELECT 1 AS one").first() }
    }

    /// What a new organization starts with.
    public struct NewOrganization: Sendable {
        public var name: String
        public var owner: AgentStore.NewAgent
        public var site: SiteStore.NewSite?

        public init(name: String, owner: AgentStore.NewAgent, site: SiteStore.NewSite?) {
            self.name = name
            self.owner = owner
            self.site = site
        }
    }

    /// What creating an organization made.
    public struct CreatedOrganization: Sendable {
        public var organization: Organization
        public var owner: Agent
        public var site: Site?
    }

    /// Creates an organization with its owner (and a first site) in one transaction.
    public func createOrganization(_ new: NewOrganization) async throws -> CreatedOrganization {
        try await self.createOrganization(new, onlyIfNone: false)!
    }

    /// First start: creates the organization only when the database has none (several
    /// instances starting at once create one between them). Nil when one existed.
    public func createFirstOrganization(_ new: NewOrganization) async throws -> CreatedOrganization? {
        try await self.createOrganization(new, onlyIfNone: true)
    }

    private func createOrganization(_ new: NewOrganization, onlyIfNone: Bool) async throws -> CreatedOrganization? {
        let organization = Organization(
            id: .init(), name: try Validate.text(new.name, field: "name", max: 120), createdAt: Date())
        var (owner, passwordHash) = try await self.agents.prepare(new.owner, in: organization.id)
        owner.role = .owner
        let hash = passwordHash
        let site = try new.site.map { try self.sites.makeSite($0, in: organization.id) }
        let ownerAccount = owner
        let created = try await self.engine.transaction { db -> Bool in
            if onlyIfNone {
                if db.parleyDialect == .postgres { try await db.raw("SELECT pg_advisory_xact_lock(4242002)").run() }
                let any = try await db.raw("SELECT id FROM organizations LIMIT 1").first()
                if any != nil { return false }
            }
            try await OrganizationStore.insert(organization, into: db)
            try await AgentStore.insert(ownerAccount, passwordHash: hash, into: db)
            if let site { try await SiteStore.insert(site, into: db) }
            return true
        }
        return created ? CreatedOrganization(organization: organization, owner: owner, site: site) : nil
    }
}
