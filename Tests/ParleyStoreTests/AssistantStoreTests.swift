import Foundation
import ParleyCore
import ParleyStore
import ParleyTesting
import SQLKit
import Testing

@Suite struct AssistantStoreTests {
    @Test(arguments: TestDatabase.all)
    func providerKeysAreSealedAtRestAndOpenOnlyWithTheirKey(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let box = SecretBox.ephemeral()
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4), secrets: box)
            let org = try await stores.makeOrganization()
            let provider = try await stores.assistant.addProvider(
                .init(kind: .openai, name: "openai", model: "gpt-4o-mini", apiKey: "sk-live-very-secret"),
                in: org.organization.id)
            #expect(provider.baseURL == "https://api.openai.com/v1")
            let raw = try await engine.read { db in
                try await db.raw("SELECT api_key_sealed FROM ai_providers").first()?.decode(
                    column: "api_key_sealed", as: String.self)
            }
            #expect(raw?.hasPrefix("v1:") == true)
            #expect(raw?.contains("sk-live") == false)
            #expect(
                try await stores.assistant.providers(in: org.organization.id).first?.apiKey == "sk-live-very-secret")
            // Another master key cannot read it, and says so.
            let stranger = Stores(engine: engine, hasher: PasswordHasher(cost: 4), secrets: .ephemeral())
            await #expect(throws: SecretBox.KeyError.self) {
                try await stranger.assistant.providers(in: org.organization.id)
            }
            // Updating without a key keeps it; an empty key removes it.
            var draft = AssistantStore.ProviderDraft(kind: .openai, name: "renamed", model: "gpt-4o")
            _ = try await stores.assistant.updateProvider(provider.id, draft, in: org.organization.id)
            #expect(
                try await stores.assistant.provider(provider.id, in: org.organization.id).apiKey
                    == "sk-live-very-secret")
            draft.apiKey = ""
            _ = try await stores.assistant.updateProvider(provider.id, draft, in: org.organization.id)
            #expect(try await stores.assistant.provider(provider.id, in: org.organization.id).apiKey == nil)
            // Providers belong to their organization.
            let other = try await stores.makeOrganization("Other")
            #expect(try await stores.assistant.providers(in: other.organization.id).isEmpty)
            await #expect(throws: DomainError.self) {
                try await stores.assistant.deleteProvider(provider.id, in: other.organization.id)
            }
            // The environment's provider is stored for organizations without one, once.
            #expect(
                try await stores.assistant.seedDefaultProvider(.init(kind: .openai, name: "default", model: "m")) == 1)
            #expect(
                try await stores.assistant.seedDefaultProvider(.init(kind: .openai, name: "default", model: "m")) == 0)
        }
    }

    @Test func theMasterKeyFileIsCreatedPrivateAndReused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-key-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try SecretBox.load(masterKey: nil, directory: directory)
        let path = directory + "/master.key"
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let second = try SecretBox.load(masterKey: nil, directory: directory)
        #expect(try second.open(try first.seal("hello")) == "hello")
        #expect(first.fingerprint == second.fingerprint)
        // A key file others can read is refused rather than used.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: SecretBox.KeyError.self) { try SecretBox.load(masterKey: nil, directory: directory) }
        // PARLEY_MASTER_KEY: 64 hex digits or base64 of 32 bytes.
        let hex = String(repeating: "0f", count: 32)
        let fromHex = try SecretBox.load(masterKey: hex, directory: directory)
        let fromBase64 = try SecretBox.load(
            masterKey: Data(repeating: 0x0f, count: 32).base64EncodedString(), directory: directory)
        #expect(try fromBase64.open(try fromHex.seal("same key")) == "same key")
        #expect(throws: SecretBox.KeyError.self) { try SecretBox.parse("too short") }
        // A tampered secret does not open.
        var sealed = Array(try fromHex.seal("x").utf8)
        sealed[sealed.count - 3] = sealed[sealed.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SecretBox.KeyError.self) { try fromHex.open(String(decoding: sealed, as: UTF8.self)) }
    }

    @Test(arguments: TestDatabase.all)
    func interactionsKeepFeedbackPerOrganization(database: TestDatabase) async throws {
        try await database.withEngine { engine in
            let stores = Stores(engine: engine, hasher: PasswordHasher(cost: 4))
            let org = try await stores.makeOrganization()
            let message = ChatMessage.ID()
            try await stores.assistant.log(
                .init(
                    organizationID: org.organization.id, sessionID: .init(), replyTo: 1, question: "Refund?",
                    outcome: "answer", messageID: message, provider: "p", model: "m", latencyMillis: 120,
                    confidence: 0.8, citations: ["a"], createdAt: Date()))
            try await stores.recordFeedback(on: message, helpful: true, comment: nil, in: org.organization.id)
            #expect(try await stores.assistant.interactions(in: org.organization.id).first?.feedback == "up")
            let other = try await stores.makeOrganization("Other")
            await #expect(throws: DomainError.self) {
                try await stores.recordFeedback(
                    on: message, helpful: false, comment: nil, in: other.organization.id)
            }
        }
    }
}
