import Foundation
import ParleyCore
import Testing

@Suite struct ValidationTests {
    @Test(arguments: [
        ("Ada@Example.com", "ada@example.com"),
        ("  bob@mail.example.org ", "bob@mail.example.org"),
    ])
    func emailsAreNormalised(input: String, expected: String) throws {
        #expect(try Validate.email(input) == expected)
    }

    @Test(arguments: [
        "", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "a b@example.com", "ada@.com",
        "<a>@x.com",
    ])
    func implausibleEmailsAreRefusedNamingTheField(input: String) {
        #expect(throws: ValidationError.self) { try Validate.email(input, field: "ownerEmail") }
        do {
            _ = try Validate.email(input, field: "ownerEmail")
        } catch {
            #expect(error.field == "ownerEmail")
        }
    }

    @Test func passwordsMustBeLongEnoughAndFitBcrypt() throws {
        #expect(throws: ValidationError.self) { try Validate.password("short") }
        #expect(throws: ValidationError.self) { try Validate.password(String(repeating: "é", count: 40)) }  // 80 bytes
        #expect(try Validate.password("correct horse battery") == "correct horse battery")
    }

    @Test(arguments: [
        ("https://Example.com", "https://example.com"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
    ])
    func originsAreNormalised(input: String, expected: String) throws {
        #expect(try Validate.origin(input, field: "o") == expected)
    }

    @Test(arguments: [
        "example.com", "ftp://example.com", "https://example.com/path", "https://", "https://a.com?x=1",
        "javascript:alert(1)",
    ])
    func nonOriginsAreRefused(input: String) {
        #expect(throws: ValidationError.self) { try Validate.origin(input, field: "o") }
    }

    @Test func originListsNameTheBadEntry() {
        do {
            _ = try Validate.origins(["https://a.com", "nope"])
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "allowedOrigins[1]")
        }
    }

    @Test func colorsAreHexTriplets() throws {
        #expect(try Validate.color("#AABBCC", field: "c") == "#aabbcc")
        #expect(throws: ValidationError.self) { try Validate.color("red", field: "c") }
        #expect(throws: ValidationError.self) { try Validate.color("#abcdeg", field: "c") }
    }

    @Test func textIsTrimmedAndBounded() throws {
        #expect(try Validate.text("  Hi ", field: "t", max: 5) == "Hi")
        #expect(throws: ValidationError.self) { try Validate.text("   ", field: "t", max: 5) }
        #expect(throws: ValidationError.self) { try Validate.text("toolong", field: "t", max: 5) }
        #expect(throws: ValidationError.self) { try Validate.text("a\u{0}b", field: "t", max: 5) }
    }

    @Test func widgetSettingsNameTheirField() {
        var settings = WidgetSettings.default
        settings.color = "blue"
        do {
            _ = try settings.validated()
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "widget.color")
        }
    }

    @Test func siteOriginCheckAllowsListedOriginsOnly() {
        let now = Date()
        var site = Site(
            id: .init(), organizationID: .init(), name: "s", publicKey: "k", identitySecret: "x", strictIdentity: false,
            allowedOrigins: [], widget: .default, isActive: true, createdAt: now, updatedAt: now)
        #expect(site.allows(origin: "https://anything.example"))
        site.allowedOrigins = ["https://shop.example"]
        #expect(site.allows(origin: "https://shop.example"))
        #expect(site.allows(origin: "https://SHOP.example/"))
        #expect(!site.allows(origin: "https://evil.example"))
        #expect(!site.allows(origin: nil))
    }
}
