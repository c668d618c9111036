import Foundation
import ParleyCore

/// Which `Origin` may use a site's widget. The check stops other websites' pages in a browser;
/// a non-browser client can send any header, so an absent or non-web origin is let through.
struct OriginPolicy: Sendable {
    /// Parley's own origin (its pages, the widget's frame).
    let baseOrigin: String

    init(baseURL: String) { self.baseOrigin = (try? Validate.origin(baseURL, field: "baseURL")) ?? baseURL }

    func allows(_ origin: String?, for site: Site) -> Bool {
        guard let origin else { return true }
        let lowered = origin.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            // "null" is a browser page without an origin (sandboxed, file:); the rest are not browsers.
            return lowered == "null" ? site.allowedOrigins.isEmpty : true
        }
        if let normalized = try? Validate.origin(origin, field: "origin"), normalized == self.baseOrigin { return true }
        return site.allows(origin: origin)
    }

    /// For agents' cookies: only Parley's own pages (or non-browser clients) may use them.
    func isOwn(_ origin: String?) -> Bool {
        guard let origin, origin.lowercased().hasPrefix("http") else { return true }
        return (try? Validate.origin(origin, field: "origin")) == self.baseOrigin
    }
}
