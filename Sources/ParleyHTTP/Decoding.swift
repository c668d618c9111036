public import Hummingbird
import Foundation
import ParleyCore

extension Request {
    /// A seq in the query (`?after=12`): a whole number, 0 or more; nil when absent.
    func sequenceNumber(_ name: String) throws -> Int64? {
        guard let text = self.uri.queryParameters[Substring(name)].map(String.init), !text.isEmpty else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw ValidationError(field: name, message: "\(name) must be a whole number, 0 or more.")
        }
        return value
    }

    /// `?cursor=&limit=` as a page request (422 naming the field when either is bad).
    func pageRequest() throws -> PageRequest {
        try PageRequest(
            cursor: self.uri.queryParameters["cursor"].map(String.init),
            limit: self.uri.queryParameters["limit"].map(String.init))
    }

    /// Decodes a JSON body strictly: 415 for another media type, 413 past the size limit (checked
    /// before buffering when the length is declared), 400 for malformed JSON, 422 naming the field
    /// for a missing or mistyped one.
    public func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        let contentType = self.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") || contentType.hasPrefix("application/merge-patch+json") else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type", message: "Send the body as application/json.")
        }
        if let length = self.headers[.contentLength].flatMap(Int.init), length > context.maxUploadSize {
            throw APIError(
                .contentTooLarge, code: "payload_too_large",
                message: "The request body is larger than \(context.maxUploadSize) bytes.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await self.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw APIError(
                .contentTooLarge, code: "payload_too_large",
                message: "The request body is larger than \(context.maxUploadSize) bytes.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw Self.apiError(for: error)
        }
    }

    static func apiError(for error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return APIError(.badRequest, code: "malformed_json", message: "The body is not valid JSON.")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return APIError(
                .unprocessableContent, code: "invalid_field", message: "\(field) has an invalid value.", field: field)
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return APIError(
                .unprocessableContent, code: "invalid_field", message: "\(field) is required.", field: field)
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return APIError(
                .unprocessableContent, code: "invalid_field", message: "\(field) must not be null.", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            if field.isEmpty {
                return APIError(.badRequest, code: "malformed_json", message: "The body must be a JSON object.")
            }
            return APIError(
                .unprocessableContent, code: "invalid_field", message: "\(field) must be \(Self.describe(type)).",
                field: field)
        @unknown default:
            return APIError(.badRequest, code: "malformed_json", message: "The body could not be read.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: "of another type"
        }
    }
}
