import Foundation
import Logging
import ParleyCore
import ParleyMail
import ParleyStore
import ServiceLifecycle
import Synchronization

/// What one webhook POST answered.
struct WebhookAnswer: Sendable {
    var status: Int
    /// At most 64 KB of the body.
    var body: [UInt8]
    var latency: Duration
}

/// POSTs a webhook: `(url, headers, body)`; throws for a refused address, a timeout or a failed
/// connection.
typealias WebhookPoster = @Sendable (String, [(String, String)], [UInt8]) async throws -> WebhookAnswer

/// Delivers the outbox: claims due rows (webhook deliveries, emails), several at a time, sends
/// each, and records how it went, until graceful shutdown. Woken by commits that may have written
/// rows, and by the clock for retries. Several instances may run one each (the claim is a lease).
final class OutboxWorker: Service, Sendable {
    let stores: Stores
    let policy: Outbox.RetryPolicy
    let mail: SMTPConfiguration?
    /// The public URL, for the links emails carry.
    let baseURL: String
    let post: WebhookPoster
    let ready: StartupGate
    let logger: Logger
    let worker: String
    /// How many rows are sent at once (one slow endpoint never holds up the others).
    let concurrency = 16
    private let inFlight = Atomic<Int>(0)
    private let wake = WakeSignal()

    init(
        stores: Stores, policy: Outbox.RetryPolicy, mail: SMTPConfiguration?, baseURL: String,
        post: @escaping WebhookPoster, ready: StartupGate, logger: Logger
    ) {
        self.stores = stores
        self.policy = policy
        self.mail = mail
        self.baseURL = baseURL
        self.post = post
        self.ready = ready
        self.logger = logger
        self.worker =
            "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(Secrets.randomString(6))"
    }

    /// The commit hook's listener: a commit that wrote rows wakes the worker at once (the others
    /// are picked up within a second).
    func committed(_ events: [DomainEvent]) {
        if Outbox.doorbell.answer() { self.wake.signal() }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            guard await self.ready.wait() else { return }
            if self.stores.engine.dialect == .sqlite {
                // One process owns an SQLite file: what a killed one had claimed is free now.
                try? await self.stores.outbox.releaseClaims()
            }
            // Up to `concurrency` sends at once; a free slot is filled at once, so an endpoint
            // that hangs for its 10 s never holds up the others' deliveries and retries.
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let free = self.concurrency - self.inFlight.load(ordering: .relaxed)
                    let claimed = free > 0 ? await self.claim(limit: free) : []
                    for item in claimed {
                        self.inFlight.add(1, ordering: .relaxed)
                        group.addTask {
                            await self.send(item)
                            self.inFlight.subtract(1, ordering: .relaxed)
                            self.wake.signal()  // a slot is free, and the next row of its key may be due
                        }
                    }
                    if !claimed.isEmpty { continue }
                    // Nothing to start: sleep until a commit or a finished send wakes us, the next
                    // retry falls due, or a second passes (other instances' rows).
                    await self.nap()
                }
            }
        }
    }

    /// Claims up to `limit` due rows (none when the claim fails; it is tried again after a nap).
    private func claim(limit: Int) async -> [Outbox.Item] {
        do {
            return try await self.stores.outbox.claim(limit: limit, worker: self.worker)
        } catch {
            if !Task.isCancelled {
                self.logger.warning("Could not claim outbox rows", metadata: ["parley.error": "\(error)"])
            }
            return []
        }
    }

    /// Waits for a wake-up from a commit, or until the next retry falls due, at most a second.
    private func nap() async {
        let due = try? await self.stores.outbox.nextDue()
        let wait = due.map { min(1, max(0.01, $0.timeIntervalSinceNow)) } ?? 1
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                self.wake.signal()
            }
            await self.wake.wait()
            group.cancelAll()
        }
    }

    func send(_ item: Outbox.Item) async {
        var logger = self.logger
        logger[metadataKey: "parley.outbox.id"] = "\(item.id)"
        logger[metadataKey: "parley.outbox.kind"] = "\(item.kind.rawValue)"
        let attempt: Outbox.Attempt
        switch item.kind {
        case .webhook:
            guard let target = item.targetID,
                let (endpoint, secret) = try? await self.stores.webhooks.forDelivery(target, in: item.organizationID)
            else {
                attempt = Outbox.Attempt(
                    status: nil, latencyMilliseconds: nil, error: "The endpoint was deleted.", excerpt: nil)
                break
            }
            if !endpoint.active && item.eventType != WebhookEvent.testType {
                // Paused: kept for when it is turned on again.
                try? await self.stores.outbox.postpone(item, worker: self.worker, until: Date().addingTimeInterval(60))
                return
            }
            attempt = await self.deliverWebhook(item, to: endpoint.url, secret: secret)
        case .email:
            attempt = await self.sendEmail(item, logger: logger)
        }
        // Cut short by shutdown: not the endpoint's failure. The claim lapses (at once on the next
        // start with SQLite) and the row is sent again, with the same id.
        if Task.isCancelled { return }
        do {
            if attempt.succeeded {
                try await self.stores.outbox.delivered(item, worker: self.worker, attempt: attempt)
            } else {
                let left = try await self.stores.outbox.failed(
                    item, worker: self.worker, attempt: attempt, policy: self.policy)
                logger.warning(
                    left == .dead ? "Delivery failed for good; it waits for an admin" : "Delivery failed; retrying",
                    metadata: [
                        "parley.outbox.attempt": "\(item.attempts)", "parley.outbox.error": "\(attempt.error ?? "")",
                        "parley.outbox.status": "\(attempt.status.map(String.init) ?? "none")",
                    ])
            }
        } catch {
            logger.warning("Could not record a delivery", metadata: ["parley.error": "\(error)"])
        }
    }

    /// One signed POST (Standard Webhooks): any 2xx is success; a redirect is not followed.
    func deliverWebhook(_ item: Outbox.Item, to url: String, secret: String) async -> Outbox.Attempt {
        let timestamp = Int(Date().timeIntervalSince1970)
        let headers = [
            ("content-type", "application/json"), ("user-agent", "Parley-Webhooks/1"), ("webhook-id", item.id),
            ("webhook-timestamp", "\(timestamp)"),
            (
                "webhook-signature",
                WebhookSignature.sign(secret: secret, id: item.id, timestamp: timestamp, body: item.payload)
            ),
        ]
        do {
            let answer = try await self.post(url, headers, Array(item.payload.utf8))
            let milliseconds = Int(
                answer.latency.components.seconds * 1000 + answer.latency.components.attoseconds / 1_000_000_000_000_000
            )
            let excerpt = String(decoding: answer.body.prefix(1024), as: UTF8.self)
            let success = (200..<300).contains(answer.status)
            return Outbox.Attempt(
                status: answer.status, latencyMilliseconds: milliseconds,
                error: success ? nil : "The endpoint answered \(answer.status).", excerpt: excerpt)
        } catch {
            return Outbox.Attempt(status: nil, latencyMilliseconds: nil, error: "\(error)", excerpt: nil)
        }
    }

    func sendEmail(_ item: Outbox.Item, logger: Logger) async -> Outbox.Attempt {
        guard let mail = self.mail else {
            return Outbox.Attempt(
                status: nil, latencyMilliseconds: nil, error: "No mail server is configured.", excerpt: nil)
        }
        let started = ContinuousClock.now
        do {
            try await Mailer(stores: self.stores, mail: mail, baseURL: self.baseURL, logger: logger).send(item)
            let elapsed = ContinuousClock.now - started
            return Outbox.Attempt(
                status: nil, latencyMilliseconds: Int(elapsed.components.seconds * 1000), error: nil, excerpt: nil)
        } catch {
            return Outbox.Attempt(status: nil, latencyMilliseconds: nil, error: "\(error)", excerpt: nil)
        }
    }
}

extension Outbox.Attempt {
    var succeeded: Bool { self.error == nil && (self.status.map { (200..<300).contains($0) } ?? true) }
}

/// A wake-up call for one waiter: `signal` before `wait` is remembered (once).
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func signal() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = self.state.withLock { state -> Bool in
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }
}
