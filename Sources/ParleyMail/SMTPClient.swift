public import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where mail goes: an SMTP server, with TLS from the first byte (`smtps://`, port 465), upgraded
/// with STARTTLS (`smtp://…:587`, or `?starttls=required`), or plain to a relay on this machine;
/// with optional `AUTH PLAIN`. Certificates are always verified: against the system's roots, or
/// a CA file given (`PARLEY_SMTP_CA_FILE`, for a private CA).
public struct SMTPConfiguration: Sendable, Hashable {
    /// Whether a plain connection is upgraded with STARTTLS.
    public enum StartTLS: String, Sendable, Hashable {
        /// Never (a relay on this machine, or TLS from the first byte).
        case never
        /// When the server offers it.
        case opportunistic
        /// Always: a server that does not offer it gets nothing.
        case required
    }

    public var host: String
    public var port: Int
    public var implicitTLS: Bool
    public var startTLS: StartTLS = .never
    /// PEM certificates to trust instead of the system's (a private CA).
    public var trustedCAFile: String?
    public var username: String?
    public var password: String?
    /// The sender of every email (`support@example.com`).
    public var from: String
    /// The sender's display name when nothing better is known.
    public var fromName: String?
    /// The longest a whole send may take.
    public var timeoutSeconds: Int64 = 30

    public init(
        host: String, port: Int, implicitTLS: Bool = false, username: String? = nil, password: String? = nil,
        from: String, fromName: String? = nil
    ) {
        self.host = host
        self.port = port
        self.implicitTLS = implicitTLS
        self.username = username
        self.password = password
        self.from = from
        self.fromName = fromName
    }

    /// `smtp://[user:pass@]host[:port][?starttls=required|opportunistic|never]` (default port 25;
    /// STARTTLS required on port 587 and to any other machine, never to this one) or
    /// `smtps://…` (default 465).
    public init(url text: String, from: String) throws(SMTPError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "smtp" || scheme == "smtps", let host = url.host, !host.isEmpty
        else { throw SMTPError.badConfiguration("must look like smtp://user:pass@host:port or smtps://…") }
        let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased())
        let port = url.port ?? (scheme == "smtps" ? 465 : 25)
        var startTLS: StartTLS = scheme == "smtps" ? .never : (loopback && port != 587 ? .never : .required)
        if let asked = url.queryItems?.first(where: { $0.name.lowercased() == "starttls" })?.value {
            guard let chosen = StartTLS(rawValue: asked.lowercased()), scheme == "smtp" else {
                throw SMTPError.badConfiguration(
                    "starttls must be required, opportunistic or never, and only with smtp:// (smtps:// is TLS already)"
                )
            }
            startTLS = chosen
        }
        // A password goes only over TLS, or to this machine.
        if url.user != nil, scheme == "smtp", startTLS != .required, !loopback {
            throw SMTPError.badConfiguration(
                "a password is sent only over TLS: use smtps:// (port 465), smtp:// on port 587 or with ?starttls=required, or smtp:// to a relay on this machine"
            )
        }
        self.init(
            host: host, port: port, implicitTLS: scheme == "smtps", username: url.user, password: url.password,
            from: from)
        self.startTLS = startTLS
    }
}

public enum SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    case badConfiguration(String)
    /// The server answered a command with an error code.
    case rejected(command: String, code: Int, message: String)
    /// The connection ended before the conversation did.
    case connectionClosed
    case timedOut

    public var description: String {
        switch self {
        case .badConfiguration(let message): message
        case .rejected(let command, let code, let message): "the SMTP server refused \(command): \(code) \(message)"
        case .connectionClosed: "the SMTP server closed the connection"
        case .timedOut: "the SMTP server did not answer in time"
        }
    }

    /// Whether trying again later may work (4xx, a dropped connection); 5xx will not.
    public var isTransient: Bool {
        switch self {
        case .rejected(_, let code, _): code < 500
        case .badConfiguration: false
        case .connectionClosed, .timedOut: true
        }
    }
}

/// Sends one email per connection over SMTP (RFC 5321): EHLO, AUTH PLAIN, MAIL, RCPT, DATA.
public struct SMTPClient: Sendable {
    public let configuration: SMTPConfiguration

    public init(_ configuration: SMTPConfiguration) { self.configuration = configuration }

    func tlsContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = self.configuration.trustedCAFile { tls.trustRoots = .file(file) }
        return try NIOSSLContext(configuration: tls)
    }

    func tlsHandler(_ context: NIOSSLContext) throws -> NIOSSLClientHandler {
        // SNI takes a name, never an address.
        let host = self.configuration.host
        let isAddress = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" || $0 == "[" || $0 == "]" }
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }

    public func send(_ email: Email) async throws {
        let configuration = self.configuration
        let tls: NIOSSLContext? =
            configuration.implicitTLS || configuration.startTLS != .never ? try self.tlsContext() : nil
        let implicit = configuration.implicitTLS ? tls : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(configuration.timeoutSeconds))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicit { try channel.pipeline.syncOperations.addHandler(try self.tlsHandler(implicit)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let upgrade: @Sendable () async throws -> Void = {
            guard let tls else { throw SMTPError.badConfiguration("no TLS context") }
            // In front of the conversation's handler: what follows the server's 220 is TLS.
            try await channel.channel.pipeline.addHandler(try self.tlsHandler(tls), position: .first).get()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var session = Session(inbound: inbound.makeAsyncIterator(), outbound: outbound, upgrade: upgrade)
                    try await session.converse(email, configuration: configuration)
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(configuration.timeoutSeconds))
                throw SMTPError.timedOut
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// One SMTP conversation: reads replies line by line (multi-line replies end with `NNN `).
    struct Session {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        let upgrade: @Sendable () async throws -> Void
        var pending = ""

        mutating func converse(_ email: Email, configuration: SMTPConfiguration) async throws {
            try await self.expect("greeting", 220)
            // A fully qualified name: the sender's domain (strict servers refuse a bare word).
            let domain = configuration.from.split(separator: "@").last.map(String.init) ?? "localhost"
            let offered = try await self.command("EHLO \(Email.clean(domain))", 250)
            if configuration.startTLS != .never {
                if offered.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) {
                    try await self.command("STARTTLS", 220)
                    guard self.pending.isEmpty else {
                        throw SMTPError.rejected(command: "STARTTLS", code: 0, message: "data before TLS")
                    }
                    try await self.upgrade()
                    // What the server offered in plain text counts for nothing now.
                    try await self.command("EHLO \(Email.clean(domain))", 250)
                } else if configuration.startTLS == .required {
                    throw SMTPError.rejected(
                        command: "STARTTLS", code: 0, message: "the server does not offer STARTTLS, which is required")
                }
            }
            if let username = configuration.username {
                let credentials = Data("\u{0}\(username)\u{0}\(configuration.password ?? "")".utf8)
                    .base64EncodedString()
                try await self.command("AUTH PLAIN \(credentials)", 235, shown: "AUTH PLAIN")
            }
            try await self.command("MAIL FROM:<\(Email.clean(email.from.email))>", 250)
            try await self.command("RCPT TO:<\(Email.clean(email.to.email))>", 250, 251)
            try await self.command("DATA", 354)
            try await self.write(email.rendered() + ".\r\n")
            try await self.expect("the message", 250)
            try? await self.write("QUIT\r\n")
        }

        /// Sends a command; returns the reply's lines (without their codes).
        @discardableResult
        mutating func command(_ line: String, _ codes: Int..., shown: String? = nil) async throws -> [String] {
            try await self.write(line + "\r\n")
            return try await self.expect(shown ?? String(line.prefix(while: { $0 != " " && $0 != ":" })), codes)
        }

        @discardableResult
        mutating func expect(_ what: String, _ codes: Int...) async throws -> [String] {
            try await self.expect(what, codes)
        }

        @discardableResult
        mutating func expect(_ what: String, _ codes: [Int]) async throws -> [String] {
            var message: [String] = []
            while true {
                let line = try await self.line()
                guard line.count >= 3, let code = Int(line.prefix(3)) else {
                    throw SMTPError.rejected(command: what, code: 0, message: line)
                }
                message.append(String(line.dropFirst(4)))
                if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                    guard codes.contains(code) else {
                        throw SMTPError.rejected(command: what, code: code, message: message.joined(separator: " "))
                    }
                    return message
                }
            }
        }

        mutating func line() async throws -> String {
            while true {
                if let end = self.pending.range(of: "\r\n") {
                    let line = String(self.pending[..<end.lowerBound])
                    self.pending.removeSubrange(..<end.upperBound)
                    return line
                }
                guard var buffer = try await self.inbound.next() else { throw SMTPError.connectionClosed }
                self.pending += buffer.readString(length: buffer.readableBytes) ?? ""
            }
        }

        func write(_ text: String) async throws { try await self.outbound.write(ByteBuffer(string: text)) }
    }
}
