import Foundation

/// A Markdown file as an article: optional front matter (`title`, `url`, `tags`, `published`)
/// between `---` lines, else the first `# ` heading is the title, else the file name. Pure.
public struct MarkdownArticle: Sendable, Equatable {
    public var title: String
    public var body: String
    public var url: String?
    public var tags: [String]
    public var published: Bool

    public init(fileName: String, text: String) {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        var meta: [String: String] = [:]
        if lines.first?.trimmingCharacters(in: .whitespaces) == "---",
            let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" })
        {
            for line in lines[1..<end] {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                meta[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            lines = Array(lines[(end + 1)...])
        }
        var title = meta["title"]
        if title == nil, let heading = lines.firstIndex(where: { $0.hasPrefix("# ") }) {
            title = String(lines[heading].dropFirst(2)).trimmingCharacters(in: .whitespaces)
            lines.remove(at: heading)
        }
        let stem = (fileName as NSString).deletingPathExtension.replacingOccurrences(of: "-", with: " ")
            .replacingOccurrences(of: "_", with: " ")
        self.title = (title?.isEmpty == false ? title! : stem)
        self.body = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        self.url = meta["url"].flatMap { $0.isEmpty ? nil : $0 }
        // `tags: a, b` or YAML's flow list `tags: [a, b]`, with or without quotes.
        self.tags =
            meta["tags"].map { value in
                var list = value.trimmingCharacters(in: .whitespaces)
                if list.hasPrefix("["), list.hasSuffix("]") { list = String(list.dropFirst().dropLast()) }
                return list.split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                }.filter { !$0.isEmpty }
            } ?? []
        self.published = meta["published"].map { $0.lowercased() != "false" } ?? true
    }
}
