public import Foundation

/// A piece of an article small enough to retrieve and to quote: a section, or a run of paragraphs
/// of about 120 to 250 words, carrying its article's title (and section heading) so it reads on its
/// own. Retrieval ranks passages; the prompt and the no-model answer quote them. Pure.
public struct Passage: Sendable, Hashable {
    /// Its place in the article, from 0.
    public var position: Int
    /// The article's title, then the section's heading when there is one ("Title — Section").
    public var heading: String
    /// The passage's text (Markdown, as in the article).
    public var text: String

    public init(position: Int, heading: String, text: String) {
        self.position = position
        self.heading = heading
        self.text = text
    }

    /// What is embedded and hashed: the heading, a blank line, the text.
    public var content: String { self.heading + "\n\n" + self.text }

    /// The fewest words a passage has unless the whole section is shorter.
    public static let minimumWords = 120
    /// The most words a passage has unless one paragraph is longer and has no sentence breaks.
    public static let maximumWords = 250

    /// Splits an article along its Markdown headings, then packs paragraphs (a fenced code block
    /// is one paragraph) into passages of 120 to 250 words; a longer paragraph is cut at sentence
    /// ends. A section too short to stand alone joins the next one under the same heading level.
    public static func split(title: String, body: String) -> [Passage] {
        var passages: [Passage] = []
        for section in self.sections(body) {
            let heading = section.heading.map { "\(title) — \($0)" } ?? title
            for text in self.pack(section.paragraphs) {
                passages.append(Passage(position: passages.count, heading: heading, text: text))
            }
        }
        if passages.isEmpty { passages = [Passage(position: 0, heading: title, text: "")] }
        return passages
    }

    struct Section {
        var heading: String?
        var paragraphs: [String]
    }

    /// The body's sections: text before the first heading, then one per heading; blank lines
    /// separate paragraphs except inside fenced code.
    static func sections(_ body: String) -> [Section] {
        var sections = [Section(heading: nil, paragraphs: [])]
        var paragraph: [String] = []
        var fenced = false
        func flush() {
            let text = paragraph.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { sections[sections.count - 1].paragraphs.append(text) }
            paragraph = []
        }
        for line in body.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                fenced.toggle()
                paragraph.append(String(line))
                if !fenced { flush() }
                continue
            }
            if fenced {
                paragraph.append(String(line))
                continue
            }
            if trimmed.hasPrefix("#"), let heading = Self.heading(trimmed) {
                flush()
                // A heading with nothing under it yet merges with the one before it.
                if sections[sections.count - 1].paragraphs.isEmpty, let previous = sections[sections.count - 1].heading
                {
                    sections[sections.count - 1].heading = previous + " — " + heading
                } else {
                    sections.append(Section(heading: heading, paragraphs: []))
                }
                continue
            }
            if trimmed.isEmpty { flush() } else { paragraph.append(String(line)) }
        }
        flush()
        // Sections too short to stand alone join the next.
        var merged: [Section] = []
        for section in sections where !section.paragraphs.isEmpty || section.heading != nil {
            if var last = merged.last, Self.words(last.paragraphs.joined(separator: " ")) < 40 {
                if section.heading != nil, last.paragraphs.isEmpty == false {
                    last.paragraphs.append(section.heading! + ":")
                }
                last.paragraphs += section.paragraphs
                if last.heading == nil { last.heading = section.heading }
                merged[merged.count - 1] = last
            } else {
                merged.append(section)
            }
        }
        return merged.filter { !$0.paragraphs.isEmpty }
    }

    /// `## Title` → `Title`; nil for `#hashtag` lines.
    static func heading(_ line: String) -> String? {
        let level = line.prefix { $0 == "#" }.count
        guard (1...6).contains(level), line.dropFirst(level).first == " " else { return nil }
        let text = line.dropFirst(level).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    /// Packs paragraphs into passages of at most `maximumWords`, none below `minimumWords` unless
    /// the section holds fewer.
    static func pack(_ paragraphs: [String]) -> [String] {
        let pieces = paragraphs.flatMap { paragraph -> [String] in
            Self.words(paragraph) > self.maximumWords && !paragraph.hasPrefix("```")
                ? Self.sentenceRuns(paragraph) : [paragraph]
        }
        var passages: [String] = []
        var current: [String] = []
        var count = 0
        for piece in pieces {
            let words = Self.words(piece)
            if count > 0, count + words > self.maximumWords, count >= self.minimumWords / 2 {
                passages.append(current.joined(separator: "\n\n"))
                current = []
                count = 0
            }
            current.append(piece)
            count += words
        }
        if !current.isEmpty {
            // A short tail joins the passage before it when both fit, or shares its words.
            if count < self.minimumWords / 2, let last = passages.last,
                Self.words(last) + count <= self.maximumWords + self.minimumWords / 2
            {
                passages[passages.count - 1] = last + "\n\n" + current.joined(separator: "\n\n")
            } else {
                passages.append(current.joined(separator: "\n\n"))
            }
        }
        return passages
    }

    /// A long paragraph cut at sentence ends into runs of at most `maximumWords` words.
    static func sentenceRuns(_ paragraph: String) -> [String] {
        var runs: [String] = []
        var current = ""
        var count = 0
        for sentence in Grounding.sentences(paragraph) {
            let words = Self.words(sentence)
            if count > 0, count + words > self.maximumWords {
                runs.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
                count = 0
            }
            current += (current.isEmpty ? "" : " ") + sentence
            count += words
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            runs.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return runs
    }

    static func words(_ text: String) -> Int {
        text.split(whereSeparator: { $0.isWhitespace }).count
    }
}

/// Reciprocal rank fusion: each list votes `1 / (k + rank)` for what it ranks; the sums decide.
/// Robust to lists whose scores are not comparable (BM25 and cosine similarity). Pure.
public enum RankFusion {
    /// The conventional constant: rank 1 of one list is worth 1/61.
    public static let k = 60.0

    /// Items of `lists` (each best first, each counting `weights[i]`, default 1) by their fused
    /// score, best first; ties keep the first list's order.
    public static func fuse<ID: Hashable>(_ lists: [[ID]], weights: [Double]? = nil, k: Double = Self.k)
        -> [(id: ID, score: Double)]
    {
        var scores: [ID: Double] = [:]
        var firstSeen: [ID: Int] = [:]
        var order = 0
        for (index, list) in lists.enumerated() {
            let weight = weights?[index] ?? 1
            for (rank, id) in list.enumerated() {
                scores[id, default: 0] += weight / (k + Double(rank + 1))
                if firstSeen[id] == nil {
                    firstSeen[id] = order
                    order += 1
                }
            }
        }
        return scores.map { (id: $0.key, score: $0.value) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : firstSeen[$0.id]! < firstSeen[$1.id]! }
    }
}
