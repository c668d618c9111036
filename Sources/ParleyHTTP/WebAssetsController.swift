import CompressNIO
import Foundation
import HTTPTypes
public import Hummingbird
import ParleyCore
import ParleyStore

/// Serves the browser side of Parley: the widget's loader (`/widget.js`), the chat UI that runs in
/// the widget's frame (`/widget/…`) and, with `serve --demo`, a sample website at `/` and `/demo`.
///
/// The files ship inside the binary's resources and are read (and gzipped) once. `PARLEY_WEB_DIR`
/// points at a folder of the same layout that is re-read on every request, for working on them.
public struct WebAssets: Sendable {
    /// A file: its bytes, gzipped too (sent to browsers that accept it), and its content type.
    struct File: Sendable {
        var body: ByteBuffer
        var gzipped: ByteBuffer?
        var type: String

        init(_ data: Data, type: String) {
            self.body = ByteBuffer(bytes: data)
            var source = self.body
            self.gzipped = try? source.compress(with: .gzip())
            self.type = type
        }
    }

    /// The files by their path under `web/` (`widget/chat.js`).
    let files: [String: File]
    let folder: URL?

    /// The files shipped in the resources, or those in `folder` when given.
    public init(folder: String? = nil) throws {
        if let folder, !folder.isEmpty {
            self.folder = URL(fileURLWithPath: folder, isDirectory: true)
            self.files = [:]
            return
        }
        self.folder = nil
        guard let root = Bundle.module.url(forResource: "web", withExtension: nil, subdirectory: "Resources") else {
            throw CocoaError(.fileNoSuchFile)
        }
        var files: [String: File] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        let prefix = root.standardizedFileURL.path + "/"
        while let url = enumerator?.nextObject() as? URL {
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(prefix), let type = Self.contentType(path) else { continue }
            files[String(path.dropFirst(prefix.count))] = File(try Data(contentsOf: url), type: type)
        }
        self.files = files
    }

    /// The file at `path`, or nil. Only known names and types are ever served.
    func file(_ path: String) -> File? {
        guard !path.contains(".."), let type = Self.contentType(path) else { return nil }
        if let folder {
            guard let data = try? Data(contentsOf: folder.appendingPathComponent(path)) else { return nil }
            return File(data, type: type)
        }
        return self.files[path]
    }

    static func contentType(_ path: String) -> String? {
        switch path.split(separator: ".").last {
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "html": "text/html; charset=utf-8"
        case "svg": "image/svg+xml"
        default: nil
        }
    }
}

struct WebAssetsController: Sendable {
    let assets: WebAssets
    let sites: SiteStore
    let organizations: OrganizationStore
    let baseURL: String
    /// Whether `/` and `/demo` show the sample website.
    let demo: Bool

    func addRoutes(to router: Router<ParleyRequestContext>) {
        router.get("widget.js") { request, _ in try self.serve("widget.js", request, cache: "public, max-age=300") }
        router.get("widget/frame.html", use: self.frame)
        router.get("widget/:file") { request, context in
            let name = try context.parameters.require("file")
            return try self.serve("widget/\(name)", request, cache: "public, max-age=300")
        }
        // The dashboard: one page (its views are routed in the page, `#/…`) and its modules.
        router.get("app") { request, _ in try self.dashboard("app/index.html", request) }
        router.get("app/:file") { request, context in
            let name = try context.parameters.require("file")
            return try self.dashboard("app/\(name)", request)
        }
        guard self.demo else { return }
        router.get("", use: self.demoPage)
        router.get("demo", use: self.demoPage)
    }

    /// A file, gzipped for browsers that accept it.
    func serve(_ path: String, _ request: Request, cache: String, headers extra: HTTPFields = [:]) throws -> Response {
        guard let file = self.assets.file(path) else { throw DomainError.notFound(entity: "file") }
        var headers: HTTPFields = [
            .contentType: file.type, .cacheControl: cache, HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            .vary: "Accept-Encoding",
        ]
        headers.append(contentsOf: extra)
        let acceptsGzip = request.headers[values: .acceptEncoding].contains { $0.lowercased().contains("gzip") }
        if acceptsGzip, let gzipped = file.gzipped {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: gzipped))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }

    /// A dashboard file, under a strict Content-Security-Policy: no inline script or style, nothing
    /// from elsewhere, never framed by another site.
    func dashboard(_ path: String, _ request: Request) throws -> Response {
        let policy = self.policy("frame-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'")
        return try self.serve(
            path, request, cache: "no-cache",
            headers: [
                HTTPField.Name("Content-Security-Policy")!: policy,
                HTTPField.Name("Referrer-Policy")!: "same-origin",
                HTTPField.Name("X-Frame-Options")!: "DENY",
            ])
    }

    /// The Content-Security-Policy both pages share (only this server's scripts, styles, images and
    /// sockets; no inline script or style), with `extra` directives of the page's own.
    func policy(_ extra: String) -> String {
        let socket = self.baseURL.replacingOccurrences(of: "http", with: "ws", options: .anchored)
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            + "connect-src 'self' \(socket); base-uri 'none'; \(extra)"
    }

    /// The chat UI's page. Only the site's allowed origins may frame it (`frame-ancestors`).
    func frame(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var ancestors = "*"
        if let key = request.uri.queryParameters["site"].map(String.init),
            let site = try? await self.sites.find(publicKey: key), !site.allowedOrigins.isEmpty
        {
            ancestors = (["'self'"] + site.allowedOrigins).joined(separator: " ")
        }
        let policy = self.policy("form-action 'none'; frame-ancestors \(ancestors)")
        return try self.serve(
            "widget/frame.html", request, cache: "no-cache",
            headers: [
                HTTPField.Name("Content-Security-Policy")!: policy,
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ])
    }

    /// A sample website with the widget of the first organization's first site.
    func demoPage(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        guard let file = self.assets.file("demo.html") else { throw DomainError.notFound(entity: "file") }
        var key = ""
        if let organization = try await self.organizations.all().first,
            let site = try await self.sites.list(in: organization.id, page: PageRequest(limit: 1)).items.first
        {
            key = site.publicKey
        }
        let html = String(buffer: file.body).replacingOccurrences(of: "{{SITE_KEY}}", with: key)
        return Response(
            status: .ok,
            headers: [.contentType: file.type, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
