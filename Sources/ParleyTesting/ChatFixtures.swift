import Foundation
public import HTTPTypes
public import HummingbirdTesting

/// A visitor's conversation as the API returned it.
public struct TestVisitor: Sendable {
    public var token: String
    public var sessionID: String
    public var visitorID: String

    public var headers: HTTPFields { [.authorization: "Bearer \(self.token)"] }
}

extension TestClientProtocol {
    /// Starts (or resumes) a conversation on a site as a visitor.
    public func startConversation(
        siteKey: String, visitorId: String? = nil, user: [String: Any]? = nil, headers: HTTPFields = [:]
    )
        async throws -> TestVisitor
    {
        var body: [String: Any] = ["site": siteKey]
        if let visitorId { body["visitorId"] = visitorId }
        if let user { body["user"] = user }
        let response = try await self.send(.post, "/api/v1/chat/sessions", json: body, headers: headers)
        guard response.status == .ok else {
            throw UnexpectedResponse(description: "start failed: \(response.status) \(response.text)")
        }
        let json = try response.json()
        guard let token = json["token"] as? String, let session = (json["session"] as? [String: Any])?["id"] as? String,
            let visitor = json["visitorId"] as? String
        else { throw UnexpectedResponse(description: "start: \(response.text)") }
        return TestVisitor(token: token, sessionID: session, visitorID: visitor)
    }
}
