public import Foundation
import ParleyCore
import ParleyStore

/// The demo knowledge base (a fictional notes app's help centre) and its eval set, shipped in
/// the binary: `parley serve --demo` loads the articles, `parley eval --demo` runs the set.
public enum Demo {
    /// The demo articles as Markdown files.
    public static func articles() throws -> [(name: String, text: String)] {
        guard let folder = Bundle.module.url(forResource: "Demo/articles", withExtension: nil) else {
            throw DemoError(description: "the demo articles are missing from this build")
        }
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map { ($0.lastPathComponent, try String(contentsOf: $0, encoding: .utf8)) }
    }

    /// The demo eval set (JSON, the format `parley eval FILE` reads).
    public static func evalSet() throws -> Data {
        guard let file = Bundle.module.url(forResource: "Demo/eval", withExtension: "json") else {
            throw DemoError(description: "the demo eval set is missing from this build")
        }
        return try Data(contentsOf: file)
    }

    struct DemoError: Error, CustomStringConvertible { var description: String }

    /// Imports the demo articles into the first organization when its knowledge base is empty.
    static func load(stores: Stores, output: @Sendable (String) -> Void) async throws {
        guard let organization = try await stores.organizations.all().first else { return }
        let existing = try await stores.articles.list(in: organization.id, page: PageRequest(limit: 1))
        guard existing.items.isEmpty else {
            output("Demo: the knowledge base already has articles; left as it is.")
            return
        }
        let result = try await stores.articles.importMarkdown(try Self.articles(), in: organization.id)
        output("Demo: loaded \(result.created) help articles of a fictional notes app into \(organization.name).")
    }
}
