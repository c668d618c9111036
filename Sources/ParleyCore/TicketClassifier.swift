/// The keyword fallback that classifies a new ticket when no model is configured: a priority and
/// a category from the words of its subject and first message. Pure and conservative: it only
/// raises the priority for clear words, and says `general` when nothing fits.
public enum TicketClassifier {
    /// Words that make a ticket urgent or high priority.
    static let urgent: Set<String> = ["outage", "down", "urgent", "emergency", "asap", "breach", "hacked", "critical"]
    static let high: Set<String> = [
        "cannot", "can't", "cant", "unable", "broken", "error", "crash", "crashes", "failed", "fails", "locked",
    ]

    /// Categories by keyword, in order of precedence.
    static let categories: [(String, Set<String>)] = [
        (
            "billing",
            [
                "invoice", "refund", "charge", "charged", "payment", "price", "pricing", "billing", "card", "vat",
                "subscription", "plan",
            ]
        ),
        ("account", ["login", "log", "password", "account", "email", "2fa", "two-factor", "sign", "locked"]),
        (
            "technical",
            ["error", "crash", "crashes", "bug", "sync", "slow", "broken", "export", "import", "api", "down", "outage"]
        ),
    ]

    public static func classify(subject: String, body: String) -> (priority: TicketPriority, category: String) {
        let words = Set(
            (subject + " " + body).lowercased().split(whereSeparator: {
                !($0.isLetter || $0.isNumber || $0 == "'" || $0 == "-")
            })
            .map(String.init))
        let priority: TicketPriority =
            !words.isDisjoint(with: Self.urgent) ? .urgent : !words.isDisjoint(with: Self.high) ? .high : .medium
        let category = Self.categories.first { !words.isDisjoint(with: $0.1) }?.0 ?? "general"
        return (priority, category)
    }
}
