import Crypto
import Foundation
import HTTPTypes
public import Hummingbird
import ParleyCore
public import ParleyStore

/// The pages the links in emails open, without signing in (`MailLink`, signed by the server):
/// `GET /rate/{token}` records a rating of a resolved ticket (once: a second visit shows the one
/// given) and offers a comment (`POST`); `GET /unsubscribe/{token}` asks to confirm, and `POST`
/// (also a mail client's one-click, RFC 8058) stops the organization's emails to that address.
public struct MailLinkController: Sendable {
    let stores: Stores
    let writer: TicketWriter

    public init(stores: Stores, writer: TicketWriter) {
        self.stores = stores
        self.writer = writer
    }

    public func addRoutes(to router: Router<ParleyRequestContext>) {
        router.get("rate/:token", use: self.rate)
        router.post("rate/:token", use: self.comment)
        router.get("unsubscribe/:token", use: self.confirmUnsubscribe)
        router.post("unsubscribe/:token", use: self.unsubscribe)
    }

    static let labels = [1: "very poor", 2: "poor", 3: "OK", 4: "good", 5: "excellent"]

    enum Opened {
        case link(MailLink)
        case page(Response)
    }

    func link(_ context: ParleyRequestContext, _ action: MailLink.Action) -> Opened {
        guard let token = context.parameters.get("token"), let link = self.stores.mailLinks.read(token),
            link.action == action
        else {
            return .page(
                Self.page(.notFound, "Link not valid", "This link is not valid. Check that it was copied whole."))
        }
        guard !link.isExpired(at: Date()) else {
            return .page(Self.page(.gone, "Link expired", "This link has expired."))
        }
        return .link(link)
    }

    func rate(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let link: MailLink
        switch self.link(context, .rate) {
        case .link(let found): link = found
        case .page(let page): return page
        }
        guard let organization = Organization.ID(link.organization), let id = link.ticket.flatMap(Ticket.ID.init),
            let stars = link.stars, (1...5).contains(stars)
        else { return Self.page(.notFound, "Link not valid", "This link is not valid.") }
        guard let ticket = try? await self.stores.tickets.ticket(id, in: organization) else {
            return Self.page(.notFound, "Link not valid", "This request no longer exists.")
        }
        if let given = ticket.satisfaction {
            return Self.page(
                .ok, "Already rated",
                "You rated \"\(ticket.subject)\" \(given.stars) out of 5 (\(Self.labels[given.stars] ?? "")) already. Thank you!",
                form: given.comment == nil ? context.parameters.get("token") : nil)
        }
        do {
            _ = try await self.writer.apply(.rate(stars: stars, comment: nil), to: id, in: organization, by: .customer)
        } catch let error as TicketTransitionError {
            return Self.page(
                .conflict, "Not rated",
                "\"\(ticket.subject)\" is \(error.from.rawValue.replacingOccurrences(of: "_", with: " ")) again; you can rate it once it is resolved."
            )
        }
        return Self.page(
            .ok, "Thank you",
            "You rated \"\(ticket.subject)\" \(stars) out of 5 (\(Self.labels[stars] ?? "")). Anything you'd like to add?",
            form: context.parameters.get("token"))
    }

    func comment(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let link: MailLink
        switch self.link(context, .rate) {
        case .link(let found): link = found
        case .page(let page): return page
        }
        guard let organization = Organization.ID(link.organization), let id = link.ticket.flatMap(Ticket.ID.init)
        else { return Self.page(.notFound, "Link not valid", "This link is not valid.") }
        let body = try await request.body.collect(upTo: 16 * 1024)
        let form = Self.form(String(buffer: body))
        let text = (form["comment"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return Self.page(.ok, "Thank you", "Your rating is saved.") }
        do {
            _ = try await self.writer.apply(
                .rateComment(String(text.prefix(2000))), to: id, in: organization, by: .customer)
        } catch is TicketTransitionError {
            return Self.page(.conflict, "Already saved", "A comment was saved with this rating already. Thank you!")
        }
        return Self.page(.ok, "Thank you", "Your comment is saved. Thank you for helping us do better.")
    }

    func confirmUnsubscribe(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let link: MailLink
        switch self.link(context, .unsubscribe) {
        case .link(let found): link = found
        case .page(let page): return page
        }
        return Self.page(
            .ok, "Unsubscribe", "Stop emails to \(link.email ?? "this address") about your requests?",
            form: context.parameters.get("token"), button: "Unsubscribe", field: false)
    }

    func unsubscribe(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let link: MailLink
        switch self.link(context, .unsubscribe) {
        case .link(let found): link = found
        case .page(let page): return page
        }
        guard let organization = Organization.ID(link.organization), let email = link.email else {
            return Self.page(.notFound, "Link not valid", "This link is not valid.")
        }
        try await self.stores.suppressions.suppress(email, in: organization)
        return Self.page(.ok, "Unsubscribed", "\(email) will get no more emails about requests from us.")
    }

    // MARK: Pages

    static func form(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let key = parts.first { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The pages' one style sheet, inline, allowed by its hash (no other style, no script).
    static let style = """
        body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;background:#f3f4f6}
        main{max-width:34rem;margin:10vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
        h1{margin:0 0 .75rem;font-size:1.5rem}p{margin:0 0 1rem}label{font-weight:600}
        textarea{box-sizing:border-box;width:100%;margin:.5rem 0 1rem;padding:.5rem;font:inherit;border:1px solid #9ca3af;border-radius:8px}
        button{padding:.6rem 1.2rem;font:inherit;font-weight:600;color:#fff;background:#1d4ed8;border:0;border-radius:8px;cursor:pointer}
        button:focus-visible,textarea:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}
        """
    static let styleHash = "sha256-" + Data(SHA256.hash(data: Data(Self.style.utf8))).base64EncodedString()

    /// A small page of its own: no script, no outside resource, nothing to frame it.
    static func page(
        _ status: HTTPResponse.Status, _ title: String, _ text: String, form token: String? = nil,
        button: String = "Send", field: Bool = true
    ) -> Response {
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title))</title><style>\(Self.style)</style></head><body><main>
            <h1>\(Self.escape(title))</h1><p>\(Self.escape(text))</p>
            """
        if let token {
            html += "<form method=\"post\" action=\"\(Self.escape(token))\">"
            if field {
                html += """
                    <label for="comment">Your comment (optional)</label><br>
                    <textarea id="comment" name="comment" rows="4" cols="50" maxlength="2000"></textarea><br>
                    """
            }
            html += "<button type=\"submit\">\(Self.escape(button))</button></form>"
        }
        html += "</main></body></html>"
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("Content-Security-Policy")!:
                    "default-src 'none'; style-src '\(Self.styleHash)'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
