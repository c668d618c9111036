import ArgumentParser
import AsyncHTTPClient
import ParleyAI
import Foundation
import Logging
import ParleyApp
import ParleyCore
import ParleyStore
import ParleyOutbound

@main
struct ParleyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley: AI-first customer support in one binary.",
        subcommands: [Serve.self, Migrate.self, Org.self, User.self, Site.self, KB.self, Eval.self, Bench.self],
        defaultSubcommand: Serve.self
    )
}

/// The flags every command shares; each overrides its `PARLEY_*` environment variable.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "Address to listen on (PARLEY_HOST).") var host: String?
    @Option(help: "Port to listen on (PARLEY_PORT).") var port: String?
    @Option(help: "Public URL (PARLEY_BASE_URL).") var baseURL: String?
    @Option(help: "Database URL: sqlite://PATH or postgres://... (PARLEY_DATABASE_URL).") var databaseURL: String?
    @Option(help: "Data directory (PARLEY_DATA_DIR).") var dataDir: String?
    @Option(help: "Log level (PARLEY_LOG_LEVEL).") var logLevel: String?
    @Option(help: "Log format: text or json (PARLEY_LOG_FORMAT).") var logFormat: String?

    /// The validated configuration, or an error naming the bad key.
    func load() throws -> ParleyConfiguration {
        var flags: [String: String] = [:]
        flags["PARLEY_HOST"] = self.host
        flags["PARLEY_PORT"] = self.port
        flags["PARLEY_BASE_URL"] = self.baseURL
        flags["PARLEY_DATABASE_URL"] = self.databaseURL
        flags["PARLEY_DATA_DIR"] = self.dataDir
        flags["PARLEY_LOG_LEVEL"] = self.logLevel
        flags["PARLEY_LOG_FORMAT"] = self.logFormat
        do {
            return try ParleyConfiguration.load(environment: ProcessInfo.processInfo.environment, flags: flags)
        } catch {
            throw ValidationError("Configuration: \(error.description)")
        }
    }

    /// Runs `body` against the configured database, migrated first.
    func withStores<T: Sendable>(_ body: @Sendable (Stores) async throws -> T) async throws -> T {
        let configuration = try self.load()
        configuration.bootstrapLogging()
        let logger = Logger(label: "parley")
        return try await Databases.with(configuration.databaseURL, logger: logger) { engine in
            try await Migrator.migrate(engine, logger: logger)
            let secrets = try SecretBox.load(masterKey: configuration.masterKey, directory: configuration.dataDirectory)
            return try await body(
                Stores(engine: engine, hasher: PasswordHasher(cost: configuration.bcryptCost), secrets: secrets))
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default command).")
    @OptionGroup var options: ConfigurationOptions
    @Flag(help: "Load the demo knowledge base (a fictional notes app's help centre) into an empty one.")
    var demo = false

    func run() async throws {
        var configuration = try self.options.load()
        configuration.demo = self.demo
        configuration.bootstrapLogging()
        let app = try await buildApplication(configuration)
        try await app.runService()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")
    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try self.options.load()
        configuration.bootstrapLogging()
        let logger = Logger(label: "parley")
        let applied = try await Databases.with(configuration.databaseURL, logger: logger) { engine in
            try await Migrator.migrate(engine, logger: logger)
        }
        print(
            applied.isEmpty
                ? "The database is up to date."
                : "Applied migrations \(applied.map(String.init).joined(separator: ", ")).")
    }
}

struct Org: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage organizations (for hosts of several).", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an organization with its owner and a first site.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The organization's name.") var name: String
        @Option(help: "The owner's email.") var ownerEmail: String
        @Option(help: "The owner's password (generated and printed when left out).") var ownerPassword: String?

        func run() async throws {
            let password = self.ownerPassword ?? Secrets.password()
            let name = self.name
            let email = self.ownerEmail
            let configuration = try self.options.load()
            let created = try await self.options.withStores { stores in
                try await stores.createOrganization(
                    .init(
                        name: name, owner: .init(email: email, name: "Owner", role: .owner, password: password),
                        site: .init(name: "Website")))
            }
            print("Created organization \(created.organization.name) (\(created.organization.id))")
            print("  Owner:    \(created.owner.email)")
            if self.ownerPassword == nil { print("  Password: \(password)   (generated; shown only this once)") }
            if let site = created.site {
                print("  Site key: \(site.publicKey)")
                print(
                    "  Widget:   <script src=\"\(configuration.baseURL)/widget.js\" data-site=\"\(site.publicKey)\" async></script>"
                )
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations.")
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let organizations = try await self.options.withStores { try await $0.organizations.all() }
            for organization in organizations { print("\(organization.id)  \(organization.name)") }
        }
    }
}

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage agent accounts.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an agent to an organization.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The organization's id or exact name.") var org: String
        @Option(help: "The agent's email.") var email: String
        @Option(help: "owner, admin or agent.") var role: String = "agent"
        @Option(help: "The display name (defaults to the email's local part).") var name: String?
        @Option(help: "The password (generated and printed when left out).") var password: String?

        func validate() throws {
            guard AgentRole(rawValue: self.role) != nil else {
                throw ValidationError("--role must be owner, admin or agent")
            }
        }

        func run() async throws {
            let password = self.password ?? Secrets.password()
            let (org, email, name, role) = (self.org, self.email, self.name ?? "", AgentRole(rawValue: self.role)!)
            let agent = try await self.options.withStores { stores in
                let organization = try await stores.organizations.find(idOrName: org)
                return try await stores.agents.create(
                    .init(email: email, name: name, role: role, password: password), in: organization.id, by: nil)
            }
            print("Created \(agent.role.rawValue) \(agent.email) (\(agent.id))")
            if self.password == nil { print("  Password: \(password)   (generated; shown only this once)") }
        }
    }
}

struct Site: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage sites (widgets).", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a site to an organization.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The organization's id or exact name.") var org: String
        @Option(help: "The site's name.") var name: String
        @Option(help: "An origin allowed to embed the widget (repeatable); none allows any.") var origin: [String] = []

        func run() async throws {
            let configuration = try self.options.load()
            let (org, name, origins) = (self.org, self.name, self.origin)
            let site = try await self.options.withStores { stores in
                let organization = try await stores.organizations.find(idOrName: org)
                return try await stores.sites.create(.init(name: name, allowedOrigins: origins), in: organization.id)
            }
            print("Created site \(site.name) (\(site.id))")
            print("  Site key: \(site.publicKey)")
            print(
                "  Widget:   <script src=\"\(configuration.baseURL)/widget.js\" data-site=\"\(site.publicKey)\" async></script>"
            )
        }
    }
}

struct KB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb", abstract: "Manage the knowledge base.", subcommands: [Import.self, Reindex.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a folder of Markdown files as articles (an article with the same title is updated).")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The organization's id or exact name.") var org: String
        @Argument(help: "The folder of .md files (searched recursively).") var directory: String

        func run() async throws {
            let root = URL(fileURLWithPath: self.directory)
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
                throw ValidationError("\(self.directory) is not a readable folder")
            }
            var files: [(name: String, text: String)] = []
            for case let url as URL in walker where ["md", "markdown"].contains(url.pathExtension.lowercased()) {
                files.append((url.lastPathComponent, try String(contentsOf: url, encoding: .utf8)))
            }
            guard !files.isEmpty else { throw ValidationError("no .md files in \(self.directory)") }
            print("Importing \(files.count) Markdown files…")
            let org = self.org
            let batch = files
            let result = try await self.options.withStores { stores in
                let organization = try await stores.organizations.find(idOrName: org)
                return try await stores.articles.importMarkdown(batch, in: organization.id)
            }
            print("Imported: \(result.created) created, \(result.updated) updated.")
        }
    }
}

extension KB {
    struct Reindex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Compute the vectors of every passage that has none (with the organization's embeddings provider), with a progress line; exits when done.",
            discussion:
                "AI_EMBEDDINGS_URL/AI_EMBEDDINGS_MODEL seed a provider for organizations without one. Safe to run beside a running server, and to interrupt: it resumes where it stopped."
        )
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The organization's id or exact name (default: every organization).") var org: String?

        func run() async throws {
            let configuration = try self.options.load()
            let client = OutboundClient(
                guard: configuration.outboundGuard,
                configuration: .init(timeout: .init(connect: .seconds(10), read: .seconds(120))))
            let org = self.org
            do {
                try await self.options.withStores { stores in
                    try await configuration.seedProviders(stores, logger: Logger(label: "parley.kb"))
                    var organizations = try await stores.organizations.all()
                    if let org { organizations = [try await stores.organizations.find(idOrName: org)] }
                    let indexer = KnowledgeIndexer(stores: stores, client: client, logger: Logger(label: "parley.kb"))
                    for organization in organizations {
                        let started = ContinuousClock.now
                        let name = organization.name
                        let result = try await indexer.index(organization.id) { embedded, passages in
                            let line = "\r\(name): \(embedded)/\(passages) passages embedded"
                            FileHandle.standardOutput.write(Data(line.utf8))
                        }
                        guard let result else {
                            print(
                                "\(name): no embeddings provider (set AI_EMBEDDINGS_URL, or one in the dashboard); full text only"
                            )
                            continue
                        }
                        let elapsed = ContinuousClock.now - started
                        print(
                            "\r\(name): \(result.embedded)/\(result.passages) passages embedded in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))"
                        )
                    }
                }
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }
}

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run a set of questions against the assistant and print answer rate, handoff rate, citation accuracy and latency.",
        discussion: """
            FILE is JSON: {"cases": [{"question": "How do I get a refund?", "expect": "Refund policy"}, \
            {"question": "Can I talk to a person?", "expect": "handoff"}]}; "expect" is an article's title or \
            "handoff". --demo runs the shipped demo set (after loading the demo articles when the knowledge \
            base is empty). Uses the organization's providers as configured (AI_API_URL seeds one), or the \
            knowledge-base fallback without one. Writes nothing to any conversation.
            """)
    @OptionGroup var options: ConfigurationOptions
    @Option(help: "The organization's id or exact name (default: the first).") var org: String?
    @Flag(help: "Run the demo eval set.") var demo = false
    @Option(help: "The most tokens a reply may have.") var maxTokens = 512
    @Option(help: "The most characters of knowledge-base passages in a prompt.") var passageCharacters = 6000
    @Flag(help: "Measure retrieval only (recall@1/3/5), calling no model.") var retrievalOnly = false
    @Flag(help: "Print one JSON object per case, then the figures as JSON.") var json = false
    @Argument(help: "The eval set (JSON).") var file: String?

    func validate() throws {
        if self.file == nil && !self.demo { throw ValidationError("give an eval FILE, or --demo") }
    }

    func run() async throws {
        let data =
            try self.demo && self.file == nil ? Demo.evalSet() : Data(contentsOf: URL(fileURLWithPath: self.file!))
        let cases = try Evaluation.cases(from: data)
        let configuration = try self.options.load()
        let client = OutboundClient(
            guard: configuration.outboundGuard,
            configuration: .init(
                timeout: .init(connect: .seconds(10), read: .milliseconds(Int64(configuration.aiTimeout * 1000)))))
        let report: Evaluation.Report
        do {
            report = try await self.evaluate(cases, configuration: configuration, client: client)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let figures: [String: Double] = [
                "recallAt1": report.recall(at: 1), "recallAt3": report.recall(at: 3), "recallAt5": report.recall(at: 5),
                "answerRate": report.answerRate, "citationAccuracy": report.citationAccuracy,
                "handoffAccuracy": report.handoffAccuracy, "accuracy": report.accuracy,
            ]
            print(String(decoding: try encoder.encode(["figures": figures]), as: UTF8.self))
        } else {
            print("")
            print(report.text)
        }
    }

    func evaluate(_ cases: [Evaluation.Case], configuration: ParleyConfiguration, client: OutboundClient) async throws
        -> Evaluation.Report
    {
        let org = self.org
        let demo = self.demo
        let json = self.json
        let retrievalOnly = self.retrievalOnly
        let options = Assistant.Options(maxTokens: self.maxTokens, passageCharacters: self.passageCharacters)
        return try await self.options.withStores { stores in
            let organization: Organization
            if let org {
                organization = try await stores.organizations.find(idOrName: org)
            } else {
                guard let first = try await stores.organizations.all().first else {
                    throw ValidationError("no organization yet: run parley serve once, or parley org create")
                }
                organization = first
            }
            try await configuration.seedProviders(stores, logger: Logger(label: "parley.eval"))
            if demo, try await stores.articles.list(in: organization.id, page: PageRequest(limit: 1)).items.isEmpty {
                let result = try await stores.articles.importMarkdown(try Demo.articles(), in: organization.id)
                print("Loaded \(result.created) demo articles into \(organization.name).")
            }
            // Vectors first, so retrieval is measured as a running server would have it.
            let indexer = KnowledgeIndexer(stores: stores, client: client, logger: Logger(label: "parley.eval"))
            if let indexed = try await indexer.index(
                organization.id,
                progress: { embedded, passages in
                    if !json {
                        FileHandle.standardError.write(Data("\rembedding passages: \(embedded)/\(passages)".utf8))
                    }
                })
            {
                if !json { FileHandle.standardError.write(Data("\n".utf8)) }
                _ = indexed
            }
            let embeddings = try await stores.assistant.embeddingsProvider(in: organization.id)
            let providers =
                retrievalOnly ? [] : try await stores.assistant.providers(in: organization.id).filter(\.enabled)
            if !json {
                print(
                    "Evaluating \(cases.count) cases against \(organization.name): "
                        + (providers.isEmpty
                            ? "no AI provider, knowledge-base fallback"
                            : providers.map { "\($0.name) (\($0.model))" }.joined(separator: ", "))
                        + "; retrieval: " + (embeddings.map { "hybrid (full text + \($0.model))" } ?? "full text"))
            }
            return try await Evaluation.run(
                cases, stores: stores, organization: organization.id, client: client, options: options,
                retrievalOnly: retrievalOnly, logger: Logger(label: "parley.eval")
            ) { done, result in
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    if let line = try? encoder.encode(result) { print(String(decoding: line, as: UTF8.self)) }
                    return
                }
                if retrievalOnly {
                    let rank = result.acceptedRank.map { "rank \($0)" } ?? (result.item.expectsArticle ? "MISS" : "-")
                    print(
                        "[\(done)/\(cases.count)] \(rank)  \(result.item.question)  ->  \(result.retrievedTitles.first ?? "nothing")"
                    )
                    return
                }
                let verdict = result.correct ? "ok  " : "MISS"
                let detail =
                    result.handedOver ? "handoff" : "\(result.kind): \(result.citedTitles.joined(separator: ", "))"
                print("[\(done)/\(cases.count)] \(verdict) \(result.millis) ms  \(result.item.question)  ->  \(detail)")
            }
        }
    }
}
