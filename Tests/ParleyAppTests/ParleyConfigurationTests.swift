import ParleyApp
import ParleyOutbound
import ParleyStore
import Testing

@Suite struct ParleyConfigurationTests {
    @Test func noConfigurationMeansTheEmbeddedDefault() throws {
        let configuration = try ParleyConfiguration.load(environment: [:])
        #expect(configuration.port == 8080)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.databaseURL == .sqlite(path: "./parley-data/parley.sqlite"))
        #expect(configuration.baseURL == "http://localhost:8080")
        #expect(configuration.logFormat == .text)
    }

    @Test func flagsWinOverTheEnvironment() throws {
        let configuration = try ParleyConfiguration.load(
            environment: ["PARLEY_PORT": "9000", "PARLEY_DATA_DIR": "/var/lib/parley"], flags: ["PARLEY_PORT": "9100"])
        #expect(configuration.port == 9100)
        #expect(configuration.databaseURL == .sqlite(path: "/var/lib/parley/parley.sqlite"))
        #expect(configuration.baseURL == "http://localhost:9100")
    }

    @Test func mailNeedsASenderAndAnSMTPURL() throws {
        let configured = try ParleyConfiguration.load(
            environment: ["PARLEY_SMTP_URL": "smtps://u:p@mail.example.com", "PARLEY_MAIL_FROM": "help@example.com"])
        #expect(configured.mail?.host == "mail.example.com")
        #expect(configured.mail?.implicitTLS == true)
        #expect(configured.mail?.from == "help@example.com")
        #expect(throws: ParleyConfiguration.Error.self) {
            try ParleyConfiguration.load(environment: ["PARLEY_SMTP_URL": "smtp://localhost:2525"])
        }
        #expect(try ParleyConfiguration.load(environment: [:]).mail == nil)
    }

    @Test func postgresURLsAreParsed() throws {
        let configuration = try ParleyConfiguration.load(
            environment: ["PARLEY_DATABASE_URL": "postgres://parley:s3cret@db.internal:6432/support?sslmode=require"])
        guard case .postgres(let location) = configuration.databaseURL else {
            Issue.record("not postgres")
            return
        }
        #expect(location.host == "db.internal")
        #expect(location.port == 6432)
        #expect(location.username == "parley")
        #expect(location.password == "s3cret")
        #expect(location.database == "support")
        #expect(location.tls == .require)
        #expect(!configuration.databaseURL.description.contains("s3cret"))
    }

    @Test(arguments: [
        ("PARLEY_PORT", "http"), ("PARLEY_PORT", "70000"), ("PARLEY_BASE_URL", "support.example.com"),
        ("PARLEY_DATABASE_URL", "mysql://x"), ("PARLEY_DATABASE_URL", "postgres://nohost"),
        ("PARLEY_DATABASE_URL", "postgres://u@h/db?sslmode=sometimes"), ("PARLEY_LOG_LEVEL", "loud"),
        ("PARLEY_LOG_FORMAT", "xml"), ("PARLEY_AUTO_MIGRATE", "maybe"), ("PARLEY_BCRYPT_COST", "3"),
        ("PARLEY_ASSISTANT", "sometimes"),
        ("PARLEY_TRUSTED_PROXIES", "10.0.0.0/40"), ("PARLEY_CHAT_IDLE_MINUTES", "0"),
        ("PARLEY_CHAT_RATE_LIMIT", "many"), ("PARLEY_SMTP_URL", "http://mail"), ("PARLEY_ATTACHMENT_MAX_MB", "0"),
        ("PARLEY_WEB_DIR", "/no/such/folder"), ("PARLEY_OUTBOUND_ALLOW", "127.0.0.1,10.0.0.0/40"),
        ("PARLEY_OUTBOUND_ALLOW", "http://ollama"),
    ])
    func aBadValueIsAnErrorNamingItsKey(key: String, value: String) {
        do {
            _ = try ParleyConfiguration.load(environment: [key: value])
            Issue.record("expected an error for \(key)=\(value)")
        } catch {
            #expect(error.key == key)
            #expect(error.description.hasPrefix("\(key): "))
        }
    }

    @Test func theOutboundAllowListOptsInHostsAndRanges() throws {
        let configuration = try ParleyConfiguration.load(environment: [
            "PARLEY_OUTBOUND_ALLOW": "127.0.0.1, 10.0.0.0/8,ollama.lan", "AI_API_URL": "http://llm.internal:8080/v1",
        ])
        let policy = configuration.outboundPolicy
        #expect(policy.permits(host: "x.example", address: IPAddress("10.2.3.4")!))
        #expect(policy.permits(host: "ollama.lan", address: IPAddress("192.168.1.2")!))
        #expect(!policy.permits(host: "x.example", address: IPAddress("192.168.1.2")!))
        // The operator's own AI_API_URL is trusted as it is.
        #expect(configuration.outboundGuard.policy.permits(host: "llm.internal", address: IPAddress("192.168.1.2")!))
        #expect(
            !ParleyConfiguration().outboundGuard.policy.permits(host: "localhost", address: IPAddress("127.0.0.1")!))
        let error = #expect(throws: ParleyConfiguration.Error.self) {
            try ParleyConfiguration.load(environment: ["PARLEY_OUTBOUND_ALLOW": "127.0.0.1,nope/8"])
        }
        #expect(error?.description.contains("'nope/8'") == true)
    }
}
