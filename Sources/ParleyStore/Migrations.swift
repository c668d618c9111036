public import Logging
import Foundation
import SQLKit

/// One numbered, append-only schema change. Never edit a migration that has shipped: add one.
struct Migration: Sendable {
    var number: Int
    var name: String
    /// The statements, per engine; most are the same on both.
    var statements: @Sendable (DatabaseDialect) -> [String]
}

/// Runs pending migrations in order, each in its own transaction, recording them in
/// `parley_migrations`. Several instances starting at once take turns (an advisory lock on
/// PostgreSQL, the single writer on SQLite), so each migration runs exactly once.
public enum Migrator {
    /// Applies every pending migration; returns the numbers applied.
    @discardableResult
    public static func migrate(_ engine: any DatabaseEngine, logger: Logger) async throws -> [Int] {
        if let postgres = engine as? PostgresEngine, let schema = postgres.schema {
            try await engine.transaction { db in
                try await db.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run()
            }
        }
        try await engine.transaction { db in
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS parley_migrations (number BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            ).run()
        }
        var applied: [Int] = []
        for migration in Self.all {
            let didApply = try await engine.transaction { db in
                if db.parleyDialect == .postgres {
                    try await db.raw("SELECT pg_advisory_xact_lock(4242001)").run()
                }
                let done = try await db.raw(
                    "SELECT number FROM parley_migrations WHERE number = \(bind: migration.number)"
                )
                .first()
                if done != nil { return false }
                for statement in migration.statements(db.parleyDialect) {
                    try await db.raw("\(unsafeRaw: statement)").run()
                }
                try await db.raw(
                    "INSERT INTO parley_migrations (number, name, applied_at) VALUES (\(bind: migration.number), \(bind: migration.name), \(bind: Date().millis))"
                ).run()
                return true
            }
            if didApply {
                logger.info(
                    "Applied migration", metadata: ["parley.migration": "\(migration.number) \(migration.name)"])
                applied.append(migration.number)
            }
        }
        // Articles stored before passages existed get theirs (a no-op once done).
        let split = try await ArticleStore.backfillPassages(engine)
        if split > 0 { logger.info("Split articles into passages", metadata: ["parley.articles": "\(split)"]) }
        return applied
    }

    /// The numbers of the migrations this build knows, in order.
    public static var known: [Int] { Self.all.map(\.number) }

    static let all: [Migration] = [
        Migration(number: 1, name: "organizations, sites, agents, sessions, api keys") { _ in
            [
                """
                CREATE TABLE organizations (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE sites (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    name TEXT NOT NULL,
                    public_key TEXT NOT NULL UNIQUE,
                    identity_secret TEXT NOT NULL,
                    strict_identity BOOLEAN NOT NULL DEFAULT FALSE,
                    allowed_origins TEXT NOT NULL,
                    widget TEXT NOT NULL,
                    is_active BOOLEAN NOT NULL DEFAULT TRUE,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX sites_org_created ON sites (organization_id, created_at, id)",
                """
                CREATE TABLE agents (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    email TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    is_active BOOLEAN NOT NULL DEFAULT TRUE,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX agents_org_created ON agents (organization_id, created_at, id)",
                """
                CREATE TABLE agent_sessions (
                    token_hash TEXT PRIMARY KEY,
                    agent_id TEXT NOT NULL REFERENCES agents(id),
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    csrf_token TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    last_seen_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX agent_sessions_agent ON agent_sessions (agent_id)",
                "CREATE INDEX agent_sessions_expiry ON agent_sessions (expires_at)",
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    name TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    key_hash TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    created_by TEXT REFERENCES agents(id),
                    created_at BIGINT NOT NULL,
                    last_used_at BIGINT,
                    revoked_at BIGINT
                )
                """,
                "CREATE INDEX api_keys_org_created ON api_keys (organization_id, created_at, id)",
                """
                CREATE TABLE login_throttles (
                    throttle_key TEXT PRIMARY KEY,
                    failures BIGINT NOT NULL,
                    window_start BIGINT NOT NULL,
                    locked_until BIGINT
                )
                """,
            ]
        },
        Migration(number: 2, name: "job queue") { _ in
            [
                """
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL,
                    run_at BIGINT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    max_attempts BIGINT NOT NULL,
                    locked_by TEXT,
                    locked_until BIGINT,
                    last_error TEXT,
                    unique_key TEXT UNIQUE,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX jobs_ready ON jobs (status, run_at)",
            ]
        },
        Migration(number: 3, name: "visitors, conversations, messages, server keys") { _ in
            [
                """
                CREATE TABLE server_keys (
                    name TEXT PRIMARY KEY,
                    value TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE visitors (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    site_id TEXT NOT NULL REFERENCES sites(id),
                    anonymous_id TEXT NOT NULL,
                    external_id TEXT,
                    name TEXT,
                    email TEXT,
                    traits TEXT NOT NULL,
                    current_page TEXT,
                    first_seen_at BIGINT NOT NULL,
                    last_seen_at BIGINT NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX visitors_anonymous ON visitors (site_id, anonymous_id)",
                "CREATE UNIQUE INDEX visitors_external ON visitors (site_id, external_id)",
                "CREATE INDEX visitors_seen ON visitors (organization_id, last_seen_at)",
                """
                CREATE TABLE chat_sessions (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    site_id TEXT NOT NULL REFERENCES sites(id),
                    visitor_id TEXT NOT NULL REFERENCES visitors(id),
                    status TEXT NOT NULL,
                    assigned_agent_id TEXT REFERENCES agents(id),
                    last_seq BIGINT NOT NULL,
                    last_visitor_seq BIGINT NOT NULL,
                    visitor_read_seq BIGINT NOT NULL,
                    agent_read_seq BIGINT NOT NULL,
                    last_message_preview TEXT,
                    last_message_role TEXT,
                    last_message_at BIGINT,
                    activity_at BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    closed_at BIGINT,
                    archived_at BIGINT
                )
                """,
                "CREATE INDEX chat_sessions_org_activity ON chat_sessions (organization_id, activity_at, id)",
                "CREATE INDEX chat_sessions_visitor ON chat_sessions (visitor_id, created_at)",
                "CREATE INDEX chat_sessions_idle ON chat_sessions (status, activity_at)",
                """
                CREATE TABLE chat_messages (
                    id TEXT PRIMARY KEY,
                    session_id TEXT NOT NULL REFERENCES chat_sessions(id),
                    organization_id TEXT NOT NULL,
                    seq BIGINT NOT NULL,
                    role TEXT NOT NULL,
                    author_agent_id TEXT,
                    body TEXT NOT NULL,
                    client_id TEXT,
                    metadata TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    UNIQUE (session_id, seq)
                )
                """,
                "CREATE UNIQUE INDEX chat_messages_client ON chat_messages (session_id, client_id)",
            ]
        },
        Migration(number: 4, name: "knowledge base with full-text search") { dialect in
            let table = """
                CREATE TABLE articles (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    url TEXT,
                    tags TEXT NOT NULL,
                    published BOOLEAN NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """
            let index = "CREATE INDEX articles_org_created ON articles (organization_id, created_at, id)"
            switch dialect {
            case .sqlite:
                // FTS5 over title and body (porter stemming), kept in step by triggers.
                return [
                    table, index,
                    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='rowid', tokenize='porter unicode61')",
                    """
                    CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
                        INSERT INTO articles_fts (rowid, title, body) VALUES (new.rowid, new.title, new.body);
                    END
                    """,
                    """
                    CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
                        INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body);
                    END
                    """,
                    """
                    CREATE TRIGGER articles_fts_update AFTER UPDATE ON articles BEGIN
                        INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, old.body);
                        INSERT INTO articles_fts (rowid, title, body) VALUES (new.rowid, new.title, new.body);
                    END
                    """,
                ]
            case .postgres:
                // A weighted tsvector (title above body), generated, with a GIN index.
                return [
                    table, index,
                    """
                    ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED
                    """,
                    "CREATE INDEX articles_search ON articles USING GIN (search)",
                ]
            }
        },
        Migration(number: 5, name: "assistant settings, providers, interactions; tickets") { _ in
            [
                """
                CREATE TABLE assistant_settings (
                    organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                    settings TEXT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE ai_providers (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    position BIGINT NOT NULL,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    base_url TEXT NOT NULL,
                    model TEXT NOT NULL,
                    api_key_sealed TEXT,
                    enabled BOOLEAN NOT NULL,
                    healthy BOOLEAN,
                    last_error TEXT,
                    checked_at BIGINT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX ai_providers_org ON ai_providers (organization_id, position)",
                """
                CREATE TABLE ai_interactions (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    session_id TEXT NOT NULL,
                    reply_to BIGINT NOT NULL,
                    question TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    reason TEXT,
                    message_id TEXT,
                    provider TEXT,
                    model TEXT,
                    latency_ms BIGINT,
                    first_token_ms BIGINT,
                    prompt_tokens BIGINT,
                    completion_tokens BIGINT,
                    confidence DOUBLE PRECISION,
                    citations TEXT NOT NULL,
                    feedback TEXT,
                    feedback_comment TEXT,
                    feedback_at BIGINT,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX ai_interactions_org ON ai_interactions (organization_id, created_at)",
                "CREATE UNIQUE INDEX ai_interactions_message ON ai_interactions (message_id)",
                """
                CREATE TABLE tickets (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    visitor_id TEXT REFERENCES visitors(id),
                    requester_email TEXT NOT NULL,
                    requester_name TEXT,
                    subject TEXT NOT NULL,
                    status TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    source TEXT NOT NULL,
                    chat_session_id TEXT REFERENCES chat_sessions(id),
                    last_seq BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX tickets_org_created ON tickets (organization_id, created_at, id)",
                "CREATE UNIQUE INDEX tickets_chat_session ON tickets (chat_session_id)",
                """
                CREATE TABLE ticket_messages (
                    id TEXT PRIMARY KEY,
                    ticket_id TEXT NOT NULL REFERENCES tickets(id),
                    organization_id TEXT NOT NULL,
                    seq BIGINT NOT NULL,
                    role TEXT NOT NULL,
                    author_agent_id TEXT,
                    body TEXT NOT NULL,
                    internal BOOLEAN NOT NULL,
                    created_at BIGINT NOT NULL,
                    UNIQUE (ticket_id, seq)
                )
                """,
            ]
        },
        Migration(number: 6, name: "the ticket system: lifecycle, SLA, search") { dialect in
            var statements = [
                "ALTER TABLE tickets ADD COLUMN assignee_id TEXT",
                "ALTER TABLE tickets ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
                "ALTER TABLE tickets ADD COLUMN category TEXT",
                "ALTER TABLE tickets ADD COLUMN satisfaction TEXT",
                "ALTER TABLE tickets ADD COLUMN first_response_at BIGINT",
                "ALTER TABLE tickets ADD COLUMN resolved_at BIGINT",
                "ALTER TABLE tickets ADD COLUMN closed_at BIGINT",
                "ALTER TABLE tickets ADD COLUMN first_response_due_at BIGINT",
                "ALTER TABLE tickets ADD COLUMN resolution_due_at BIGINT",
                "ALTER TABLE tickets ADD COLUMN sla_paused_at BIGINT",
                "ALTER TABLE tickets ADD COLUMN ai_resolved BOOLEAN NOT NULL DEFAULT FALSE",
                "CREATE INDEX tickets_org_status ON tickets (organization_id, status, created_at, id)",
                "CREATE INDEX tickets_org_assignee ON tickets (organization_id, assignee_id, created_at, id)",
                "CREATE INDEX tickets_org_priority ON tickets (organization_id, priority, created_at, id)",
                "CREATE INDEX tickets_org_updated ON tickets (organization_id, updated_at, id)",
                "CREATE INDEX tickets_visitor ON tickets (visitor_id, created_at)",
                """
                CREATE TABLE sla_policies (
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    priority TEXT NOT NULL,
                    first_response_minutes BIGINT NOT NULL,
                    resolution_minutes BIGINT NOT NULL,
                    business_hours_only BOOLEAN NOT NULL,
                    PRIMARY KEY (organization_id, priority)
                )
                """,
                """
                CREATE TABLE organization_settings (
                    organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                    business_calendar TEXT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
            ]
            switch dialect {
            case .sqlite:
                // One FTS5 row per subject and per message, kept by the store.
                statements.append(
                    "CREATE VIRTUAL TABLE ticket_search USING fts5(ticket_id UNINDEXED, organization_id UNINDEXED, text, tokenize='porter unicode61')"
                )
            case .postgres:
                statements += [
                    "CREATE INDEX tickets_subject_search ON tickets USING GIN (to_tsvector('english', subject))",
                    "CREATE INDEX ticket_messages_search ON ticket_messages USING GIN (to_tsvector('english', body))",
                ]
            }
            return statements
        },
        Migration(number: 7, name: "canned responses, audit log") { _ in
            [
                """
                CREATE TABLE canned_responses (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    shortcut TEXT NOT NULL,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    usage_count BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    UNIQUE (organization_id, shortcut)
                )
                """,
                """
                CREATE TABLE audit_log (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    actor_agent_id TEXT,
                    actor_kind TEXT NOT NULL,
                    action TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    entity_id TEXT NOT NULL,
                    details TEXT,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX audit_log_org ON audit_log (organization_id, created_at, id)",
                "CREATE INDEX audit_log_entity ON audit_log (organization_id, entity_id, created_at)",
            ]
        },
        Migration(number: 8, name: "notifications; SLA alerts sent once") { _ in
            [
                """
                CREATE TABLE notifications (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    agent_id TEXT NOT NULL REFERENCES agents(id),
                    kind TEXT NOT NULL,
                    title TEXT NOT NULL,
                    ticket_id TEXT,
                    session_id TEXT,
                    created_at BIGINT NOT NULL,
                    read_at BIGINT
                )
                """,
                "CREATE INDEX notifications_agent ON notifications (agent_id, created_at, id)",
                "ALTER TABLE tickets ADD COLUMN sla_warned_at BIGINT",
                "ALTER TABLE tickets ADD COLUMN sla_breached_at BIGINT",
                "CREATE INDEX tickets_sla_due ON tickets (status, resolution_due_at)",
                "CREATE INDEX tickets_resolved ON tickets (status, resolved_at)",
            ]
        },
        Migration(number: 9, name: "attachments") { _ in
            [
                """
                CREATE TABLE attachments (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    session_id TEXT,
                    name TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    size BIGINT NOT NULL,
                    storage_key TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX attachments_session ON attachments (session_id)",
            ]
        },
        Migration(number: 10, name: "tickets' AI drafts") { _ in
            [
                """
                CREATE TABLE ticket_drafts (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    ticket_id TEXT NOT NULL REFERENCES tickets(id),
                    based_on_seq BIGINT NOT NULL,
                    body TEXT NOT NULL,
                    citations TEXT NOT NULL,
                    confidence DOUBLE PRECISION NOT NULL,
                    kind TEXT NOT NULL,
                    provider TEXT,
                    model TEXT,
                    status TEXT NOT NULL,
                    sent_body TEXT,
                    decided_by TEXT,
                    created_at BIGINT NOT NULL,
                    decided_at BIGINT
                )
                """,
                "CREATE INDEX ticket_drafts_ticket ON ticket_drafts (ticket_id, created_at)",
            ]
        },
        Migration(number: 11, name: "tickets' attachments") { _ in
            [
                "ALTER TABLE ticket_messages ADD COLUMN attachments TEXT",
                "ALTER TABLE attachments ADD COLUMN ticket_id TEXT",
                "CREATE INDEX attachments_ticket ON attachments (ticket_id)",
            ]
        },
        Migration(number: 12, name: "agents' preferences") { _ in
            ["ALTER TABLE agents ADD COLUMN preferences TEXT"]
        },
        Migration(number: 13, name: "who wrote a conversation's last message") { _ in
            ["ALTER TABLE chat_sessions ADD COLUMN last_message_agent_id TEXT"]
        },
        Migration(number: 14, name: "who uploaded a ticket's file") { _ in
            ["ALTER TABLE attachments ADD COLUMN uploaded_by_customer BOOLEAN NOT NULL DEFAULT FALSE"]
        },
        Migration(number: 15, name: "the outbox; webhook endpoints") { dialect in
            [
                """
                CREATE TABLE webhook_endpoints (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    url TEXT NOT NULL,
                    description TEXT,
                    events TEXT NOT NULL,
                    active BOOLEAN NOT NULL,
                    secret_sealed TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id)",
                // `position` orders the rows of one `order_key` (an endpoint and a conversation or
                // ticket): rows of one aggregate are written under its row lock, so in commit order.
                """
                CREATE TABLE outbox (
                    position \(dialect == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"),
                    id TEXT NOT NULL UNIQUE,
                    organization_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    target_id TEXT,
                    event_type TEXT NOT NULL,
                    order_key TEXT NOT NULL,
                    dedupe_key TEXT NOT NULL UNIQUE,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts BIGINT NOT NULL,
                    next_attempt_at BIGINT NOT NULL,
                    locked_by TEXT,
                    locked_until BIGINT,
                    last_status BIGINT,
                    last_latency_ms BIGINT,
                    last_error TEXT,
                    response_excerpt TEXT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    last_attempt_at BIGINT,
                    delivered_at BIGINT,
                    retry_from BIGINT NOT NULL
                )
                """,
                "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
                "CREATE INDEX outbox_order ON outbox (order_key, position)",
                "CREATE INDEX outbox_target ON outbox (target_id, position)",
                "CREATE INDEX outbox_organization_status ON outbox (organization_id, status, position)",
            ]
        },
        Migration(number: 16, name: "one thread: a conversation and its ticket") { _ in
            [
                "ALTER TABLE chat_sessions ADD COLUMN ticket_id TEXT",
                "ALTER TABLE ticket_messages ADD COLUMN chat_seq BIGINT",
                // A conversation has one ticket at a time; a closed one is history, and the
                // visitor's next problem may get a new ticket.
                "DROP INDEX tickets_chat_session",
                "CREATE UNIQUE INDEX tickets_chat_session ON tickets (chat_session_id) WHERE closed_at IS NULL",
                // Every ticket a conversation had (analytics, the conversation's latest ticket).
                "CREATE INDEX tickets_chat_session_all ON tickets (chat_session_id)",
                """
                UPDATE chat_sessions SET ticket_id = (SELECT t.id FROM tickets t
                    WHERE t.chat_session_id = chat_sessions.id AND t.status <> 'closed')
                """,
            ]
        },
        Migration(number: 17, name: "emails: unsubscribes, a conversation's emailed answers, its rating, account links")
        { _ in
            [
                """
                CREATE TABLE email_suppressions (
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    email TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (organization_id, email)
                )
                """,
                "ALTER TABLE chat_sessions ADD COLUMN emailed_seq BIGINT NOT NULL DEFAULT 0",
                "ALTER TABLE chat_sessions ADD COLUMN satisfaction TEXT",
                """
                CREATE TABLE account_tokens (
                    token_hash TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    agent_id TEXT NOT NULL REFERENCES agents(id),
                    kind TEXT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    used_at BIGINT,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX account_tokens_agent ON account_tokens (agent_id)",
                """
                CREATE TABLE organization_mail (
                    organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                    from_name TEXT,
                    reply_to TEXT,
                    updated_at BIGINT NOT NULL
                )
                """,
            ]
        },
        Migration(number: 18, name: "passages, their full-text index and vectors; embeddings providers; reviews") {
            dialect in
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            var statements = [
                // An article's passages (written by ArticleStore whenever the article changes;
                // backfilled for older articles right after migrating).
                """
                CREATE TABLE article_passages (
                    id TEXT PRIMARY KEY,
                    article_id TEXT NOT NULL REFERENCES articles(id),
                    organization_id TEXT NOT NULL,
                    position BIGINT NOT NULL,
                    heading TEXT NOT NULL,
                    body TEXT NOT NULL,
                    content_hash TEXT NOT NULL
                )
                """,
                "CREATE INDEX article_passages_article ON article_passages (article_id, position)",
                "CREATE INDEX article_passages_org ON article_passages (organization_id, content_hash)",
                // Vectors by what was embedded (a passage's hash) and with which model, so an
                // unchanged passage keeps its vector when its article is edited.
                """
                CREATE TABLE passage_vectors (
                    organization_id TEXT NOT NULL,
                    model TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    vector \(blob) NOT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (organization_id, model, content_hash)
                )
                """,
                // Bumped in the transaction of every change to passages or vectors: an instance's
                // in-memory vectors are current while their version matches.
                """
                CREATE TABLE knowledge_versions (
                    organization_id TEXT PRIMARY KEY,
                    version BIGINT NOT NULL
                )
                """,
                // Agents mark the assistant's answers right or wrong (the accuracy report counts them).
                "ALTER TABLE ai_interactions ADD COLUMN review TEXT",
                // Providers whose model reads images get visitors' images.
                "ALTER TABLE ai_providers ADD COLUMN vision BOOLEAN NOT NULL DEFAULT FALSE",
                "ALTER TABLE ai_interactions ADD COLUMN reviewed_by TEXT",
                "ALTER TABLE ai_interactions ADD COLUMN reviewed_at BIGINT",
                """
                CREATE TABLE embedding_providers (
                    organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                    kind TEXT NOT NULL,
                    base_url TEXT NOT NULL,
                    model TEXT NOT NULL,
                    query_model TEXT NOT NULL,
                    api_key_sealed TEXT,
                    healthy BOOLEAN,
                    last_error TEXT,
                    updated_at BIGINT NOT NULL
                )
                """,
            ]
            switch dialect {
            case .sqlite:
                statements += [
                    "CREATE VIRTUAL TABLE passages_fts USING fts5(heading, body, content='article_passages', content_rowid='rowid', tokenize='porter unicode61')",
                    """
                    CREATE TRIGGER passages_fts_insert AFTER INSERT ON article_passages BEGIN
                        INSERT INTO passages_fts (rowid, heading, body) VALUES (new.rowid, new.heading, new.body);
                    END
                    """,
                    """
                    CREATE TRIGGER passages_fts_delete AFTER DELETE ON article_passages BEGIN
                        INSERT INTO passages_fts (passages_fts, rowid, heading, body) VALUES ('delete', old.rowid, old.heading, old.body);
                    END
                    """,
                ]
            case .postgres:
                statements += [
                    """
                    ALTER TABLE article_passages ADD COLUMN search tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english', heading), 'A') || setweight(to_tsvector('english', body), 'B')) STORED
                    """,
                    "CREATE INDEX article_passages_search ON article_passages USING GIN (search)",
                ]
            }
            return statements
        },
    ]
}
