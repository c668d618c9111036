public import Foundation

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
