import Foundation

/// Where the database is: an SQLite file (or `:memory:`) or a PostgreSQL server.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// `sqlite://PATH` (relative or absolute), or `sqlite://:memory:`.
    case sqlite(path: String)
    /// `postgres://user:password@host:port/database?sslmode=disable|prefer|require&schema=NAME`.
    case postgres(PostgresLocation)

    /// The parts of a PostgreSQL URL.
    public struct PostgresLocation: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String?
        public var tls: TLSMode
        /// The schema to use (sets `search_path`); nil for the server's default.
        public var schema: String?

        public init(
            host: String, port: Int = 5432, username: String, password: String? = nil, database: String? = nil,
            tls: TLSMode = .disable, schema: String? = nil
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.schema = schema
        }
    }

    /// Whether to speak TLS to PostgreSQL.
    public enum TLSMode: String, Sendable, Equatable {
        /// Plain TCP (the default; loopback and private networks).
        case disable
        /// TLS when the server offers it.
        case prefer
        /// TLS or fail.
        case require
    }

    /// The problem with a URL that can't be used, as a sentence.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    public init(parsing text: String) throws(ParseError) {
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            guard !path.isEmpty else {
                throw ParseError(
                    description: "an sqlite:// URL needs a file path, e.g. sqlite://./parley-data/parley.sqlite")
            }
            self = .sqlite(path: path)
            return
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw ParseError(description: "expected sqlite://PATH or postgres://USER@HOST:PORT/DATABASE, got '\(text)'")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ParseError(description: "the postgres URL has no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw ParseError(description: "the postgres URL has no user name")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        var tls = TLSMode.disable
        if let mode = query["sslmode"] {
            switch mode {
            case "disable", "allow": tls = .disable
            case "prefer": tls = .prefer
            case "require", "verify-ca", "verify-full": tls = .require
            default: throw ParseError(description: "sslmode must be disable, prefer or require, got '\(mode)'")
            }
        }
        if let schema = query["schema"] {
            guard !schema.isEmpty, schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ParseError(description: "schema must be letters, digits and underscores")
            }
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self = .postgres(
            PostgresLocation(
                host: host, port: components.port ?? 5432, username: user, password: components.password,
                database: database.isEmpty ? nil : database, tls: tls, schema: query["schema"]
            ))
    }

    /// The URL with any password hidden, for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite://\(path)"
        case .postgres(let location):
            "postgres://\(location.username)\(location.password == nil ? "" : ":***")@\(location.host):\(location.port)/\(location.database ?? "")"
        }
    }
}
