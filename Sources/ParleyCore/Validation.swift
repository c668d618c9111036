import Foundation

/// Input that breaks a rule, with the field it concerns. Mapped to 422 at the edge.
public struct ValidationError: Error, Sendable, Equatable {
    /// The field as the client named it (`email`, `widget.color`).
    public var field: String
    /// A sentence a person understands.
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// The rules for fields people type. Each returns the normalised value or throws naming the field.
public enum Validate {
    /// The shortest password accepted.
    public static let minimumPasswordLength = 10
    /// Bcrypt reads 72 bytes at most; longer passwords would silently be truncated.
    public static let maximumPasswordBytes = 72

    /// Trims `value` and checks its length.
    public static func text(_ value: String, field: String, max: Int, allowEmpty: Bool = false) throws(ValidationError)
        -> String
    {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty && !allowEmpty {
            throw ValidationError(field: field, message: "\(field) must not be empty.")
        }
        if trimmed.count > max {
            throw ValidationError(field: field, message: "\(field) must be at most \(max) characters.")
        }
        if trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) {
            throw ValidationError(field: field, message: "\(field) must not contain control characters.")
        }
        return trimmed
    }

    /// A plausible email address, lowercased.
    public static func email(_ value: String, field: String = "email") throws(ValidationError) -> String {
        let email = value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        let valid =
            email.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && !email.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," || $0 == ";" })
        guard valid else {
            throw ValidationError(field: field, message: "\(field) must be an email address like name@example.com.")
        }
        return email
    }

    /// A password long enough to resist guessing and short enough for bcrypt.
    public static func password(_ value: String, field: String = "password") throws(ValidationError) -> String {
        guard value.count >= self.minimumPasswordLength else {
            throw ValidationError(
                field: field, message: "\(field) must be at least \(self.minimumPasswordLength) characters.")
        }
        guard value.utf8.count <= self.maximumPasswordBytes else {
            throw ValidationError(field: field, message: "\(field) must be at most \(self.maximumPasswordBytes) bytes.")
        }
        return value
    }

    /// A colour as `#RRGGBB`, lowercased.
    public static func color(_ value: String, field: String) throws(ValidationError) -> String {
        let color = value.trimmingCharacters(in: .whitespaces).lowercased()
        guard color.count == 7, color.first == "#", color.dropFirst().allSatisfy(\.isHexDigit) else {
            throw ValidationError(field: field, message: "\(field) must be a colour like #2563eb.")
        }
        return color
    }

    /// A web origin (`https://example.com[:port]`), normalised: lowercased, no path, no trailing slash.
    public static func origin(_ value: String, field: String) throws(ValidationError) -> String {
        let invalid = ValidationError(
            field: field, message: "\(field) must be an origin like https://example.com (scheme and host, no path).")
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let text = trimmed.hasSuffix("/") ? String(trimmed.dropLast()) : trimmed
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty,
            components.path.isEmpty, components.query == nil, components.fragment == nil, components.user == nil
        else { throw invalid }
        if let port = components.port {
            let isDefault = (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
            return isDefault ? "\(scheme)://\(host)" : "\(scheme)://\(host):\(port)"
        }
        return "\(scheme)://\(host)"
    }

    /// A list of origins, each normalised, duplicates removed, at most 50.
    public static func origins(_ values: [String], field: String = "allowedOrigins") throws(ValidationError) -> [String]
    {
        guard values.count <= 50 else {
            throw ValidationError(field: field, message: "\(field) may list at most 50 origins.")
        }
        var result: [String] = []
        for (index, value) in values.enumerated() {
            let origin = try self.origin(value, field: "\(field)[\(index)]")
            if !result.contains(origin) { result.append(origin) }
        }
        return result
    }
}
