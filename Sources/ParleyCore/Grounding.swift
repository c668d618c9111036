public import Foundation

/// How much of an answer its sources support, measured in code (the model's own confidence is
/// not evidence). A content word of the answer is supported when the passages or the visitor's
/// question hold it (or a word of the same stem); numbers must appear exactly. Pure.
public enum Grounding {
    /// A sentence with at least this many content words is checked on its own: below
    /// `sentenceFloor` support it is not shown, and the answer fails.
    public static let checkedSentenceWords = 4
    /// The least support a checked sentence needs.
    public static let sentenceFloor = 0.5

    /// Words that carry no claim: function words and the small talk of support replies.
    static let noClaim: Set<String> = KnowledgeMatch.stopwords.union([
        "about", "after", "all", "also", "am", "any", "anything", "ask", "assist", "be", "been", "before", "but",
        "by", "could", "did", "doing", "don", "each", "else", "feel", "free", "glad", "go", "going", "great", "had",
        "has", "he", "help", "helps", "here", "hope", "into", "its", "just", "know", "let", "like", "ll", "make",
        "may", "might", "more", "most", "much", "must", "no", "not", "now", "once", "one", "only", "other", "out",
        "over", "question", "questions", "re", "really", "see", "she", "should", "so", "some", "such", "sure",
        "than", "that", "their", "them", "then", "these", "they", "those", "through", "too", "up", "us", "use",
        "using", "ve", "very", "was", "way", "we", "were", "would", "yes", "yet", "happy", "sorry", "thank",
        "welcome", "below", "above", "following", "article", "articles", "passage", "passages", "source",
        "sources", "based", "according", "mentioned", "information", "details", "step", "steps", "first",
        "second", "third", "next", "finally", "simply", "easily", "able", "needed", "certain", "make", "sure",
        "however", "therefore", "because", "while", "without", "within", "both", "either", "neither", "every",
        "new", "own", "same", "few", "many", "well", "good", "best", "get", "got", "give", "take", "want",
    ])

    /// One sentence and how much of it is supported.
    public struct Sentence: Sendable, Hashable {
        public var text: String
        public var words: Int
        public var supported: Int
        /// Numbers the sources do not hold: an invented number fails a sentence of any length.
        public var inventedNumbers: Int

        public var support: Double { self.words == 0 ? 1 : Double(self.supported) / Double(self.words) }
        /// Whether it may be shown: no invented number, and enough support unless the sentence
        /// is too short to judge.
        public var passes: Bool {
            self.inventedNumbers == 0
                && (self.words < Grounding.checkedSentenceWords || self.support >= Grounding.sentenceFloor)
        }
    }

    /// The verdict on a whole answer.
    public struct Verdict: Sendable, Hashable {
        public var sentences: [Sentence]

        /// Supported content words over all content words; 1 for an answer with too few to judge
        /// ("Glad that worked!"), unless it invents a number.
        public var support: Double {
            let words = self.sentences.reduce(0) { $0 + $1.words }
            if words < Grounding.checkedSentenceWords {
                return self.sentences.allSatisfy { $0.inventedNumbers == 0 } ? 1 : 0
            }
            return Double(self.sentences.reduce(0) { $0 + $1.supported }) / Double(words)
        }

        /// Whether the answer may reach the visitor as AI prose at `threshold`: every sentence
        /// passes, and the whole is supported unless it carries too few words to judge ("Glad
        /// that worked!").
        public func passes(threshold: Double) -> Bool {
            self.sentences.allSatisfy(\.passes) && self.support >= threshold
        }
    }

    /// The vocabulary of the sources and the question, for checking sentences against.
    public struct Sources: Sendable {
        let words: Set<String>
        let stems: Set<String>

        public init(passages: [String], question: String) {
            var words = Set<String>()
            for text in passages + [question] { words.formUnion(Grounding.tokens(text)) }
            self.words = words
            self.stems = Set(words.compactMap(Grounding.stem))
        }

        func holds(_ word: String) -> Bool {
            if self.words.contains(word) { return true }
            if word.allSatisfy(\.isNumber) { return false }
            return Grounding.stem(word).map(self.stems.contains) ?? false
        }
    }

    /// Checks one sentence.
    public static func sentence(_ text: String, against sources: Sources) -> Sentence {
        let tokens = self.tokens(Self.withoutListMarker(Self.withoutCitations(text)))
        let words = tokens.filter { !self.noClaim.contains($0) && ($0.count > 1 || $0.allSatisfy(\.isNumber)) }
        let supported = words.filter(sources.holds)
        return Sentence(
            text: text, words: words.count, supported: supported.count,
            inventedNumbers: words.filter { $0.allSatisfy(\.isNumber) && !sources.holds($0) }.count)
    }

    /// Removes a list item's number or bullet (`1.`, `2)`, `-`, `*`).
    static func withoutListMarker(_ text: String) -> String {
        text.replacingOccurrences(of: #"^\s*(\d{1,2}[.)]|[-*•])(\s+|$)"#, with: "", options: .regularExpression)
    }

    /// Checks a whole answer, sentence by sentence.
    public static func check(_ answer: String, against sources: Sources) -> Verdict {
        Verdict(sentences: self.sentences(answer).map { self.sentence($0, against: sources) })
    }

    /// The sentences of a text: cut after `.`, `!`, `?` or `:` followed by a space, and at line breaks.
    public static func sentences(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var previous: Character = " "
        for character in text {
            if character == "\n" || (character.isWhitespace && ".!?:".contains(previous)) {
                let trimmed = current.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { result.append(trimmed) }
                current = ""
            } else {
                current.append(character)
            }
            previous = character
        }
        let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { result.append(trimmed) }
        return result
    }

    /// Lowercased words of letters and digits.
    static func tokens(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
    }

    /// The first five letters of a longer word: "passwords" and "password" share "passw".
    static func stem(_ word: String) -> String? {
        word.count >= 5 && !word.allSatisfy(\.isNumber) ? String(word.prefix(5)) : nil
    }

    /// Removes citation labels like `[A1]`.
    static func withoutCitations(_ text: String) -> String {
        text.replacingOccurrences(of: #"\[A\d+\]"#, with: " ", options: .regularExpression)
    }
}

/// Releases a streamed answer sentence by sentence, each once it is complete and supported. The
/// first sentence that fails closes the gate: nothing after it is shown, and the answer fails.
public struct SentenceGate: Sendable {
    let sources: Grounding.Sources
    private var pending = ""
    public private(set) var released = ""
    public private(set) var failed = false
    /// The sentence that closed the gate.
    public private(set) var rejected: String?

    public init(sources: Grounding.Sources) { self.sources = sources }

    /// Takes visible text as it streams; returns what may be shown now.
    public mutating func feed(_ text: String) -> String {
        guard !self.failed else { return "" }
        self.pending += text
        // Complete sentences end before the last break (a line break, or punctuation and a space).
        guard let cut = Self.lastBreak(in: self.pending) else { return "" }
        let complete = String(self.pending[..<cut])
        self.pending = String(self.pending[cut...])
        return self.release(complete)
    }

    /// The end of the stream: the rest is checked as the last sentence.
    public mutating func finish() -> String {
        guard !self.failed else { return "" }
        let rest = self.pending
        self.pending = ""
        return self.release(rest)
    }

    private mutating func release(_ text: String) -> String {
        for sentence in Grounding.sentences(text) where !Grounding.sentence(sentence, against: self.sources).passes {
            self.failed = true
            self.rejected = sentence
            return ""
        }
        self.released += text
        return text
    }

    static func lastBreak(in text: String) -> String.Index? {
        var index = text.endIndex
        while index > text.startIndex {
            let before = text.index(before: index)
            if text[before] == "\n" { return index }
            if text[before].isWhitespace, before > text.startIndex, ".!?:".contains(text[text.index(before: before)]) {
                return index
            }
            index = before
        }
        return nil
    }
}
