public import Foundation

/// Whether an article answers a question well enough to offer it with no AI to judge (the
/// no-provider fallback). Pure and deliberately strict: a wrong article is worse than a handoff.
public enum KnowledgeMatch {
    /// Words that carry no meaning on their own in a question.
    static let stopwords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "can", "do", "does", "for", "from", "get", "have", "how", "i", "if",
        "in", "is", "it", "me", "my", "of", "on", "or", "our", "please", "the", "there", "this", "to", "what", "when",
        "where", "which", "who", "why", "will", "with", "you", "your", "hi", "hello", "hey", "thanks", "want", "need",
    ]

    /// The meaningful words of a question.
    public static func keywords(_ question: String) -> [String] {
        SearchTerms.words(question).filter { !self.stopwords.contains($0) }
    }

    /// Strong when most of the question's keywords (at least two, or the only one) appear in the
    /// article, at least one of them in its title. Matching is by word prefix, so "refunds"
    /// finds "refund".
    public static func isStrong(question: String, title: String, body: String) -> Bool {
        let keywords = self.keywords(question)
        guard !keywords.isEmpty else { return false }
        let titleWords = SearchTerms.words(title)
        let allWords = titleWords + SearchTerms.words(String(body.prefix(20_000)))
        func found(_ keyword: String, in words: [String]) -> Bool {
            let stem = String(keyword.prefix(max(4, keyword.count - 2)))
            return words.contains { $0 == keyword || ($0.hasPrefix(stem) && stem.count >= 4) }
        }
        let hits = keywords.filter { found($0, in: allWords) }.count
        let inTitle = keywords.contains { found($0, in: titleWords) }
        let needed = keywords.count == 1 ? 1 : max(2, Int((Double(keywords.count) * 0.6).rounded(.up)))
        return inTitle && hits >= needed
    }

    /// The least `offerConfidence` at which an article is offered without a model.
    public static let offerThreshold = 0.5

    /// How sure retrieval is that its best article answers the question, from 0 to 1, with no
    /// model to judge: the best passage's cosine similarity to the question, its lead over the
    /// runner-up article, and full text and vectors agreeing on it; without vectors, the keyword
    /// check alone. Calibrated with `parley eval` on the Python FAQ set with multilingual-e5-small
    /// (its similarities sit between 0.75 and 0.95): offering at 0.5 answered 69 % of the
    /// answerable questions, 97 % of them with an accepted article, and handed over every
    /// unanswerable one (BENCHMARKS.md). A model with lower similarities (OpenAI's) hands over more.
    public static func offerConfidence(strong: Bool, similarity: Double?, runnerUp: Double?, agreed: Bool) -> Double {
        guard let similarity else { return strong ? 0.7 : 0.2 }
        let score =
            (similarity - 0.895) / 0.1 + (similarity - (runnerUp ?? similarity)) * 8 + (agreed ? 0.2 : 0)
        return min(1, max(0, 0.5 + score / 2))
    }
}

/// Whether a visitor is asking for a person. Code, not a model, decides this: the visitor can
/// always reach a human.
public enum HandoffIntent {
    static let phrases = [
        "talk to a human", "talk to a person", "speak to a human", "speak to a person", "speak to someone",
        "talk to someone",
        "real person", "human agent", "a human", "an agent", "customer service", "representative", "live agent",
        "live chat",
        "operator", "speak with someone", "talk with someone",
    ]

    public static func asksForHuman(_ text: String) -> Bool {
        // Every word, one-letter ones too ("talk to a human"); punctuation is a separator.
        let words = text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) })
        let lowered = " " + words.joined(separator: " ") + " "
        return self.phrases.contains { lowered.contains(" \($0) ") } || lowered == " human " || lowered == " agent "
    }
}
