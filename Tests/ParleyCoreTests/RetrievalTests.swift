import Foundation
import ParleyCore
import Testing

/// Passages, rank fusion, the grounding check and the no-model offer: the pure parts of
/// retrieval and of the gate.
@Suite struct RetrievalTests {
    static func words(_ count: Int, _ word: String = "word") -> String {
        (0..<count).map { "\(word)\($0)" }.joined(separator: " ") + "."
    }

    @Test func passagesFollowHeadingsAndKeepWithinTheirSize() {
        let body = """
            Intro paragraph about the product with enough words to stand alone: \(Self.words(45, "intro"))

            ## Billing

            \(Self.words(140, "bill"))

            \(Self.words(140, "pay"))

            ## Code

            ```
            let a = 1

            let b = 2
            ```

            \(Self.words(60, "code"))

            ## Empty heading
            ### Nested under it

            \(Self.words(50, "nested"))
            """
        let passages = Passage.split(title: "Guide", body: body)
        // Every passage carries its article's title, and its section's heading when it has one.
        #expect(passages.allSatisfy { $0.heading.hasPrefix("Guide") })
        #expect(passages.first?.heading == "Guide")
        #expect(passages.map(\.position) == Array(0..<passages.count))
        // Two 140-word paragraphs do not fit in one 250-word passage: they split at the paragraph.
        let billing = passages.filter { $0.heading == "Guide — Billing" }
        #expect(billing.count == 2)
        #expect(billing.first?.text.contains("bill0") == true && billing.first?.text.contains("pay0") == false)
        // A fenced block is never cut at its blank line.
        let code = passages.first { $0.text.contains("let a = 1") }
        #expect(code?.text.contains("let b = 2") == true)
        #expect(code?.heading == "Guide — Code")
        // A heading with nothing under it joins the next.
        #expect(passages.contains { $0.heading == "Guide — Empty heading — Nested under it" })
        for passage in passages {
            #expect(passage.text.split(whereSeparator: \.isWhitespace).count <= Passage.maximumWords + 60)
        }
        // A paragraph longer than a passage is cut at sentence ends.
        let long = (0..<80).map { "Sentence number \($0) says one short thing." }.joined(separator: " ")
        let cut = Passage.split(title: "Long", body: long)
        #expect(cut.count >= 2)
        #expect(cut.allSatisfy { $0.text.hasSuffix(".") })
        #expect(cut.allSatisfy { $0.text.split(whereSeparator: \.isWhitespace).count <= Passage.maximumWords + 60 })
        // An empty article still has one passage: its title.
        #expect(Passage.split(title: "Only a title", body: "").map(\.heading) == ["Only a title"])
    }

    @Test func rankFusionRewardsAgreementAndWeighsLists() {
        let fused = RankFusion.fuse([["a", "b", "d"], ["c", "b", "e"]])
        // b is second in both lists: above a and c, each first in one list only.
        #expect(fused.first?.id == "b")
        #expect(Set(fused.map(\.id)) == ["a", "b", "c", "d", "e"])
        // Weighing the second list more puts its first above the agreement.
        let weighed = RankFusion.fuse([["a", "b"], ["c", "b"]], weights: [0.2, 1], k: 1)
        #expect(weighed.first?.id == "c")
        #expect(RankFusion.fuse([[String]]()).isEmpty)
    }

    static let sources = Grounding.Sources(
        passages: [
            "Reset your password\nOn the sign-in page press \"Forgot password?\" and enter your email address. We send a reset link that works for one hour."
        ],
        question: "How do I reset my password?")

    @Test func aSupportedAnswerPassesTheGate() {
        let verdict = Grounding.check(
            "To reset your password, press \"Forgot password?\" on the sign-in page and enter your email address [A1]. The reset link works for one hour.",
            against: Self.sources)
        #expect(verdict.support > 0.9)
        #expect(verdict.passes(threshold: AssistantSettings.defaultGroundingThreshold))
        // Small talk carries no claim.
        #expect(Grounding.check("Glad that worked! Anything else?", against: Self.sources).passes(threshold: 0.6))
    }

    @Test func anInventedAnswerFailsTheGate() {
        // The walkthrough's invented steps: a real model wrote these from the passage above.
        let invented = """
            To reset your password, you'll need to visit a website that allows you to create an account with a password reset link. This is usually found on the official website of a company like Google or Microsoft.

            1. Visit the website and enter your email address in the "Create a new account" field.
            2. Click on the "Reset your password" button, which will take you to a page that allows you to create an account.
            """
        let verdict = Grounding.check(invented, against: Self.sources)
        #expect(!verdict.passes(threshold: AssistantSettings.defaultGroundingThreshold))
        #expect(verdict.sentences.contains { !$0.passes })
        // A number the sources do not hold fails even a short sentence.
        let number = Grounding.check("The link works for 24 hours.", against: Self.sources)
        #expect(number.sentences.first?.inventedNumbers == 1)
        #expect(!number.passes(threshold: 0))
        // List markers are not numbers.
        #expect(Grounding.check("1. Press \"Forgot password?\"", against: Self.sources).passes(threshold: 0.6))
    }

    @Test func theGateShowsSupportedSentencesAndStopsAtTheFirstInvention() {
        var gate = SentenceGate(sources: Self.sources)
        let text =
            "Press \"Forgot password?\" on the sign-in page. We send a reset link. Then call our hotline at 555 0199 and ask for Kevin in accounting. The link works for one hour."
        var shown = ""
        // In small pieces, as a stream arrives.
        var rest = Substring(text)
        while !rest.isEmpty {
            shown += gate.feed(String(rest.prefix(3)))
            rest = rest.dropFirst(3)
        }
        shown += gate.finish()
        #expect(shown == "Press \"Forgot password?\" on the sign-in page. We send a reset link. ")
        #expect(gate.failed)
        #expect(gate.rejected?.contains("hotline") == true)
        // Nothing is released before a sentence is complete.
        var waiting = SentenceGate(sources: Self.sources)
        #expect(waiting.feed("Press \"Forgot") == "")
        #expect(waiting.feed(" password?\" now") == "")
        #expect(waiting.finish() == "Press \"Forgot password?\" now")
        #expect(!waiting.failed)
    }

    @Test func withoutAModelOnlyAConfidentMatchIsOffered() {
        // Close to the question and well ahead of the runner-up: offered.
        #expect(
            KnowledgeMatch.offerConfidence(strong: false, similarity: 0.93, runnerUp: 0.86, agreed: true)
                >= KnowledgeMatch.offerThreshold)
        // Close, but two articles are as close: not offered.
        #expect(
            KnowledgeMatch.offerConfidence(strong: true, similarity: 0.89, runnerUp: 0.888, agreed: false)
                < KnowledgeMatch.offerThreshold)
        // Far from everything: not offered.
        #expect(
            KnowledgeMatch.offerConfidence(strong: true, similarity: 0.80, runnerUp: 0.78, agreed: true)
                < KnowledgeMatch.offerThreshold)
        // Without vectors, the keyword check decides.
        #expect(
            KnowledgeMatch.offerConfidence(strong: true, similarity: nil, runnerUp: nil, agreed: false)
                >= KnowledgeMatch.offerThreshold)
        #expect(
            KnowledgeMatch.offerConfidence(strong: false, similarity: nil, runnerUp: nil, agreed: true)
                < KnowledgeMatch.offerThreshold)
    }

    @Test func settingsStoredBeforeTheGateReadWithItsDefaults() throws {
        let old =
            #"{"systemPrompt":"Be kind.","welcomeMessage":"Hi","contextMessages":12,"maxMessagesBeforeEscalation":8,"confidenceThreshold":0.45,"autoReplyRules":[]}"#
        let settings = try JSONDecoder().decode(AssistantSettings.self, from: Data(old.utf8))
        #expect(settings.groundingThreshold == AssistantSettings.defaultGroundingThreshold)
        #expect(settings.maxAnswerWords == 150)
        #expect(settings.imagePrompt == nil)
        #expect(throws: ValidationError.self) { try AssistantSettings(groundingThreshold: 1.5).validated() }
        #expect(throws: ValidationError.self) { try AssistantSettings(maxAnswerWords: 5).validated() }
        #expect(try AssistantSettings(imagePrompt: "   ").validated().imagePrompt == nil)
        // Every field survives storage.
        let full = AssistantSettings(groundingThreshold: 0.7, maxAnswerWords: 90, imagePrompt: "Read it.")
        #expect(try JSONDecoder().decode(AssistantSettings.self, from: JSONEncoder().encode(full)) == full)
    }

    @Test func anAgentHandsAConversationBackToTheAssistant() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func session(_ status: ChatStatus) -> ChatSession {
            ChatSession(
                id: .init(), organizationID: .init(), siteID: .init(), visitorID: .init(), status: status, lastSeq: 4,
                createdAt: now, updatedAt: now)
        }
        for status in [ChatStatus.escalated, .agentActive] {
            let outcome = try ChatLifecycle.apply(
                .returnToAssistant(agentName: "Ann"), to: session(status), now: now)
            #expect(outcome.session.status == .aiActive)
            #expect(outcome.messages.map(\.role) == [.system])
            #expect(outcome.messages.first?.metadata[ChatMessage.assistantReturnedKey] == "true")
            #expect(outcome.messages.first?.body == "Ann handed the conversation back to the assistant")
        }
        #expect(throws: InvalidTransition.self) {
            try ChatLifecycle.apply(.returnToAssistant(agentName: "Ann"), to: session(.aiActive), now: now)
        }
        #expect(throws: InvalidTransition.self) {
            try ChatLifecycle.apply(.returnToAssistant(agentName: "Ann"), to: session(.closed), now: now)
        }
    }
}
