import Foundation
public import Hummingbird
import HummingbirdWebSocket
public import Logging
import AsyncHTTPClient
import NIOCore
public import ParleyAI
import ParleyCore
import ParleyHTTP
import ParleyOutbound
import ParleyRealtime
public import ParleyStore
import ServiceLifecycle
import Synchronization

/// Writes a line to standard output unbuffered, so that first start's credentials reach a log
/// file or a pipe at once.
public func writeToStandardOutput(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Builds Parley as a Hummingbird application: the database engine (opened from the
/// configuration, or the one given), the stores, the event bus, the conversation writer, the
/// routes and the WebSocket gateway, and the background jobs.
///
/// Services start in dependency order (database, event bus, writer, jobs, HTTP) and stop in
/// reverse. Pending migrations and first start run before the server accepts connections. Pass
/// an engine to embed Parley beside an engine you run yourself (tests do); it is then not added
/// as a service here.
public func buildApplication(
    _ configuration: ParleyConfiguration,
    logger: Logger = Logger(label: "parley"),
    database: (any DatabaseEngine)? = nil,
    output: @escaping @Sendable (String) -> Void = writeToStandardOutput
) async throws -> some ApplicationProtocol {
    let engine: any DatabaseEngine
    if let database {
        engine = database
    } else {
        engine = try await Databases.open(configuration.databaseURL, logger: logger)
    }
    let secrets = try SecretBox.load(masterKey: configuration.masterKey, directory: configuration.dataDirectory)
    let stores = Stores(engine: engine, hasher: PasswordHasher(cost: configuration.bcryptCost), secrets: secrets)
    let registry = ParleyMetrics.bootstrap()
    let instance =
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(Secrets.randomString(8))"

    let started = StartupGate()
    let hub = RealtimeHub()
    let bus: any EventBus
    if let postgres = engine as? PostgresEngine {
        bus = PostgresEventBus(
            hub: hub, engine: postgres, chats: stores.chats, tickets: stores.tickets, origin: instance, logger: logger)
    } else {
        bus = LocalEventBus(hub: hub)
    }
    // The one road: every change commits through one committer, whose recorders write what its
    // events call for in the same transaction (webhook deliveries, emails) and whose commit hook
    // hands the events, in commit order, to the listeners registered below.
    let listeners = CommitListeners()
    var recorders: [any CommitRecorder] = [WebhookRecorder()]
    if configuration.mail != nil { recorders.append(MailRecorder(chatDelay: configuration.chatEmailDelay)) }
    let committer = Committer(engine: engine, origin: instance, recorders: recorders) { events in
        listeners.notify(events)
    }
    let writer = ChatWriter(committer: committer, logger: logger)
    let ticketWriter = TicketWriter(committer: committer, tickets: stores.tickets)
    let handoff = Handoff(
        chats: stores.chats, tickets: stores.tickets, writer: writer, ticketWriter: ticketWriter,
        emailEnabled: configuration.mail != nil)
    // Every request to a URL an API user can set goes through one guard: provider and webhook
    // URLs are checked when saved and again on every request, which is pinned to the checked address.
    let outbound = configuration.outboundGuard
    // One pool of HTTP clients for every provider; its read timeout bounds the wait for the
    // first token and between tokens.
    let timeout = TimeAmount.milliseconds(Int64(configuration.aiTimeout * 1000))
    // AsyncHTTPClient keeps 8 connections per host by default: a stream holds one for its whole
    // length, so allow as many as the assistant answers at once.
    var clientConfiguration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: timeout))
    clientConfiguration.connectionPool = .init(
        idleTimeout: .seconds(60),
        concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.assistantOptions.concurrentAnswers)
    let httpClient = OutboundClient(guard: outbound, configuration: clientConfiguration)
    let attachmentStorage = try DiskAttachmentStorage(
        folder: URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("attachments"))
    let assistant = Assistant(
        stores: stores, writer: writer, handoff: handoff, client: httpClient, options: configuration.assistantOptions,
        logger: logger,
        images: { id, organization in
            let attachment = try await stores.attachments.find(id, in: organization)
            return ImagePart(
                mediaType: attachment.contentType, data: try await attachmentStorage.get(attachment.storageKey))
        }
    ) { delta in
        bus.relay(
            .messageDelta(
                session: delta.sessionID, organization: delta.organizationID, streamID: delta.streamID,
                replyTo: delta.replyTo, index: delta.index, text: delta.text, done: delta.done, outcome: delta.outcome),
            from: nil)
    }
    let outboxWorker = OutboxWorker(
        stores: stores, policy: configuration.outboxRetry, mail: configuration.mail, baseURL: configuration.baseURL,
        post: { url, headers, body in
            // 5 s to connect, 10 s in all, at most 64 KB read, no redirect followed, pinned address.
            let answer = try await outbound.post(url, headers: headers, body: body)
            return WebhookAnswer(status: answer.status, body: answer.body, latency: answer.latency)
        }, ready: started, logger: logger)
    // The listeners, in one place: the hub (through the bus), the assistant, the outbox's worker.
    listeners.add { bus.publish($0) }
    if configuration.assistantEnabled { listeners.add { assistant.handle($0) } }
    listeners.add { outboxWorker.committed($0) }
    let tokens = VisitorTokens()
    let router = try buildRouter(
        try HTTPDependencies(
            stores: stores, baseURL: configuration.baseURL, metrics: { registry.emitToString() }, hub: hub, bus: bus,
            writer: writer, ticketWriter: ticketWriter, handoff: handoff, tokens: tokens,
            trustedProxies: configuration.trustedProxies,
            messageLimiter: RateLimiter(limit: configuration.chatRateLimit, per: 60),
            publicLimiter: RateLimiter(limit: configuration.publicRateLimit, per: 60),
            web: try WebAssets(folder: configuration.webDirectory), demo: configuration.demo,
            attachmentStorage: attachmentStorage,
            attachmentPolicy: AttachmentPolicy(
                maxBytes: configuration.attachmentMaxBytes, allowedTypes: AttachmentPolicy.standard.allowedTypes),
            drafter: { ticket, thread in try await assistant.draft(for: ticket, thread: thread) },
            searcher: { text, organization, published, limit in
                try await assistant.retriever.search(
                    text, in: organization, publishedOnly: published, limit: limit
                ).hits
            },
            outbound: outbound, mailFrom: configuration.mail?.from))

    let jobRunner = JobRunner(
        jobs: stores.jobs,
        handlers: [
            Maintenance.kind: Maintenance.handler(stores, attachments: attachmentStorage),
            IdleConversations.kind: IdleConversations.handler(
                stores, writer: writer, timeout: configuration.chatIdleTimeout),
            TicketSweep.kind: TicketSweep.handler(
                stores, writer: ticketWriter, autoCloseAfter: configuration.ticketAutoCloseAfter, logger: logger),
            TicketStore.AssistJob.kind: TicketAssist.handler(
                stores, assistant: assistant, writer: ticketWriter, autoResolve: configuration.assistantEnabled,
                logger: logger),
        ],
        ready: started, logger: logger)

    var services: [any Service] = []
    if database == nil { services.append(engine) }
    services += [HTTPClientService(client: httpClient), bus, writer]
    if configuration.assistantEnabled {
        services.append(assistant)
        services.append(
            KnowledgeIndexService(
                stores: stores, indexer: KnowledgeIndexer(stores: stores, client: httpClient, logger: logger),
                ready: started, logger: logger))
    }
    services += [jobRunner, outboxWorker]
    var app = Application(
        router: router,
        server: .http1WebSocketUpgrade(
            webSocketRouter: router,
            configuration: .init(
                ws: .init(maxFrameSize: RealtimeGateway.maximumFrameSize, autoPing: .enabled(timePeriod: .seconds(30))))
        ),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Parley"),
        services: services,
        logger: logger
    )
    app.beforeServerStarts {
        if configuration.autoMigrate {
            try await Migrator.migrate(engine, logger: logger)
        }
        tokens.install(secret: try await stores.chats.serverKey("visitor-token") { Secrets.token() + Secrets.token() })
        try await FirstStart.run(stores: stores, configuration: configuration, output: output)
        try await configuration.seedProviders(stores, logger: logger)
        if configuration.demo { try await Demo.load(stores: stores, output: output) }
        try await Maintenance.schedule(stores)
        try await IdleConversations.schedule(stores)
        try await TicketSweep.schedule(stores)
        started.open()
        logger.info(
            "Parley is listening",
            metadata: ["parley.url": "\(configuration.baseURL)", "parley.database": "\(configuration.databaseURL)"])
    }
    return app
}

/// Who hears what was committed, in commit order: the listeners registered in `buildApplication`.
final class CommitListeners: Sendable {
    private let listeners = Mutex<[@Sendable ([DomainEvent]) -> Void]>([])

    func add(_ listener: @escaping @Sendable ([DomainEvent]) -> Void) {
        self.listeners.withLock { $0.append(listener) }
    }

    func notify(_ events: [DomainEvent]) {
        for listener in self.listeners.withLock({ $0 }) { listener(events) }
    }
}

/// Shuts the providers' HTTP clients down after everything that uses them has stopped.
struct HTTPClientService: Service {
    let client: OutboundClient

    func run() async throws {
        try? await gracefulShutdown()
        try await self.client.shutdown()
    }
}
