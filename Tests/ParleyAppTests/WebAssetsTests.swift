import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

/// The browser side as the server hands it out: the widget's files (gzipped when accepted), the
/// frame only for the site's origins, the dashboard under a strict CSP, the demo page.
@Suite struct WebAssetsTests {
    @Test func theWidgetsFilesAreServedGzippedWhenAccepted() async throws {
        try await withTestApp(.sqlite) { client, _ in
            let plain = try await client.send(.get, "/widget.js")
            #expect(plain.status == .ok)
            #expect(plain.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(plain.headers[.contentEncoding] == nil)
            #expect(plain.text.contains("script[data-site]"))
            let gzipped = try await client.send(.get, "/widget.js", headers: [.acceptEncoding: "gzip, deflate, br"])
            #expect(gzipped.headers[.contentEncoding] == "gzip")
            #expect(gzipped.headers[.vary] == "Accept-Encoding")
            #expect(Array(gzipped.body.readableBytesView.prefix(2)) == [0x1F, 0x8B])
            #expect(gzipped.body.readableBytes < plain.body.readableBytes / 2)
            #expect(try await client.send(.get, "/widget/chat.js").status == .ok)
            #expect(try await client.send(.get, "/widget/nothing.js").status == .notFound)
            // A served type, outside the folder: refused for the `..`, not for its type.
            #expect(try await client.send(.get, "/widget/..%2Fwidget.js").status == .notFound)
            // Without --demo there is no demo page.
            #expect(try await client.send(.get, "/demo").status == .notFound)
        }
    }

    @Test func onlyTheSitesOriginsMayFrameTheChatAndTheDashboardAllowsNoInlineScript() async throws {
        try await withTestApp(.sqlite) { client, stores in
            let org = try await stores.makeOrganization()
            _ = try await stores.sites.update(
                org.site.id, in: org.organization.id, with: .init(allowedOrigins: ["https://shop.example"]))
            let frame = try await client.send(.get, "/widget/frame.html?site=\(org.site.publicKey)")
            let policy = try #require(frame.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.contains("frame-ancestors 'self' https://shop.example"))
            #expect(policy.contains("script-src 'self';"))
            let app = try await client.send(.get, "/app")
            #expect(app.status == .ok)
            let appPolicy = try #require(app.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(appPolicy.contains("script-src 'self';"))
            #expect(!appPolicy.contains("unsafe-inline"))
            #expect(appPolicy.contains("frame-ancestors 'none'"))
        }
    }

    @Test func theDemoPageCarriesARealSiteKey() async throws {
        try await withTestApp(.sqlite, configure: { $0.demo = true }) { client, stores in
            _ = try await stores.makeOrganization()
            let page = try await client.send(.get, "/")
            #expect(page.status == .ok)
            #expect(!page.text.contains("{{SITE_KEY}}"))
            let key = try #require(
                page.text.components(separatedBy: "data-site=\"").dropFirst().first?.components(separatedBy: "\"").first
            )
            #expect(try await stores.sites.find(publicKey: key).isActive)
        }
    }
}
