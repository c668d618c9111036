public import Hummingbird
import Foundation
import Logging
import ParleyCore
import ParleyStore

/// An error with its HTTP status and a stable machine-readable code.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    /// The wire form of any error: domain errors as they are, Hummingbird's by status, anything
    /// else as a bare 500.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as ValidationError:
            return APIError(.unprocessableContent, code: "invalid_field", message: error.message, field: error.field)
        case let error as DomainError:
            switch error {
            case .notFound(let entity):
                return APIError(.notFound, code: "not_found", message: "No such \(entity).")
            case .conflict(let message):
                return APIError(.conflict, code: "conflict", message: message)
            case .forbidden(let message):
                return APIError(.forbidden, code: "forbidden", message: message)
            case .unauthenticated(let message):
                return APIError(.unauthorized, code: "unauthenticated", message: message)
            case .rateLimited(let seconds):
                return APIError(
                    .tooManyRequests, code: "rate_limited",
                    message: "Too many attempts; try again in \(seconds) seconds.",
                    headers: [.retryAfter: String(seconds)]
                )
            }
        case let error as InvalidTransition:
            return APIError(.conflict, code: "invalid_transition", message: error.message)
        case let error as TicketTransitionError:
            return APIError(.conflict, code: "invalid_transition", message: error.message)
        case is ChatWriter.ShuttingDown:
            return APIError(
                .serviceUnavailable, code: "shutting_down", message: "The server is restarting; try again in a moment.",
                headers: [.retryAfter: "2"])
        case let error as HTTPError:
            let (code, message): (String, String) =
                switch error.status {
                case .notFound: ("not_found", "No such route.")
                case .contentTooLarge: ("payload_too_large", "The request body is too large.")
                case .badRequest: ("bad_request", error.body ?? "The request is malformed.")
                case .methodNotAllowed: ("method_not_allowed", "This method is not allowed here.")
                case .unauthorized: ("unauthenticated", "Sign in first.")
                default: ("http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
                }
            return APIError(error.status, code: code, message: message, headers: error.headers)
        default:
            return nil
        }
    }

    func response() -> Response {
        var body: [String: String] = ["code": self.code, "message": self.message]
        if let field { body["field"] = field }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(["error": body])) ?? Data(#"{"error":{"code":"internal"}}"#.utf8)
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Maps every error thrown below it to the JSON error shape. Unmapped errors become a bare 500,
/// logged with the request id, never with the error's text in the response.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            if let apiError = APIError.from(error) {
                if apiError.status.code >= 500 {
                    context.logger.error("Request failed", metadata: ["parley.error": "\(error)"])
                }
                return apiError.response()
            }
            context.logger.error("Unhandled error", metadata: ["parley.error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, code: "internal", message: "Something went wrong on our side.")
                .response()
        }
    }
}
