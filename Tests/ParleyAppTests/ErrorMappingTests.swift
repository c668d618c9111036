import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

/// Malformed input of every kind gets its 4xx in the one error shape, never a 500.
@Suite struct ErrorMappingTests {
    struct BadRequest: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var contentType: String? = "application/json"
        var status: HTTPResponse.Status
        var code: String
        var field: String? = nil
        var description: String { "\(self.method) \(self.uri) \(self.body ?? "")" }
    }

    static let cases: [BadRequest] = [
        .init(
            method: .post, uri: "/api/v1/admin/sites", body: "{\"name\": ", status: .badRequest, code: "malformed_json"),
        .init(method: .post, uri: "/api/v1/admin/sites", body: "[1, 2]", status: .badRequest, code: "malformed_json"),
        .init(method: .post, uri: "/api/v1/admin/sites", body: "", status: .badRequest, code: "malformed_json"),
        .init(
            method: .post, uri: "/api/v1/admin/sites", body: "name=x", contentType: "application/x-www-form-urlencoded",
            status: .unsupportedMediaType, code: "unsupported_media_type"),
        .init(
            method: .post, uri: "/api/v1/admin/sites", body: "{}", contentType: nil, status: .unsupportedMediaType,
            code: "unsupported_media_type"),
        .init(
            method: .post, uri: "/api/v1/admin/sites", body: "{}", status: .unprocessableContent, code: "invalid_field",
            field: "name"),
        .init(
            method: .post, uri: "/api/v1/admin/sites", body: "{\"name\": 42}", status: .unprocessableContent,
            code: "invalid_field",
            field: "name"),
        .init(
            method: .post, uri: "/api/v1/admin/sites", body: "{\"name\": null}", status: .unprocessableContent,
            code: "invalid_field",
            field: "name"),
        .init(
            method: .post, uri: "/api/v1/admin/sites", body: "{\"name\": \"   \"}", status: .unprocessableContent,
            code: "invalid_field",
            field: "name"),
        .init(
            method: .post, uri: "/api/v1/admin/sites",
            body: "{\"name\": \"x\", \"allowedOrigins\": [\"https://ok.example\", \"not an origin\"]}",
            status: .unprocessableContent, code: "invalid_field", field: "allowedOrigins[1]"),
        .init(
            method: .post, uri: "/api/v1/admin/sites", body: "{\"name\": \"x\", \"widget\": {\"color\": \"blue\"}}",
            status: .unprocessableContent, code: "invalid_field", field: "widget.color"),
        .init(
            method: .post, uri: "/api/v1/admin/sites",
            body: "{\"name\": \"x\", \"widget\": {\"position\": \"middle\"}}",
            status: .unprocessableContent, code: "invalid_field", field: "widget.position"),
        .init(
            method: .post, uri: "/api/v1/admin/agents",
            body: "{\"email\": \"nope\", \"role\": \"agent\", \"password\": \"long enough pw\"}",
            status: .unprocessableContent, code: "invalid_field", field: "email"),
        .init(
            method: .post, uri: "/api/v1/admin/agents",
            body: "{\"email\": \"a@b.co\", \"role\": \"king\", \"password\": \"long enough pw\"}",
            status: .unprocessableContent, code: "invalid_field", field: "role"),
        .init(
            method: .post, uri: "/api/v1/admin/agents",
            body: "{\"email\": \"a@b.co\", \"role\": \"agent\", \"password\": \"short\"}",
            status: .unprocessableContent, code: "invalid_field", field: "password"),
        .init(
            method: .get, uri: "/api/v1/admin/sites?limit=0", status: .unprocessableContent, code: "invalid_field",
            field: "limit"),
        .init(
            method: .get, uri: "/api/v1/admin/sites?limit=lots", status: .unprocessableContent, code: "invalid_field",
            field: "limit"),
        .init(
            method: .get, uri: "/api/v1/admin/sites?cursor=garbage!", status: .unprocessableContent,
            code: "invalid_field", field: "cursor"),
        .init(method: .get, uri: "/api/v1/admin/sites/not-a-uuid", status: .notFound, code: "not_found"),
        .init(method: .get, uri: "/api/v1/admin/sites/\(UUID())", status: .notFound, code: "not_found"),
        .init(method: .get, uri: "/api/v1/no/such/route", status: .notFound, code: "not_found"),
    ]

    @Test(arguments: TestDatabase.all)
    func malformedInputGetsItsClientError(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let session = try await client.signIn(org.owner.email)
            for bad in Self.cases {
                var headers = session.headers
                if let type = bad.contentType { headers[.contentType] = type }
                let response = try await client.execute(
                    uri: bad.uri, method: bad.method, headers: headers, body: bad.body.map { ByteBuffer(string: $0) })
                #expect(response.status == bad.status, "\(bad)")
                #expect(try response.errorCode() == bad.code, "\(bad): \(response.text)")
                #expect(try response.errorField() == bad.field, "\(bad): \(response.text)")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
        }
    }

    @Test(arguments: TestDatabase.all)
    func aTooLargeBodyIs413BeforeItIsRead(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let session = try await client.signIn(org.owner.email)
            let big = "{\"name\": \"" + String(repeating: "x", count: 2 * 1024 * 1024) + "\"}"
            var headers = session.headers
            headers[.contentType] = "application/json"
            let response = try await client.execute(
                uri: "/api/v1/admin/sites", method: .post, headers: headers, body: ByteBuffer(string: big))
            #expect(response.status == .contentTooLarge)
            #expect(try response.errorCode() == "payload_too_large")
        }
    }

    @Test(arguments: TestDatabase.all)
    func unauthenticatedCallsAre401(database: TestDatabase) async throws {
        try await withTestApp(database) { client, _ in
            for uri in ["/api/v1/me", "/api/v1/admin/sites", "/api/v1/admin/agents", "/api/v1/admin/api-keys"] {
                let response = try await client.send(.get, uri)
                #expect(response.status == .unauthorized, "\(uri)")
                #expect(try response.errorCode() == "unauthenticated")
            }
            let forged = try await client.send(.get, "/api/v1/me", headers: [.cookie: "parley_session=forged"])
            #expect(forged.status == .unauthorized)
        }
    }
}
