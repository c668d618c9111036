import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct AuthControllerTests {
    @Test(arguments: TestDatabase.all)
    func signingInSetsAnHttpOnlySameSiteCookieAndReturnsTheCSRFToken(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let response = try await client.send(
                .post, "/api/v1/auth/login", json: ["email": org.owner.email, "password": org.password])
            #expect(response.status == .ok)
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("parley_session="))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(cookie.contains("Path=/"))
            let body = try response.json()
            #expect((body["csrfToken"] as? String)?.isEmpty == false)
            #expect((body["agent"] as? [String: Any])?["email"] as? String == org.owner.email)
            #expect((body["agent"] as? [String: Any])?["passwordHash"] == nil)

            let session = try await client.signIn(org.owner.email)
            let me = try await client.send(.get, "/api/v1/me", headers: session.headers)
            #expect(me.status == .ok)
            #expect((try me.json()["organization"] as? [String: Any])?["name"] as? String == "Acme")
        }
    }

    @Test(arguments: TestDatabase.all)
    func wrongCredentialsAreOneAnswerFor401(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let wrong = try await client.send(
                .post, "/api/v1/auth/login", json: ["email": org.owner.email, "password": "nope nope nope"])
            let unknown = try await client.send(
                .post, "/api/v1/auth/login", json: ["email": "who@example.com", "password": "nope nope nope"])
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(try wrong.errorCode() == "invalid_credentials")
            #expect(wrong.text == unknown.text)
            #expect(try await client.send(.get, "/api/v1/me").status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabase.all)
    func signInAttemptsAreThrottled(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            for _ in 0..<LoginThrottle.freeFailures {
                let response = try await client.send(
                    .post, "/api/v1/auth/login", json: ["email": org.owner.email, "password": "guess guess guess"])
                #expect(response.status == .unauthorized)
            }
            // Locked now, even with the right password.
            let locked = try await client.send(
                .post, "/api/v1/auth/login", json: ["email": org.owner.email, "password": org.password])
            #expect(locked.status == .tooManyRequests)
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(try locked.errorCode() == "rate_limited")
        }
    }

    @Test(arguments: TestDatabase.all)
    func unsafeRequestsWithACookieNeedTheCSRFToken(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let session = try await client.signIn(org.owner.email)
            let cookieOnly: HTTPFields = [.cookie: "parley_session=\(session.cookie)"]
            let forged = try await client.send(
                .post, "/api/v1/admin/sites", json: ["name": "Forged"], headers: cookieOnly)
            #expect(forged.status == .forbidden)
            #expect(try forged.errorCode() == "csrf_failed")
            var wrong = cookieOnly
            wrong[HTTPField.Name("X-CSRF-Token")!] = "not-the-token"
            #expect(
                try await client.send(.post, "/api/v1/admin/sites", json: ["name": "Forged"], headers: wrong).status
                    == .forbidden)
            #expect(try await client.send(.get, "/api/v1/admin/sites", headers: cookieOnly).status == .ok)
            #expect(
                try await client.send(.post, "/api/v1/admin/sites", json: ["name": "Real"], headers: session.headers)
                    .status == .created)
        }
    }

    @Test(arguments: TestDatabase.all)
    func signingOutEndsTheSession(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let session = try await client.signIn(org.owner.email)
            let out = try await client.send(.post, "/api/v1/auth/logout", headers: session.headers)
            #expect(out.status == .noContent)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await client.send(.get, "/api/v1/me", headers: session.headers).status == .unauthorized)
        }
    }

    @Test(arguments: TestDatabase.all)
    func aPasswordChangeEndsTheAgentsOtherSessions(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let laptop = try await client.signIn(org.owner.email)
            let phone = try await client.signIn(org.owner.email)
            let wrongCurrent = try await client.send(
                .post, "/api/v1/me/password",
                json: ["currentPassword": "not my password", "newPassword": "new and long password"],
                headers: laptop.headers)
            #expect(wrongCurrent.status == .unprocessableContent)
            #expect(try wrongCurrent.errorField() == "currentPassword")
            let tooShort = try await client.send(
                .post, "/api/v1/me/password", json: ["currentPassword": org.password, "newPassword": "short"],
                headers: laptop.headers)
            #expect(try tooShort.errorField() == "newPassword")

            let change = try await client.send(
                .post, "/api/v1/me/password",
                json: ["currentPassword": org.password, "newPassword": "new and long password"],
                headers: laptop.headers)
            #expect(change.status == .noContent)
            #expect(try await client.send(.get, "/api/v1/me", headers: laptop.headers).status == .ok)
            #expect(try await client.send(.get, "/api/v1/me", headers: phone.headers).status == .unauthorized)
            await #expect(throws: UnexpectedResponse.self) { try await client.signIn(org.owner.email) }
            _ = try await client.signIn(org.owner.email, password: "new and long password")
        }
    }
}
