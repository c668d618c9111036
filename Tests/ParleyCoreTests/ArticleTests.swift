import Foundation
import ParleyCore
import Testing

@Suite struct ArticleTests {
    @Test func searchTermsAreWordsOnly() {
        #expect(SearchTerms.words("How do I RESET my password?") == ["how", "do", "reset", "my", "password"])
        #expect(SearchTerms.words(#"refund" OR title:* NEAR(a b) -x"#) == ["refund", "or", "title", "near"])
        #expect(SearchTerms.words("a ! ?").isEmpty)
        #expect(
            SearchTerms.words(String(repeating: "word ", count: 40) + (0..<40).map { "w\($0)" }.joined(separator: " "))
                .count == 16)
    }

    @Test func markdownFrontMatterHeadingOrFileNameGiveTheTitle() {
        let front = MarkdownArticle(
            fileName: "x.md",
            text:
                "---\ntitle: Shipping times\nurl: https://shop.example/shipping\ntags: orders, delivery\npublished: false\n---\nWe ship in 2 days."
        )
        #expect(front.title == "Shipping times")
        #expect(front.url == "https://shop.example/shipping")
        #expect(front.tags == ["orders", "delivery"])
        #expect(!front.published)
        #expect(front.body == "We ship in 2 days.")
        let heading = MarkdownArticle(fileName: "returns.md", text: "# Returns\n\nSend it back within 30 days.")
        #expect(heading.title == "Returns")
        #expect(heading.body == "Send it back within 30 days.")
        #expect(MarkdownArticle(fileName: "gift-cards.md", text: "No heading here.").title == "gift cards")
        // YAML's flow list, as the demo articles write it.
        let flow = MarkdownArticle(fileName: "x.md", text: "---\ntags: [billing, \"plans\"]\n---\nBody")
        #expect(flow.tags == ["billing", "plans"])
    }
}

@Suite struct KnowledgeMatchTests {
    @Test(arguments: [
        ("How do I reset my password?", "Resetting your password", "Press Reset password in Settings.", true),
        ("refunds", "Refund policy", "Refunds within 30 days.", true),
        ("Do you sell bicycles in Norway?", "Shipping times", "We ship bicycles in two days.", false),
        ("password", "Shipping times", "Never share your password.", false),  // not in the title
        ("hello", "Hello world", "hi", false),  // only a greeting
    ])
    func strongMatchesNeedMostKeywordsAndOneInTheTitle(question: String, title: String, body: String, strong: Bool) {
        #expect(KnowledgeMatch.isStrong(question: question, title: title, body: body) == strong)
    }

    @Test(arguments: [
        "I want to talk to a human", "Can I speak to someone?", "human", "AGENT", "real person please",
        "customer service",
    ])
    func askingForAPersonIsRecognised(text: String) {
        #expect(HandoffIntent.asksForHuman(text))
    }

    @Test(arguments: ["How do I reset my password?", "My agent code is 42", "humane treatment of returns"])
    func otherQuestionsAreNot(text: String) {
        #expect(!HandoffIntent.asksForHuman(text))
    }

    @Test func theAssistantNeverSpeaksOnceAPersonIsInCharge() {
        let now = Date()
        for status in [ChatStatus.agentActive, .escalated, .closed] {
            let session = ChatSession(
                id: .init(), organizationID: .init(), siteID: .init(), visitorID: .init(), status: status, lastSeq: 3,
                createdAt: now,
                updatedAt: now)
            #expect(throws: InvalidTransition.self) {
                try ChatLifecycle.apply(.aiMessage(body: "hi", replyTo: 3, metadata: [:]), to: session, now: now)
            }
        }
        let active = ChatSession(
            id: .init(), organizationID: .init(), siteID: .init(), visitorID: .init(), status: .aiActive, lastSeq: 3,
            createdAt: now,
            updatedAt: now)
        let reply = try? ChatLifecycle.apply(
            .aiMessage(body: "hi", replyTo: 3, metadata: ["kind": "article"]), to: active, now: now)
        #expect(reply?.messages.first?.clientID == "ai:3")
        #expect(reply?.messages.first?.metadata["kind"] == "article")
        let escalated = try? ChatLifecycle.apply(.escalate(.visitorAsked, visitorHasEmail: true), to: active, now: now)
        #expect(escalated?.session.status == .escalated)
    }
}
