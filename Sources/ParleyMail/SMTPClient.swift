public import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where mail goes: an SMTP server, plain (a local relay) or with TLS from the first byte
/// (`smtps://`, port 465), with optional `AUTH PLAIN`.
public struct SMTPConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var implicitTLS: Bool
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

    /// `smtp://[user:pass@]host[:port]` (default port 25) or `smtps://…` (default 465).
    public init(url text: String, from: String) throws(SMTPError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "smtp" || scheme == "smtps", let host = url.host, !host.isEmpty
        else { throw SMTPError.badConfiguration("must look like smtp://user:pass@host:port or smtps://…") }
        // No STARTTLS yet: a password goes only over TLS (smtps://) or to this machine.
        let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased())
        if url.user != nil, scheme == "smtp", !loopback {
            throw SMTPError.badConfiguration(
                "a password is sent only over TLS: use smtps:// (port 465), or smtp:// to a relay on this machine")
        }
        self.init(
            host: host, port: url.port ?? (scheme == "smtps" ? 465 : 25), implicitTLS: scheme == "smtps",
            username: url.user, password: url.password, from: from)
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

    public func send(_ email: Email) async throws {
        let configuration = self.configuration
        let tls: NIOSSLContext? =
            configuration.implicitTLS ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(configuration.timeoutSeconds))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // SNI takes a name, never an address.
                        let isAddress = configuration.host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" }
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(
                                context: tls, serverHostname: isAddress ? nil : configuration.host))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var session = Session(inbound: inbound.makeAsyncIterator(), outbound: outbound)
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
        var pending = ""

        mutating func converse(_ email: Email, configuration: SMTPConfiguration) async throws {
            try await self.expect("greeting", 220)
            // A fully qualified name: the sender's domain (strict servers refuse a bare word).
            let domain = configuration.from.split(separator: "@").last.map(String.init) ?? "localhost"
            try await self.command("EHLO \(Email.clean(domain))", 250)
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

        mutating func command(_ line: String, _ codes: Int..., shown: String? = nil) async throws {
            try await self.write(line + "\r\n")
            try await self.expect(shown ?? String(line.prefix(while: { $0 != " " && $0 != ":" })), codes)
        }

        mutating func expect(_ what: String, _ codes: Int...) async throws { try await self.expect(what, codes) }

        mutating func expect(_ what: String, _ codes: [Int]) async throws {
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
                    return
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
