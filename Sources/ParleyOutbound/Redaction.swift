/// What a remote server said, made safe to store and show: secrets and token-like strings
/// removed, whitespace folded, cut to a short excerpt. Pure.
public enum Redaction {
    /// The most characters of an excerpt.
    public static let limit = 200

    /// `text` with every `secrets` value, `Bearer ...`, `sk-...`-like keys, Google API keys and
    /// `key=`/`token=` values replaced by `[redacted]`, on one line, at most `limit` characters.
    public static func excerpt(_ text: String, secrets: [String], limit: Int = Self.limit) -> String {
        var text = String(text.prefix(64 * 1024))
        for secret in secrets where secret.count >= 4 {
            text = text.replacing(secret, with: "[redacted]")
        }
        for (source, replacement) in Self.patterns {
            // Compiled per call (Regex is not Sendable); errors are rare, so this costs nothing.
            guard let pattern = try? Regex(source) else { continue }
            text = text.replacing(pattern) { match in
                replacement.isEmpty ? "[redacted]" : "\(match.output[1].substring ?? "")[redacted]"
            }
        }
        let folded = text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) }
        var line = String(folded).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if line.count > limit { line = String(line.prefix(limit - 1)) + "…" }
        return line
    }

    /// Token shapes, each with the prefix to keep (group 1) or none.
    static let patterns: [(String, String)] = [
        (#"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"#, "keep"),
        (#"(?i)((?:api[_-]?key|x-goog-api-key|token|secret|password)["']?\s*[=:]\s*["']?)[^\s&"',}]+"#, "keep"),
        (#"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{6,}"#, ""),
        (#"\bAIza[0-9A-Za-z_-]{20,}"#, ""),
        (#"\bxox[abpr]-[A-Za-z0-9-]{10,}"#, ""),
    ]
}
