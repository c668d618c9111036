import Foundation
import ParleyAI
import ParleyMail
import Logging
import ParleyCore
import ParleyRealtime
import ParleyStore
import ServiceLifecycle
import Synchronization

/// Claims due jobs from the job table and runs them, one at a time, until graceful shutdown.
/// Several instances may run one each: the queue never gives a job to two of them at once.
struct JobRunner: Service {
    /// A job's work; throwing schedules a retry with backoff.
    typealias Handler = @Sendable (Job) async throws -> Void

    let jobs: JobQueue
    let handlers: [String: Handler]
    /// Opens once migrations have run; nothing is claimed before.
    let ready: StartupGate
    let pollInterval: Duration
    let worker: String
    let logger: Logger

    init(
        jobs: JobQueue, handlers: [String: Handler], ready: StartupGate, pollInterval: Duration = .seconds(1),
        logger: Logger
    ) {
        self.jobs = jobs
        self.ready = ready
        self.handlers = handlers
        self.pollInterval = pollInterval
        self.worker =
            "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(Secrets.randomString(6))"
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            guard await self.ready.wait() else { return }
            while !Task.isCancelled {
                await self.runDueJobs()
                do { try await Task.sleep(for: self.pollInterval) } catch { return }
            }
        }
    }

    /// Claims and runs what is due now; returns how many jobs ran.
    @discardableResult
    func runDueJobs() async -> Int {
        let claimed: [Job]
        do {
            // One at a time: a job (an email, two model calls) may take longer than the others'
            // leases would last, and another instance would claim them again.
            claimed = try await self.jobs.claim(limit: 1, worker: self.worker)
        } catch {
            if !Task.isCancelled { self.logger.warning("Could not claim jobs", metadata: ["parley.error": "\(error)"]) }
            return 0
        }
        for job in claimed {
            var logger = self.logger
            logger[metadataKey: "parley.job.id"] = "\(job.id)"
            logger[metadataKey: "parley.job.kind"] = "\(job.kind)"
            do {
                guard let handler = self.handlers[job.kind] else { throw UnknownJobKind(kind: job.kind) }
                try await handler(job)
                try await self.jobs.complete(job, worker: self.worker)
            } catch  where Task.isCancelled {
                // Shutting down mid-job is not the job's failure: its lease lapses and a worker
                // (here after a restart, or in another instance) runs it again.
                logger.info("Job interrupted by shutdown; it will run again when its lease ends")
                return claimed.count
            } catch {
                logger.warning(
                    "Job failed", metadata: ["parley.error": "\(error)", "parley.job.attempt": "\(job.attempts)"])
                try? await self.jobs.fail(job, worker: self.worker, error: "\(error)")
            }
        }
        return claimed.count
    }
}

/// A job whose kind no handler knows (written by a newer version, say); it is retried with backoff.
struct UnknownJobKind: Error, CustomStringConvertible {
    var kind: String
    var description: String { "no handler for job kind '\(self.kind)'" }
}

/// The recurring maintenance job: removes expired sessions, stale sign-in throttles and files no
/// message carries a day after their upload, then schedules itself again.
enum Maintenance {
    static let kind = "maintenance.cleanup"
    static let interval: TimeInterval = 3600

    static func schedule(_ stores: Stores, after delay: TimeInterval = 0) async throws {
        try await stores.jobs.enqueue(
            kind: self.kind, runAt: Date().addingTimeInterval(delay), uniqueKey: self.kind)
    }

    static func handler(_ stores: Stores, attachments: (any AttachmentStorage)? = nil) -> JobRunner.Handler {
        { _ in
            try await stores.sessions.deleteExpired()
            try await stores.loginThrottles.deleteStale()
            if let attachments {
                try await stores.attachments.deleteUnreferenced(
                    before: Date().addingTimeInterval(-86_400), storage: attachments)
            }
            try await self.schedule(stores, after: self.interval)
        }
    }
}

/// A one-time signal from start-up to the services that must not begin before it (the schema
/// must exist before jobs or outbox rows are claimed). Any number of services may wait.
final class StartupGate: Sendable {
    private struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    init() {}

    func open() {
        let waiters = self.state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// True once open; false if the waiting task was cancelled first (shutdown before start).
    func wait() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = self.state.withLock { state in
                    if state.open || Task.isCancelled { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiters = self.state.withLock { state in
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        return self.state.withLock { $0.open }
    }
}

/// The recurring job that closes conversations idle longer than the timeout, through the
/// writer (so subscribers hear of it), then schedules itself again a minute later.
enum IdleConversations {
    static let kind = "chat.close-idle"

    static func schedule(_ stores: Stores, after delay: TimeInterval = 60) async throws {
        try await stores.jobs.enqueue(kind: self.kind, runAt: Date().addingTimeInterval(delay), uniqueKey: self.kind)
    }

    static func handler(_ stores: Stores, writer: ChatWriter, timeout: TimeInterval) -> JobRunner.Handler {
        { _ in
            let idle = try await stores.chats.idleSessions(before: Date().addingTimeInterval(-timeout), limit: 500)
            for (session, organization) in idle {
                do {
                    _ = try await writer.submit(
                        .init(sessionID: session, organizationID: organization, actor: .system, command: .close(.idle)))
                } catch is InvalidTransition {
                    continue  // closed meanwhile
                }
            }
            try await self.schedule(stores, after: 60)
        }
    }
}

/// Every minute: SLA warnings and breaches (each once, the assignee notified, the inbox told), and
/// resolved tickets closed after the configured time.
enum TicketSweep {
    static let kind = "tickets.sweep"

    static func schedule(_ stores: Stores, after delay: TimeInterval = 60) async throws {
        try await stores.jobs.enqueue(kind: self.kind, runAt: Date().addingTimeInterval(delay), uniqueKey: self.kind)
    }

    static func handler(_ stores: Stores, writer: TicketWriter, autoCloseAfter: TimeInterval, logger: Logger)
        -> JobRunner.Handler
    {
        { _ in
            let result = try await writer.sweep(now: Date(), autoCloseAfter: autoCloseAfter)
            if !(result.warned.isEmpty && result.breached.isEmpty && result.closed.isEmpty) {
                logger.info(
                    "Swept tickets",
                    metadata: [
                        "parley.sla.warned": "\(result.warned.count)",
                        "parley.sla.breached": "\(result.breached.count)",
                        "parley.tickets.closed": "\(result.closed.count)",
                    ])
            }
            try await self.schedule(stores, after: 60)
        }
    }
}

/// The assistant's work on a ticket (queued with the ticket's creation and each customer reply):
/// classify a new ticket with the model (the keyword classification stands without one), draft a
/// reply for the agents, and resolve a new ticket itself when the organization's auto-resolve
/// threshold allows (flagged `aiResolved`; the customer can reopen it).
enum TicketAssist {
    /// `autoResolve` false (`PARLEY_ASSISTANT=off`: the team answers everything) keeps the
    /// classification and the drafts, which only help agents, and never answers a customer.
    static func handler(
        _ stores: Stores, assistant: Assistant, writer: TicketWriter, autoResolve: Bool = true, logger: Logger
    ) -> JobRunner.Handler {
        { job in
            let request = try JSONDecoder().decode(TicketStore.AssistJob.self, from: Data(job.payload.utf8))
            guard let id = Ticket.ID(request.ticket), let organization = Organization.ID(request.organization) else {
                return
            }
            try await self.run(
                id, in: organization, reason: request.reason, stores: stores, assistant: assistant, writer: writer,
                autoResolve: autoResolve, logger: logger)
        }
    }

    static func run(
        _ id: Ticket.ID, in organization: Organization.ID, reason: TicketStore.AssistJob.Reason, stores: Stores,
        assistant: Assistant, writer: TicketWriter, autoResolve: Bool = true, logger: Logger
    ) async throws {
        var ticket = try await stores.tickets.ticket(id, in: organization)
        guard ticket.status != .closed else { return }
        let thread = Visibility.customerThread(
            try await stores.tickets.messages(of: id, in: organization, includeInternal: true))
        if reason == .created, let first = thread.first,
            let classified = await assistant.classify(subject: ticket.subject, body: first.body, in: organization)
        {
            if let priority = classified.priority, priority != ticket.priority {
                ticket = try await writer.setPriority(priority, of: id, in: organization, by: .assistant)
            }
            if let category = classified.category, category != ticket.category {
                ticket = try await writer.setCategory(category, of: id, in: organization, by: .assistant)
            }
        }
        // Only while the customer waits for an answer (an agent may have answered meanwhile).
        guard let last = thread.last, last.role == .customer || (reason == .created && last.role == .system) else {
            return
        }
        guard let draft = try await assistant.draft(for: ticket, thread: thread) else { return }
        let stored = try await writer.addDraft(draft)
        let settings = try await stores.assistant.configuration(in: organization).settings
        let agentHasReplied = thread.contains { $0.role == .agent }
        if reason == .created, autoResolve,
            TicketDraft.mayAutoResolve(
                stored, threshold: settings.autoResolveThreshold, ticket: ticket, agentHasReplied: agentHasReplied)
        {
            // Only if nobody stepped in while the model was thinking.
            do {
                _ = try await writer.apply(
                    .aiResolve, to: id, in: organization, message: .init(role: .ai, body: stored.body),
                    by: .assistant, onlyIf: { stored.stillFits($0) })
            } catch is TicketStore.TicketChangedError {
                return  // a person stepped in; the draft waits for them
            }
            _ = try await stores.drafts.decide(
                stored.id, as: .autoSent, sentBody: stored.body, by: nil, in: organization)
            logger.info(
                "The assistant resolved a ticket",
                metadata: ["parley.ticket.id": "\(id)", "parley.ai.confidence": "\(stored.confidence)"])
        }
    }
}
