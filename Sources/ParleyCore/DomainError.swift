import Foundation

/// The errors the domain and the stores throw. The HTTP edge maps each to one status.
public enum DomainError: Error, Sendable, Equatable {
    /// No such entity in the caller's organization (another organization's is "not found" too).
    case notFound(entity: String)
    /// The request conflicts with the current state (a duplicate email, the last owner).
    case conflict(String)
    /// The caller is known but may not do this.
    case forbidden(String)
    /// The caller is not known, or their credentials are wrong.
    case unauthenticated(String)
    /// Too many attempts; try again after the given number of seconds.
    case rateLimited(retryAfter: Int)
}

extension DomainError: CustomStringConvertible {
    /// A sentence for people (the CLI prints it; the HTTP edge maps each case itself).
    public var description: String {
        switch self {
        case .notFound(let entity): "No such \(entity)."
        case .conflict(let message), .forbidden(let message), .unauthenticated(let message): message
        case .rateLimited(let seconds): "Too many attempts; try again in \(seconds) seconds."
        }
    }
}

extension ValidationError: CustomStringConvertible {
    public var description: String { self.message }
}
