import Foundation
import ParleyCore
import Testing

@Suite struct AssistantReplyTests {
    /// Feeds `pieces` and returns what the visitor saw, and the splitter.
    static func split(_ pieces: [String]) -> (shown: String, splitter: ReplySplitter) {
        var splitter = ReplySplitter()
        var shown = ""
        for piece in pieces { shown += splitter.feed(piece) }
        shown += splitter.finish()
        return (shown, splitter)
    }

    /// Splits `text` into pieces of `size` characters.
    static func pieces(_ text: String, size: Int) -> [String] {
        stride(from: 0, to: text.count, by: size).map {
            let start = text.index(text.startIndex, offsetBy: $0)
            return String(text[start..<text.index(start, offsetBy: min(size, text.count - $0))])
        }
    }

    static let reply =
        "You can ask for a refund within 30 days [A1].\n<decision>{\"decision\":\"answer\",\"citations\":[\"A1\"],\"confidence\":0.9,\"quickReplies\":[\"Thanks\"]}</decision>"

    @Test(arguments: [1, 2, 3, 5, 7, 1000])
    func theTrailerNeverReachesTheVisitorHoweverTheStreamIsCut(size: Int) {
        let (shown, splitter) = Self.split(Self.pieces(Self.reply, size: size))
        #expect(shown == "You can ask for a refund within 30 days [A1].\n")
        #expect(!splitter.escalated)
        let decision = try! #require(AssistantDecision.parse(trailer: splitter.trailer ?? ""))
        #expect(decision.kind == .answer)
        #expect(decision.citations == ["A1"])
        #expect(decision.confidence == 0.9)
        #expect(decision.quickReplies == ["Thanks"])
    }

    @Test(arguments: [1, 3, 1000])
    func anEscalatePrefixIsHeldBackAndHandsOver(size: Int) {
        let (shown, splitter) = Self.split(Self.pieces("  [ESCALATE] billing dispute, needs a person", size: size))
        #expect(shown.isEmpty)
        #expect(splitter.escalated)
        #expect(splitter.escalationReason == "billing dispute, needs a person")
    }

    @Test func textThatOnlyLooksLikeTheMarkersIsShown() {
        let (shown, splitter) = Self.split(["[ES", "T] is a key. Use <b> or <dec", "imal> values."])
        #expect(shown == "[EST] is a key. Use <b> or <decimal> values.")
        #expect(!splitter.escalated)
        #expect(splitter.trailer == nil)
        #expect(Self.split(["[", "E"]).shown == "[E")  // a short reply is released at the end
    }

    @Test func decisionsAreReadLeniently() {
        #expect(
            AssistantDecision.parse(trailer: "<decision>{\"decision\":\"HANDOFF\",\"reason\":\"angry\"}")?.kind
                == .handoff)
        #expect(AssistantDecision.parse(trailer: "<decision>{\"decision\":\"resolve\"}</decision>")?.kind == .resolve)
        #expect(AssistantDecision.parse(trailer: "<decision>{\"confidence\":7}</decision>")?.confidence == 1)
        #expect(AssistantDecision.parse(trailer: "<decision>not json</decision>") == nil)
        #expect(AssistantDecision.parse(trailer: "<decision>{\"decision\":\"answ") == nil)
        #expect(
            AssistantDecision.inlineCitations("See [A2] and [a1, A2] but not [B1] or [A] or [link]") == ["A2", "A1"])
    }

    static let settings = AssistantSettings(maxMessagesBeforeEscalation: 3, confidenceThreshold: 0.5)

    @Test func codeDecidesTheHandoffRules() {
        // Before answering: asking for a person, and the reply budget.
        #expect(
            EscalationPolicy.beforeAnswering("Can I talk to a human?", aiReplies: 0, settings: Self.settings)
                == .visitorAsked)
        #expect(
            EscalationPolicy.beforeAnswering("And the price?", aiReplies: 3, settings: Self.settings) == .limitReached)
        #expect(EscalationPolicy.beforeAnswering("And the price?", aiReplies: 2, settings: Self.settings) == nil)
        // After answering: the model's decision, [ESCALATE], emptiness, confidence.
        func after(_ text: String, escalated: Bool = false, _ decision: AssistantDecision?, _ confidence: Double)
            -> EscalationPolicy.Outcome
        {
            EscalationPolicy.afterAnswering(
                text: text, escalated: escalated, decision: decision, confidence: confidence, settings: Self.settings)
        }
        #expect(after("Sure.", nil, 0.9) == .answer)
        #expect(after("Sure.", escalated: true, nil, 0.9) == .handoff(.assistantHandoff))
        #expect(after("Sure.", .init(kind: .handoff), 0.9) == .handoff(.assistantHandoff))
        #expect(after("Glad it works.", .init(kind: .resolve), 0.9) == .resolve)
        #expect(after("   ", nil, 0.9) == .handoff(.noAnswer))
        #expect(after("Maybe?", nil, 0.49) == .handoff(.lowConfidence))
    }

    @Test func autoReplyRulesMatchWordsNotCharacters() {
        let exact = AutoReplyRule(match: .exact, pattern: "Opening hours?", reply: "9 to 5")
        #expect(exact.matches("opening hours"))
        #expect(!exact.matches("what are your opening hours"))
        let contains = AutoReplyRule(match: .contains, pattern: "opening hours", reply: "9 to 5")
        #expect(contains.matches("What are your OPENING hours, please?"))
        #expect(!contains.matches("hours of opening"))
        let keyword = AutoReplyRule(match: .keyword, pattern: "price plus", reply: "4 dollars")
        #expect(keyword.matches("What's the Plus price?"))
        #expect(!keyword.matches("priceless plus"))
        #expect(AutoReplyRule.firstMatch([exact, contains], for: "opening hours")?.match == .exact)
    }

    @Test func settingsAreValidatedNamingTheField() {
        func field(_ change: (inout AssistantSettings) -> Void) -> String? {
            var settings = AssistantSettings()
            change(&settings)
            do {
                _ = try settings.validated()
                return nil
            } catch { return error.field }
        }
        #expect(field { _ in } == nil)
        #expect(field { $0.confidenceThreshold = 1.5 } == "confidenceThreshold")
        #expect(field { $0.maxMessagesBeforeEscalation = 0 } == "maxMessagesBeforeEscalation")
        #expect(field { $0.contextMessages = 500 } == "contextMessages")
        #expect(field { $0.systemPrompt = "" } == "systemPrompt")
        #expect(
            field { $0.autoReplyRules = [.init(match: .exact, pattern: "?!", reply: "x")] }
                == "autoReplyRules[0].pattern")
    }

    @Test func aHandedOverConversationMakesATicketSubject() {
        #expect(Ticket.subject(from: "My invoice is wrong\nIt says 40 dollars") == "My invoice is wrong")
        #expect(Ticket.subject(from: nil) == "Conversation with the assistant")
        #expect(Ticket.subject(from: String(repeating: "a", count: 200)).count == 80)
    }
}
