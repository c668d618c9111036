public import Foundation
public import Logging
public import ParleyStore
public import ParleyCore
public import ParleyAI
public import ParleyHTTP
public import ParleyMail
public import ParleyOutbound

/// Everything an operator can set, read from `PARLEY_*` environment variables and the flags of
/// the same names, and checked at start with an error that names the key.
public struct ParleyConfiguration: Sendable {
    /// The address to listen on (`PARLEY_HOST`).
    public var host: String = "127.0.0.1"
    /// The port to listen on (`PARLEY_PORT`).
    public var port: Int = 8080
    /// The public URL people reach Parley at (`PARLEY_BASE_URL`); links and the widget snippet use it.
    public var baseURL: String = "http://localhost:8080"
    /// Where files live (`PARLEY_DATA_DIR`).
    public var dataDirectory: String = "./parley-data"
    /// The database (`PARLEY_DATABASE_URL`); SQLite in the data directory by default.
    public var databaseURL: DatabaseURL = .sqlite(path: "./parley-data/parley.sqlite")
    /// `PARLEY_LOG_LEVEL`.
    public var logLevel: Logger.Level = .info
    /// `PARLEY_LOG_FORMAT`: `text` for people, `json` for log collectors.
    public var logFormat: LogFormat = .text
    /// First start's owner email (`PARLEY_ADMIN_EMAIL`).
    public var adminEmail: String?
    /// First start's owner password (`PARLEY_ADMIN_PASSWORD`); generated and printed once when unset.
    public var adminPassword: String?
    /// Run pending migrations when `serve` starts (`PARLEY_AUTO_MIGRATE`).
    public var autoMigrate: Bool = true
    /// The bcrypt cost for passwords (`PARLEY_BCRYPT_COST`, 4 to 31).
    public var bcryptCost: UInt8 = 12
    /// Proxies whose `X-Forwarded-For` is believed (`PARLEY_TRUSTED_PROXIES`, IPs and CIDR ranges).
    public var trustedProxies: TrustedProxies = .none
    /// Conversations idle this long are closed (`PARLEY_CHAT_IDLE_MINUTES`).
    public var chatIdleTimeout: TimeInterval = 30 * 60
    /// Visitor messages per minute per IP (`PARLEY_CHAT_RATE_LIMIT`).
    public var chatRateLimit: Int = 20
    /// Public (visitor) requests per minute per IP (`PARLEY_PUBLIC_RATE_LIMIT`).
    public var publicRateLimit: Int = 300
    /// Whether the assistant answers visitors and hands over (`PARLEY_ASSISTANT`); off leaves every
    /// conversation to the team.
    public var assistantEnabled: Bool = true
    /// The key that seals secrets at rest (`PARLEY_MASTER_KEY`: 64 hex digits or base64 of 32
    /// bytes); without it, `DATA_DIR/master.key` (created 0600).
    public var masterKey: String?
    /// The provider `AI_API_URL`, `AI_API_KEY` and `AI_MODEL` describe, stored for every
    /// organization that has none (nil when neither a URL nor a key is set).
    public var defaultProvider: AssistantStore.ProviderDraft?
    /// The embeddings provider `AI_EMBEDDINGS_URL`, `AI_EMBEDDINGS_MODEL`, `AI_EMBEDDINGS_QUERY_MODEL`
    /// and `AI_EMBEDDINGS_KEY` describe, stored for every organization that has none.
    public var defaultEmbeddings: EmbeddingsProvider?
    /// How long the assistant waits for a provider's first token, and between tokens
    /// (`PARLEY_AI_TIMEOUT_SECONDS`).
    public var aiTimeout: TimeInterval = 30
    /// Prompt and concurrency limits of the assistant (set in code: tests and small local models).
    public var assistantOptions = Assistant.Options()
    /// Resolved tickets close after this long (`PARLEY_TICKET_AUTO_CLOSE_HOURS`).
    public var ticketAutoCloseAfter: TimeInterval = 72 * 3600
    /// `serve --demo`: load the demo knowledge base and print where to try it.
    public var demo: Bool = false
    /// `PARLEY_WEB_DIR`: serve the widget's and dashboard's files from this folder, re-read on
    /// every request (for working on them), instead of the copies inside the binary.
    public var webDirectory: String?
    /// Where answers to tickets are emailed (`PARLEY_SMTP_URL`, `PARLEY_MAIL_FROM`); nil: no email.
    public var mail: SMTPConfiguration?
    /// How the outbox retries webhook deliveries and emails (`PARLEY_WEBHOOK_RETRY_HOURS`,
    /// `PARLEY_OUTBOX_RETRY_BASE_SECONDS`).
    public var outboxRetry = Outbox.RetryPolicy()
    /// How long an answer in a conversation waits, unread, before it is emailed to the visitor
    /// (`PARLEY_CHAT_EMAIL_DELAY_SECONDS`).
    public var chatEmailDelay: TimeInterval = 300
    /// The largest attachment accepted (`PARLEY_ATTACHMENT_MAX_MB`).
    public var attachmentMaxBytes: Int = 10 * 1024 * 1024
    /// Hosts and address ranges that requests to URLs an API user can set (AI providers,
    /// webhooks) may reach besides public addresses (`PARLEY_OUTBOUND_ALLOW`; default none).
    public var outboundPolicy: OutboundPolicy = .strict
    /// How those requests resolve host names (set in code: tests answer with stubs).
    public var outboundResolver: OutboundResolver = .system

    /// The guard for every request to a URL an API user can set: `outboundPolicy`, plus the host
    /// of `AI_API_URL` (the operator set it, so the provider seeded from it is trusted as it is),
    /// resolving with `outboundResolver`.
    public var outboundGuard: OutboundGuard {
        var policy = self.outboundPolicy
        for url in [self.defaultProvider?.baseURL, self.defaultEmbeddings?.baseURL].compactMap({ $0 }) {
            if let parsed = try? OutboundURL(url) { policy = policy.allowing(host: parsed.host) }
        }
        return OutboundGuard(policy: policy, resolver: self.outboundResolver)
    }

    /// How log lines are written.
    public enum LogFormat: String, Sendable, CaseIterable {
        /// One readable line each.
        case text
        /// One JSON object each.
        case json
    }

    /// A key with a value that can't be used.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public var key: String
        public var message: String
        public var description: String { "\(self.key): \(self.message)" }
    }

    /// Every key, its flag and what it means: the README's table comes from the same list.
    public static let keys: [(key: String, flag: String, meaning: String)] = [
        ("PARLEY_HOST", "--host", "Address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces)"),
        ("PARLEY_PORT", "--port", "Port to listen on (default 8080)"),
        (
            "PARLEY_BASE_URL", "--base-url",
            "Public URL, used in links and the widget snippet (default http://localhost:PORT)"
        ),
        ("PARLEY_DATA_DIR", "--data-dir", "Data directory (default ./parley-data)"),
        (
            "PARLEY_DATABASE_URL", "--database-url",
            "sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB (default sqlite://DATA_DIR/parley.sqlite)"
        ),
        ("PARLEY_LOG_LEVEL", "--log-level", "trace, debug, info, notice, warning, error or critical (default info)"),
        ("PARLEY_LOG_FORMAT", "--log-format", "text or json (default text)"),
        ("PARLEY_ADMIN_EMAIL", "", "First start: the owner's email (default admin@example.com)"),
        ("PARLEY_ADMIN_PASSWORD", "", "First start: the owner's password (default: generated and printed once)"),
        ("PARLEY_AUTO_MIGRATE", "", "Run pending migrations when serve starts: true or false (default true)"),
        ("PARLEY_BCRYPT_COST", "", "bcrypt cost for passwords, 4 to 31 (default 12)"),
        ("PARLEY_TRUSTED_PROXIES", "", "IPs/CIDR ranges of proxies whose X-Forwarded-For is believed (default none)"),
        ("PARLEY_CHAT_IDLE_MINUTES", "", "Close conversations idle this many minutes (default 30)"),
        ("PARLEY_CHAT_RATE_LIMIT", "", "Visitor messages per minute per IP (default 20)"),
        ("PARLEY_PUBLIC_RATE_LIMIT", "", "Public (visitor) requests per minute per IP (default 300)"),
        (
            "PARLEY_ASSISTANT", "",
            "on: the assistant answers from the knowledge base and hands over; off: the team answers everything (default on)"
        ),
        (
            "PARLEY_MASTER_KEY", "",
            "Key sealing stored secrets (AES-256-GCM): 64 hex digits or base64 of 32 bytes (default: DATA_DIR/master.key, created 0600)"
        ),
        (
            "AI_API_URL", "",
            "Default AI provider's OpenAI-compatible API root (default https://api.openai.com/v1 when AI_API_KEY is set)"
        ),
        ("AI_API_KEY", "", "Default AI provider's API key (stored sealed for organizations without a provider)"),
        ("AI_MODEL", "", "Default AI provider's model (default gpt-4o-mini)"),
        (
            "AI_EMBEDDINGS_URL", "",
            "Embeddings provider's OpenAI-compatible API root, for hybrid retrieval (default: none, or OpenAI's with AI_API_KEY when AI_API_URL is OpenAI's)"
        ),
        ("AI_EMBEDDINGS_MODEL", "", "Model passages are embedded with (default text-embedding-3-small)"),
        ("AI_EMBEDDINGS_QUERY_MODEL", "", "Model questions are embedded with (default: AI_EMBEDDINGS_MODEL)"),
        ("AI_EMBEDDINGS_KEY", "", "Embeddings provider's API key (stored sealed)"),
        (
            "PARLEY_SMTP_URL", "",
            "Send email through this SMTP server: smtps://user:pass@host (TLS, 465), smtp://user:pass@host:587 (STARTTLS, required to any other machine; ?starttls=required|opportunistic|never), smtp://127.0.0.1:25 (a local relay) (default: no email)"
        ),
        (
            "PARLEY_SMTP_CA_FILE", "",
            "PEM certificates to trust for the SMTP server instead of the system's (a private CA); certificates are always verified"
        ),
        ("PARLEY_MAIL_FROM_NAME", "", "The sender's name on emails (default: the organization's name)"),
        ("PARLEY_MAIL_FROM", "", "The sender of Parley's emails (required with PARLEY_SMTP_URL)"),
        ("PARLEY_ATTACHMENT_MAX_MB", "", "Largest attachment accepted, in MB, 1 to 100 (default 10)"),
        (
            "PARLEY_WEB_DIR", "",
            "Serve the widget's and dashboard's files from this folder, re-read on every request (development)"
        ),
        (
            "PARLEY_WEBHOOK_RETRY_HOURS", "",
            "Retry a failed webhook delivery or email for this many hours, then leave it dead for admins to see (default 24)"
        ),
        (
            "PARLEY_CHAT_EMAIL_DELAY_SECONDS", "",
            "An answer in a conversation that the visitor has not read in the widget after this many seconds is emailed to them (default 300)"
        ),
        (
            "PARLEY_OUTBOX_RETRY_BASE_SECONDS", "",
            "First retry after this many seconds, each next one twice as late (±20%), at most an hour apart (default 5)"
        ),
        (
            "PARLEY_OUTBOUND_ALLOW", "",
            "Hosts, IPs and CIDR ranges AI providers and webhooks may reach besides public addresses, comma-separated (default none)"
        ),
        (
            "PARLEY_AI_TIMEOUT_SECONDS", "",
            "Wait for a provider's first token and between tokens, 1 to 600 (default 30)"
        ),
    ]

    public init() {}

    /// Reads the configuration: a flag wins over the environment, which wins over the default.
    public static func load(environment: [String: String], flags: [String: String] = [:]) throws(Error)
        -> ParleyConfiguration
    {
        var configuration = ParleyConfiguration()
        func value(_ key: String) -> String? {
            let raw = flags[key] ?? environment[key]
            guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        if let host = value("PARLEY_HOST") { configuration.host = host }
        if let port = value("PARLEY_PORT") {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw Error(key: "PARLEY_PORT", message: "must be a port number from 1 to 65535, got '\(port)'")
            }
            configuration.port = number
        }
        if let base = value("PARLEY_BASE_URL") {
            let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
            guard let url = URLComponents(string: trimmed), let scheme = url.scheme,
                scheme == "http" || scheme == "https",
                url.host?.isEmpty == false, url.query == nil
            else {
                throw Error(
                    key: "PARLEY_BASE_URL",
                    message: "must be an http(s) URL like https://support.example.com, got '\(base)'")
            }
            configuration.baseURL = trimmed
        } else {
            let host =
                ["0.0.0.0", "127.0.0.1", "::", "::1"].contains(configuration.host) ? "localhost" : configuration.host
            configuration.baseURL = "http://\(host):\(configuration.port)"
        }
        if let directory = value("PARLEY_DATA_DIR") { configuration.dataDirectory = directory }
        if let url = value("PARLEY_DATABASE_URL") {
            do {
                configuration.databaseURL = try DatabaseURL(parsing: url)
            } catch {
                throw Error(key: "PARLEY_DATABASE_URL", message: error.description)
            }
        } else {
            configuration.databaseURL = .sqlite(path: "\(configuration.dataDirectory)/parley.sqlite")
        }
        if let level = value("PARLEY_LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw Error(
                    key: "PARLEY_LOG_LEVEL",
                    message: "must be one of trace, debug, info, notice, warning, error, critical; got '\(level)'")
            }
            configuration.logLevel = parsed
        }
        if let format = value("PARLEY_LOG_FORMAT") {
            guard let parsed = LogFormat(rawValue: format.lowercased()) else {
                throw Error(key: "PARLEY_LOG_FORMAT", message: "must be text or json, got '\(format)'")
            }
            configuration.logFormat = parsed
        }
        if let email = value("PARLEY_ADMIN_EMAIL") { configuration.adminEmail = email }
        if let password = value("PARLEY_ADMIN_PASSWORD") { configuration.adminPassword = password }
        if let migrate = value("PARLEY_AUTO_MIGRATE") {
            guard let flag = Bool(migrate.lowercased()) else {
                throw Error(key: "PARLEY_AUTO_MIGRATE", message: "must be true or false, got '\(migrate)'")
            }
            configuration.autoMigrate = flag
        }
        if let cost = value("PARLEY_BCRYPT_COST") {
            guard let number = UInt8(cost), (4...31).contains(number) else {
                throw Error(key: "PARLEY_BCRYPT_COST", message: "must be a whole number from 4 to 31, got '\(cost)'")
            }
            configuration.bcryptCost = number
        }
        if let assistant = value("PARLEY_ASSISTANT") {
            switch assistant.lowercased() {
            case "on", "true": configuration.assistantEnabled = true
            case "off", "false": configuration.assistantEnabled = false
            default: throw Error(key: "PARLEY_ASSISTANT", message: "must be on or off, got '\(assistant)'")
            }
        }
        if let proxies = value("PARLEY_TRUSTED_PROXIES") {
            do {
                configuration.trustedProxies = try TrustedProxies(parsing: proxies)
            } catch {
                throw Error(key: "PARLEY_TRUSTED_PROXIES", message: "\(error)")
            }
        }
        if let minutes = value("PARLEY_CHAT_IDLE_MINUTES") {
            guard let number = Int(minutes), (1...10_080).contains(number) else {
                throw Error(
                    key: "PARLEY_CHAT_IDLE_MINUTES",
                    message: "must be a whole number of minutes from 1 to 10080, got '\(minutes)'")
            }
            configuration.chatIdleTimeout = TimeInterval(number * 60)
        }
        if let key = value("PARLEY_MASTER_KEY") {
            do {
                _ = try SecretBox.parse(key)
            } catch {
                throw Error(key: "PARLEY_MASTER_KEY", message: "must be 64 hex digits or base64 of 32 bytes")
            }
            configuration.masterKey = key
        }
        if let folder = value("PARLEY_WEB_DIR") {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw Error(key: "PARLEY_WEB_DIR", message: "must be a folder, got '\(folder)'")
            }
            configuration.webDirectory = folder
        }
        let aiURL = value("AI_API_URL")
        let aiKey = value("AI_API_KEY")
        if aiURL != nil || aiKey != nil {
            let url = aiURL ?? ProviderKind.openai.defaultBaseURL
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                throw Error(
                    key: "AI_API_URL", message: "must be an http(s) URL like http://127.0.0.1:11434/v1, got '\(url)'")
            }
            configuration.defaultProvider = AssistantStore.ProviderDraft(
                kind: .openai, name: "default", baseURL: url, model: value("AI_MODEL") ?? "gpt-4o-mini", apiKey: aiKey)
        }
        if let url = value("AI_EMBEDDINGS_URL") {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                throw Error(
                    key: "AI_EMBEDDINGS_URL",
                    message: "must be an http(s) URL like http://127.0.0.1:8091/v1, got '\(url)'")
            }
            let model = value("AI_EMBEDDINGS_MODEL") ?? EmbeddingsProvider.openAIDefaultModel
            configuration.defaultEmbeddings = EmbeddingsProvider(
                kind: .openai, baseURL: url, model: model, queryModel: value("AI_EMBEDDINGS_QUERY_MODEL") ?? model,
                apiKey: value("AI_EMBEDDINGS_KEY"))
        }
        if let url = value("PARLEY_SMTP_URL") {
            var mail: SMTPConfiguration
            do {
                mail = try SMTPConfiguration(url: url, from: "")
            } catch {
                throw Error(key: "PARLEY_SMTP_URL", message: "\(error)")
            }
            guard let from = value("PARLEY_MAIL_FROM") else {
                throw Error(key: "PARLEY_MAIL_FROM", message: "is required with PARLEY_SMTP_URL (support@example.com)")
            }
            guard (try? Validate.email(from, field: "PARLEY_MAIL_FROM")) != nil else {
                throw Error(key: "PARLEY_MAIL_FROM", message: "must be an email address, got '\(from)'")
            }
            mail.from = from
            mail.fromName = value("PARLEY_MAIL_FROM_NAME")
            if let file = value("PARLEY_SMTP_CA_FILE") {
                guard FileManager.default.isReadableFile(atPath: file) else {
                    throw Error(key: "PARLEY_SMTP_CA_FILE", message: "is not a readable file: '\(file)'")
                }
                mail.trustedCAFile = file
            }
            configuration.mail = mail
        }
        if let megabytes = value("PARLEY_ATTACHMENT_MAX_MB") {
            guard let number = Int(megabytes), (1...100).contains(number) else {
                throw Error(
                    key: "PARLEY_ATTACHMENT_MAX_MB", message: "must be a whole number from 1 to 100, got '\(megabytes)'"
                )
            }
            configuration.attachmentMaxBytes = number * 1024 * 1024
        }
        if let hours = value("PARLEY_TICKET_AUTO_CLOSE_HOURS") {
            guard let number = Int(hours), (1...8760).contains(number) else {
                throw Error(
                    key: "PARLEY_TICKET_AUTO_CLOSE_HOURS",
                    message: "must be a whole number from 1 to 8760, got '\(hours)'")
            }
            configuration.ticketAutoCloseAfter = TimeInterval(number * 3600)
        }
        if let hours = value("PARLEY_WEBHOOK_RETRY_HOURS") {
            guard let number = Double(hours), number > 0, number <= 720 else {
                throw Error(
                    key: "PARLEY_WEBHOOK_RETRY_HOURS",
                    message: "must be a number of hours above 0, at most 720, got '\(hours)'")
            }
            configuration.outboxRetry.budget = number * 3600
        }
        if let seconds = value("PARLEY_OUTBOX_RETRY_BASE_SECONDS") {
            guard let number = Double(seconds), number >= 0.05, number <= 3600 else {
                throw Error(
                    key: "PARLEY_OUTBOX_RETRY_BASE_SECONDS",
                    message: "must be a number from 0.05 to 3600, got '\(seconds)'")
            }
            configuration.outboxRetry.base = number
        }
        if let seconds = value("PARLEY_CHAT_EMAIL_DELAY_SECONDS") {
            guard let number = Double(seconds), number >= 0, number <= 86_400 else {
                throw Error(
                    key: "PARLEY_CHAT_EMAIL_DELAY_SECONDS",
                    message: "must be a number of seconds from 0 to 86400, got '\(seconds)'")
            }
            configuration.chatEmailDelay = number
        }
        if let timeout = value("PARLEY_AI_TIMEOUT_SECONDS") {
            guard let number = Int(timeout), (1...600).contains(number) else {
                throw Error(
                    key: "PARLEY_AI_TIMEOUT_SECONDS", message: "must be a whole number from 1 to 600, got '\(timeout)'")
            }
            configuration.aiTimeout = TimeInterval(number)
        }
        if let allow = value("PARLEY_OUTBOUND_ALLOW") {
            let entries = allow.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            do {
                configuration.outboundPolicy = try OutboundPolicy(allowing: entries)
            } catch {
                throw Error(key: "PARLEY_OUTBOUND_ALLOW", message: "\(error)")
            }
        }
        for (key, path) in [
            ("PARLEY_CHAT_RATE_LIMIT", \ParleyConfiguration.chatRateLimit),
            ("PARLEY_PUBLIC_RATE_LIMIT", \.publicRateLimit),
        ] {
            if let text = value(key) {
                guard let number = Int(text), (1...1_000_000).contains(number) else {
                    throw Error(key: key, message: "must be a whole number of requests per minute, got '\(text)'")
                }
                configuration[keyPath: path] = number
            }
        }
        return configuration
    }
}

extension ParleyConfiguration {
    /// Stores the providers `AI_API_*` and `AI_EMBEDDINGS_*` describe for every organization
    /// that has none (serve, eval and kb reindex alike).
    public func seedProviders(_ stores: Stores, logger: Logger) async throws {
        if let provider = self.defaultProvider {
            let seeded = try await stores.assistant.seedDefaultProvider(provider)
            if seeded > 0 {
                logger.info(
                    "Stored the default AI provider from AI_API_URL/AI_API_KEY/AI_MODEL",
                    metadata: ["parley.organizations": "\(seeded)", "parley.ai.model": "\(provider.model)"])
            }
        }
        if let embeddings = self.defaultEmbeddings {
            let seeded = try await stores.assistant.seedEmbeddingsProvider(embeddings)
            if seeded > 0 {
                logger.info(
                    "Stored the embeddings provider from AI_EMBEDDINGS_URL/AI_EMBEDDINGS_MODEL",
                    metadata: ["parley.organizations": "\(seeded)", "parley.ai.model": "\(embeddings.model)"])
            }
        }
    }
}
