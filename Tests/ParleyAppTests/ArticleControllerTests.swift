import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct ArticleControllerTests {
    @Test(arguments: TestDatabase.all)
    func adminsWriteAgentsSearchAndNobodyReachesAnotherOrganization(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let acme = try await stores.makeOrganization("Acme")
            let globex = try await stores.makeOrganization("Globex")
            let secret = try await stores.articles.create(
                .init(title: "Globex refund secrets", body: "refund refund refund"), in: globex.organization.id)
            let owner = try await client.signIn(acme.owner.email)
            let created = try await client.send(
                .post, "/api/v1/admin/kb/articles",
                json: ["title": "Refund policy", "body": "Refunds within 30 days.", "tags": ["Billing"]],
                headers: owner.headers)
            #expect(created.status == .created)
            #expect(try created.json()["tags"] as? [String] == ["billing"])
            let imported = try await client.send(
                .post, "/api/v1/admin/kb/import",
                json: ["files": [["name": "shipping.md", "markdown": "# Shipping\nWe ship in two days."]]],
                headers: owner.headers)
            #expect(try imported.json()["created"] as? Int == 1)

            let agent = try await stores.makeAgent(in: acme.organization.id)
            let session = try await client.signIn(agent.email)
            let hits = try await client.send(.get, "/api/v1/admin/kb/search?q=refund", headers: session.headers).json()
            let titles = (hits["data"] as? [[String: Any]])?.compactMap { $0["title"] as? String }
            #expect(titles == ["Refund policy"])
            #expect(
                try await client.send(
                    .post, "/api/v1/admin/kb/articles", json: ["title": "x", "body": "y"], headers: session.headers
                )
                .status == .forbidden)
            #expect(
                try await client.send(.get, "/api/v1/admin/kb/articles/\(secret.id)", headers: session.headers).status
                    == .notFound)
            #expect(
                try await client.send(.delete, "/api/v1/admin/kb/articles/\(secret.id)", headers: owner.headers).status
                    == .notFound)
            #expect(
                try await client.send(.get, "/api/v1/admin/kb/search", headers: session.headers).status
                    == .unprocessableContent)
            let bad = try await client.send(
                .post, "/api/v1/admin/kb/articles", json: ["title": "x", "body": "y", "url": "javascript:alert(1)"],
                headers: owner.headers)
            #expect(bad.status == .unprocessableContent)
            #expect(try bad.errorField() == "url")
        }
    }
}
