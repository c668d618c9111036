import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct AdminControllerTests {
    @Test(arguments: TestDatabase.all)
    func anotherOrganizationsSitesAgentsAndKeysAreNotFound(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let acme = try await stores.makeOrganization("Acme")
            let globex = try await stores.makeOrganization("Globex")
            let globexAgent = try await stores.makeAgent(in: globex.organization.id)
            let globexKey = try await stores.apiKeys.create(
                name: "k", role: .agent, in: globex.organization.id, by: nil, creatorRole: .owner
            ).key
            let session = try await client.signIn(acme.owner.email)
            let (site, agent, key) = (globex.site.id, globexAgent.id, globexKey.id)
            let attempts: [(HTTPRequest.Method, String, Any?)] = [
                (.get, "/api/v1/admin/sites/\(site)", nil),
                (.patch, "/api/v1/admin/sites/\(site)", ["name": "Mine now"]),
                (.post, "/api/v1/admin/sites/\(site)/rotate-secret", nil),
                (.get, "/api/v1/admin/agents/\(agent)", nil),
                (.patch, "/api/v1/admin/agents/\(agent)", ["name": "Mine now"]),
                (.delete, "/api/v1/admin/agents/\(agent)", nil),
                (.patch, "/api/v1/admin/agents/\(globex.owner.id)", ["isActive": false]),
                (.delete, "/api/v1/admin/api-keys/\(key)", nil),
            ]
            for (method, uri, body) in attempts {
                let response = try await client.send(method, uri, json: body, headers: session.headers)
                #expect(response.status == .notFound, "\(method) \(uri) gave \(response.status)")
                #expect(try response.errorCode() == "not_found")
            }
            let sites = try await client.send(.get, "/api/v1/admin/sites", headers: session.headers).json()
            #expect((sites["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [acme.site.id.description])
            let agents = try await client.send(.get, "/api/v1/admin/agents", headers: session.headers).json()
            #expect((agents["data"] as? [[String: Any]])?.count == 1)
            // Nothing of Globex changed.
            #expect(try await stores.sites.find(globex.site.id, in: globex.organization.id).name == globex.site.name)
            #expect(try await stores.agents.find(globexAgent.id, in: globex.organization.id).isActive)
        }
    }

    @Test(arguments: TestDatabase.all)
    func theAgentRoleIsForbiddenFromAdminRoutes(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await stores.makeAgent(in: org.organization.id, role: .agent)
            let session = try await client.signIn(agent.email)
            let attempts: [(HTTPRequest.Method, String, Any?)] = [
                (.get, "/api/v1/admin/sites", nil),
                (.post, "/api/v1/admin/sites", ["name": "x"]),
                (.get, "/api/v1/admin/sites/\(org.site.id)", nil),
                (.patch, "/api/v1/admin/sites/\(org.site.id)", ["name": "x"]),
                (.post, "/api/v1/admin/sites/\(org.site.id)/rotate-secret", nil),
                (.get, "/api/v1/admin/api-keys", nil),
                (.post, "/api/v1/admin/api-keys", ["name": "x"]),
                (.delete, "/api/v1/admin/api-keys/\(UUID())", nil),
                (
                    .post, "/api/v1/admin/agents",
                    ["email": "x@example.com", "role": "agent", "password": "long enough pw"]
                ),
                (.patch, "/api/v1/admin/agents/\(org.owner.id)", ["name": "x"]),
                (.delete, "/api/v1/admin/agents/\(org.owner.id)", nil),
            ]
            for (method, uri, body) in attempts {
                let response = try await client.send(method, uri, json: body, headers: session.headers)
                #expect(response.status == .forbidden, "\(method) \(uri) gave \(response.status)")
                #expect(try response.errorCode() == "forbidden")
            }
            // The team list is readable by everyone: agents assign work to each other.
            #expect(try await client.send(.get, "/api/v1/admin/agents", headers: session.headers).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.all)
    func adminsManageTheTeamButNotOwners(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let admin = try await stores.makeAgent(in: org.organization.id, role: .admin)
            let session = try await client.signIn(admin.email)
            let created = try await client.send(
                .post, "/api/v1/admin/agents",
                json: [
                    "email": "New.Agent@Example.com", "name": "New Agent", "role": "agent",
                    "password": "long enough pw",
                ],
                headers: session.headers)
            #expect(created.status == .created)
            let newID = try #require(try created.json()["id"] as? String)
            #expect(try created.json()["email"] as? String == "new.agent@example.com")
            let duplicate = try await client.send(
                .post, "/api/v1/admin/agents",
                json: ["email": "new.agent@example.com", "role": "agent", "password": "long enough pw"],
                headers: session.headers)
            #expect(duplicate.status == .conflict)
            let makeOwner = try await client.send(
                .post, "/api/v1/admin/agents",
                json: ["email": "boss@example.com", "role": "owner", "password": "long enough pw"],
                headers: session.headers)
            #expect(makeOwner.status == .forbidden)
            let promote = try await client.send(
                .patch, "/api/v1/admin/agents/\(newID)", json: ["role": "owner"], headers: session.headers)
            #expect(promote.status == .forbidden)
            let touchOwner = try await client.send(
                .patch, "/api/v1/admin/agents/\(org.owner.id)", json: ["name": "x"], headers: session.headers)
            #expect(touchOwner.status == .forbidden)
            let selfDeactivate = try await client.send(
                .delete, "/api/v1/admin/agents/\(admin.id)", headers: session.headers)
            #expect(selfDeactivate.status == .conflict)

            // Deactivation ends the agent's sessions and sign-in.
            let victim = try await client.signIn("new.agent@example.com", password: "long enough pw")
            let deactivated = try await client.send(.delete, "/api/v1/admin/agents/\(newID)", headers: session.headers)
            #expect(deactivated.status == .ok)
            #expect(try deactivated.json()["isActive"] as? Bool == false)
            #expect(try await client.send(.get, "/api/v1/me", headers: victim.headers).status == .unauthorized)
            await #expect(throws: UnexpectedResponse.self) {
                try await client.signIn("new.agent@example.com", password: "long enough pw")
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func theLastOwnerCannotBeDemoted(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let second = try await stores.makeAgent(in: org.organization.id, role: .owner)
            let session = try await client.signIn(second.email)
            let demote = try await client.send(
                .patch, "/api/v1/admin/agents/\(org.owner.id)", json: ["role": "admin"], headers: session.headers)
            #expect(demote.status == .ok)
            let ownSession = try await client.signIn(second.email)
            let demoteSelf = try await client.send(
                .patch, "/api/v1/admin/agents/\(second.id)", json: ["role": "admin"], headers: ownSession.headers)
            #expect(demoteSelf.status == .conflict)
        }
    }

    @Test(arguments: TestDatabase.all)
    func sitesAreCreatedUpdatedAndPaged(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let session = try await client.signIn(org.owner.email)
            let created = try await client.send(
                .post, "/api/v1/admin/sites",
                json: [
                    "name": "Shop", "allowedOrigins": ["https://Shop.Example/"],
                    "widget": ["title": "Help", "color": "#FF0000"],
                ],
                headers: session.headers)
            #expect(created.status == .created)
            let site = try created.json()
            let id = try #require(site["id"] as? String)
            let key = try #require(site["publicKey"] as? String)
            #expect(site["allowedOrigins"] as? [String] == ["https://shop.example"])
            #expect((site["widget"] as? [String: Any])?["color"] as? String == "#ff0000")
            #expect(
                (site["widget"] as? [String: Any])?["welcomeMessage"] as? String
                    == WidgetSettings.default.welcomeMessage)
            #expect((site["embedSnippet"] as? String)?.contains("data-site=\"\(key)\"") == true)

            let updated = try await client.send(
                .patch, "/api/v1/admin/sites/\(id)",
                json: [
                    "widget": ["welcomeMessage": "Hello there", "supportEmail": "help@shop.example"],
                    "strictIdentity": true,
                ],
                headers: session.headers)
            #expect(updated.status == .ok)
            let widget = try updated.json()["widget"] as? [String: Any]
            #expect(widget?["welcomeMessage"] as? String == "Hello there")
            #expect(widget?["title"] as? String == "Help")  // untouched fields stay
            #expect(try updated.json()["strictIdentity"] as? Bool == true)

            let secret = site["identitySecret"] as? String
            let rotated = try await client.send(
                .post, "/api/v1/admin/sites/\(id)/rotate-secret", headers: session.headers)
            #expect(try rotated.json()["identitySecret"] as? String != secret)

            var ids: [String] = []
            var cursor = ""
            repeat {
                let page = try await client.send(
                    .get, "/api/v1/admin/sites?limit=1&cursor=\(cursor)", headers: session.headers
                ).json()
                ids += (page["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String ?? ""
            } while !cursor.isEmpty
            #expect(Set(ids) == Set([id, org.site.id.description]))
            #expect(ids.count == 2)
        }
    }

    @Test(arguments: TestDatabase.all)
    func apiKeysAreShownOnceWorkAsBearerAndStopWhenRevoked(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let session = try await client.signIn(org.owner.email)
            let created = try await client.send(
                .post, "/api/v1/admin/api-keys", json: ["name": "CRM", "role": "admin"], headers: session.headers)
            #expect(created.status == .created)
            let secret = try #require(try created.json()["secret"] as? String)
            let id = try #require((try created.json()["key"] as? [String: Any])?["id"] as? String)
            let listed = try await client.send(.get, "/api/v1/admin/api-keys", headers: session.headers)
            #expect(!listed.text.contains(secret))

            let bearer: HTTPFields = [.authorization: "Bearer \(secret)"]
            let me = try await client.send(.get, "/api/v1/me", headers: bearer)
            #expect(me.status == .ok)
            #expect(try me.json()["role"] as? String == "admin")
            // No CSRF token needed with a key: there is no ambient credential to forge.
            #expect(
                try await client.send(.post, "/api/v1/admin/sites", json: ["name": "Via API"], headers: bearer).status
                    == .created)

            let agentKey = try await client.send(
                .post, "/api/v1/admin/api-keys", json: ["name": "Bot"], headers: session.headers)
            let agentSecret = try #require(try agentKey.json()["secret"] as? String)
            #expect(
                try await client.send(.get, "/api/v1/admin/sites", headers: [.authorization: "Bearer \(agentSecret)"])
                    .status == .forbidden)
            let ownerKey = try await client.send(
                .post, "/api/v1/admin/api-keys", json: ["name": "Root", "role": "owner"], headers: session.headers)
            #expect(ownerKey.status == .unprocessableContent)

            #expect(
                try await client.send(.delete, "/api/v1/admin/api-keys/\(id)", headers: session.headers).status == .ok)
            let revoked = try await client.send(.get, "/api/v1/me", headers: bearer)
            #expect(revoked.status == .unauthorized)
            #expect(
                try await client.send(.get, "/api/v1/me", headers: [.authorization: "Basic abc"]).status
                    == .unauthorized)
        }
    }
}
