import Foundation
import ParleyCore
import Testing

@Suite struct ArticleTests {
    @Test func searchTermsAreWordsOnly() {
        #expect(SearchTerms.words("How do I RESET my password?") == ["how", "do", "reset", "my", "password"])
        #expect(SearchTerms.words(#"refund" OR title:* NEAR(a b) -x"#) == ["refund", "or", "title", "near"])
        #expect(SearchTerms.words("a ! ?").isEmpty)
        #expect(SearchTerms.words(String(repeating: "word ", count: 40) + (0..<40).map { "w\($0)" }.joined(separator: " ")).count == 16)
    }

    @Test func markdownFrontMatterHeadingOrFileNameGiveTheTitle() {
        let front = MarkdownArticle(fileName: "x.md", text: "---\ntitle: Shipping times\nurl: https://shop.example/shipping\ntags: orders, delivery\npublished: false\n---\nWe ship in 2 days.")
        #expect(front.title == "Shipping times")
        #expect(front.url == "https://shop.example/shipping")
        #expect(front.tags == ["orders", "delivery"])
        #expect(!front.published)
        #expect(front.body == "We ship in 2 days.")
        let heading = MarkdownArticle(fileName: "returns.md", text: "# Returns\n\nSend it back within 30 days.")
        #expect(heading.title == "Returns")
        #expect(heading.body == "Send it back within 30 days.")
        #expect(MarkdownArticle(fileName: "gift-cards.md", text: "No heading here.").title == "gift cards")
    }
}
