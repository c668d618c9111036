public import Foundation

/// What the model decided about its reply, from the `<decision>` trailer it is asked to end with
/// (or the `[ESCALATE]` prefix older prompts use).
public struct AssistantDecision: Sendable, Hashable, Codable {
    /// The three things a model may decide.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The reply answers the visitor.
        case answer
        /// A person should take over.
        case handoff
        /// The visitor's question is settled; the conversation may end.
        case resolve
    }

    public var kind: Kind
    /// Passage ids the reply relies on (`A1`, `A2`…).
    public var citations: [String]
    /// The model's own confidence, 0 to 1, when it gave one.
    public var confidence: Double?
    /// Short answers the visitor may tap next.
    public var quickReplies: [String]
    /// Why the model handed over, when it did.
    public var reason: String?

    public init(
        kind: Kind, citations: [String] = [], confidence: Double? = nil, quickReplies: [String] = [],
        reason: String? = nil
    ) {
        self.kind = kind
        self.citations = citations
        self.confidence = confidence
        self.quickReplies = quickReplies
        self.reason = reason
    }

    private struct Wire: Decodable {
        var decision: String?
        var citations: [String]?
        var confidence: Double?
        var quickReplies: [String]?
        var reason: String?
    }

    /// Reads a trailer leniently (a small model may wrap or truncate it); nil when it says nothing usable.
    public static func parse(trailer: String) -> AssistantDecision? {
        guard let open = trailer.firstIndex(of: "{"), let close = trailer.lastIndex(of: "}"), open < close else {
            return nil
        }
        let json = Data(trailer[open...close].utf8)
        guard let wire = try? JSONDecoder().decode(Wire.self, from: json) else { return nil }
        let kind = wire.decision.flatMap { Kind(rawValue: $0.lowercased()) } ?? .answer
        return AssistantDecision(
            kind: kind,
            citations: (wire.citations ?? []).map { $0.trimmingCharacters(in: .whitespaces).uppercased() },
            confidence: wire.confidence.map { min(1, max(0, $0)) },
            quickReplies: (wire.quickReplies ?? []).prefix(4).map { String($0.prefix(60)) }.filter { !$0.isEmpty },
            reason: wire.reason.map { String($0.prefix(200)) })
    }

    /// Passage ids cited inline as `[A1]`, in order of first use.
    public static func inlineCitations(_ text: String) -> [String] {
        var found: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "]") else { break }
            let inside = after[..<close].uppercased()
            for id in inside.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
            where id.count >= 2 && id.first == "A" && id.dropFirst().allSatisfy(\.isNumber) && !found.contains(id) {
                found.append(id)
            }
            rest = after[after.index(after: close)...]
        }
        return found
    }
}

/// Splits a streaming reply into what the visitor may see now and what they never see: a leading
/// `[ESCALATE]` (held back until it is ruled out) and the `<decision>` trailer (held back from
/// its first possible character). Pure: feed it deltas, stream what it returns.
public struct ReplySplitter: Sendable {
    public static let escalatePrefix = "[ESCALATE]"
    public static let trailerMarker = "<decision>"

    /// Text received and not yet released.
    private var held = ""
    private var prefixSettled = false
    /// The reply began with `[ESCALATE]`: nothing of it is shown.
    public private(set) var escalated = false
    /// Everything from the trailer marker on, once seen.
    public private(set) var trailer: String?
    /// Everything released so far.
    public private(set) var visible = ""

    public init() {}

    /// Takes the next delta; returns the text that may be shown now (possibly empty).
    public mutating func feed(_ delta: String) -> String {
        if self.escalated || self.trailer != nil {
            if self.trailer != nil { self.trailer! += delta } else { self.held += delta }
            return ""
        }
        self.held += delta
        if !self.prefixSettled {
            let trimmed = self.held.drop(while: \.isWhitespace)
            let prefix = Self.escalatePrefix
            if trimmed.count < prefix.count, prefix.hasPrefix(trimmed.uppercased()) { return "" }
            self.prefixSettled = true
            if trimmed.uppercased().hasPrefix(prefix) {
                self.escalated = true
                self.held = String(trimmed.dropFirst(prefix.count))
                return ""
            }
            self.held = String(trimmed)
        }
        if let range = self.held.range(of: Self.trailerMarker) {
            let shown = String(self.held[..<range.lowerBound])
            self.trailer = String(self.held[range.lowerBound...])
            self.held = ""
            return self.release(shown)
        }
        // Keep back the longest tail that could still grow into the marker.
        let marker = Self.trailerMarker
        var keep = 0
        for length in stride(from: min(marker.count - 1, self.held.count), to: 0, by: -1)
        where marker.hasPrefix(self.held.suffix(length)) {
            keep = length
            break
        }
        let shown = String(self.held.dropLast(keep))
        self.held = String(self.held.suffix(keep))
        return self.release(shown)
    }

    /// The stream ended: releases what was held back (unless it was the escalation's reason).
    public mutating func finish() -> String {
        if self.escalated || self.trailer != nil { return "" }
        if !self.prefixSettled {
            self.prefixSettled = true
            self.held = String(self.held.drop(while: \.isWhitespace))
        }
        let shown = self.held
        self.held = ""
        return self.release(shown)
    }

    /// Why the model escalated, when its reply began with `[ESCALATE]`.
    public var escalationReason: String? {
        self.escalated ? self.held.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    private mutating func release(_ text: String) -> String {
        self.visible += text
        return text
    }
}

/// The handoff rules, in code, not left to the model.
public enum EscalationPolicy {
    /// What happens to a reply once it has been written.
    public enum Outcome: Sendable, Equatable {
        /// Send it.
        case answer
        /// Send it, then end the conversation as resolved.
        case resolve
        /// Don't send it: hand over.
        case handoff(EscalationReason)
    }

    /// Checked before any AI runs: asking for a person, and the reply budget.
    public static func beforeAnswering(_ message: String, aiReplies: Int, settings: AssistantSettings)
        -> EscalationReason?
    {
        if HandoffIntent.asksForHuman(message) { return .visitorAsked }
        if aiReplies >= settings.maxMessagesBeforeEscalation { return .limitReached }
        return nil
    }

    /// What to do with a finished reply.
    public static func afterAnswering(
        text: String, escalated: Bool, decision: AssistantDecision?, confidence: Double, settings: AssistantSettings
    ) -> Outcome {
        if escalated || decision?.kind == .handoff { return .handoff(.assistantHandoff) }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .handoff(.noAnswer) }
        if confidence < settings.confidenceThreshold { return .handoff(.lowConfidence) }
        return decision?.kind == .resolve ? .resolve : .answer
    }
}
