import Foundation
import ParleyCore
import Testing

@Suite struct InboundEmailTests {
    @Test func aReplyKeepsOnlyItsNewText() {
        let body = """
            Thanks, that fixed it!

            On Mon, 23 Nov 2026 at 10:00, Acme <support@acme.test> wrote:
            > You can get a refund within 30 days.
            """
        #expect(InboundEmail.newText(of: body) == "Thanks, that fixed it!")
        #expect(InboundEmail.newText(of: "Hi\r\n> quoted\r\nmore") == "Hi")
        #expect(InboundEmail.newText(of: "Fine\n-----Original Message-----\nFrom: x") == "Fine")
        #expect(InboundEmail.newText(of: "> only quoted") == "")
    }

    @Test func theTicketReferenceIsFoundInASubject() {
        #expect(InboundEmail.ticketReference(in: "Re: Refund [#1a2b3c4d]") == "1a2b3c4d")
        #expect(InboundEmail.ticketReference(in: "Re: Refund [#1A2B3C4D]") == "1a2b3c4d")
        #expect(InboundEmail.ticketReference(in: "Re: Refund [#zz]") == nil)
        #expect(InboundEmail.ticketReference(in: "Refund") == nil)
        #expect(InboundEmail.reference(for: "1A2B3C4D-0000-0000-0000-000000000000") == "1a2b3c4d")
        #expect(InboundEmail.cleanSubject("Re: RE: Fwd: Refund [#1a2b3c4d]") == "Refund")
        #expect(InboundEmail.cleanSubject("  ") == "(no subject)")
        #expect(InboundEmail.cleanSubject("Line\r\nBcc: x@y.z") == "LineBcc: x@y.z")
    }
}
