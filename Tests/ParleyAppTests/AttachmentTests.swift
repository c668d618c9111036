import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyStore
import ParleyTesting
import Testing

@Suite struct AttachmentTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 64)
    static let pdf: [UInt8] = Array("%PDF-1.7\n%âãÏÓ\n1 0 obj <<>> endobj\n".utf8)

    static func typed(_ headers: HTTPFields, _ type: String) -> HTTPFields {
        var headers = headers
        headers[.contentType] = type
        return headers
    }

    @Test func filesAreJudgedByTheirFirstBytes() throws {
        #expect(AttachmentPolicy.sniff(Self.png) == "image/png")
        #expect(AttachmentPolicy.sniff(Self.pdf) == "application/pdf")
        #expect(AttachmentPolicy.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == "image/jpeg")
        #expect(AttachmentPolicy.sniff(Array("GIF89a....".utf8)) == "image/gif")
        #expect(AttachmentPolicy.sniff(Array("RIFF\0\0\0\0WEBPVP8 ".utf8)) == "image/webp")
        #expect(AttachmentPolicy.sniff(Array("<svg onload=alert(1)>".utf8)) == nil)
        #expect(AttachmentPolicy.sniff(Array("<html><script>".utf8)) == nil)
        #expect(throws: AttachmentError.unsupportedType) { try AttachmentPolicy.standard.check(Array("MZ\u{90}".utf8)) }
        #expect(throws: AttachmentError.empty) { try AttachmentPolicy.standard.check([UInt8]()) }
        let small = AttachmentPolicy(maxBytes: 10, allowedTypes: AttachmentPolicy.imageTypes)
        #expect(throws: AttachmentError.tooLarge(maxBytes: 10)) { try small.check(Self.png) }
        #expect(throws: AttachmentError.unsupportedType) { try small.check(Array(Self.pdf.prefix(10))) }
        #expect(AttachmentPolicy.cleanName("../../etc/passwd", type: "image/png") == "passwd")
        #expect(AttachmentPolicy.cleanName("a\"b;\r\nc.png", type: "image/png") == "abc.png")
        #expect(AttachmentPolicy.cleanName(nil, type: "application/pdf") == "file.pdf")
    }

    @Test(arguments: TestDatabase.all)
    func aVisitorsImageReachesBothSidesAndOnlyThem(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let upload = try await client.execute(
                uri: "/api/v1/chat/sessions/\(visitor.sessionID)/attachments?name=../screen%20shot.png&clientId=u-1",
                method: .post, headers: Self.typed(visitor.headers, "image/jpeg"),
                body: ByteBuffer(bytes: Self.png))
            #expect(upload.status == .created, "\(upload.text)")
            let message = try #require(try upload.json()["message"] as? [String: Any])
            #expect(message["role"] as? String == "user")
            #expect(message["body"] as? String == "screen shot.png")
            let attachments = try #require(message["attachments"] as? [[String: Any]])
            #expect(attachments.count == 1)
            // The type is the one the bytes show, not the one claimed.
            #expect(attachments[0]["contentType"] as? String == "image/png")
            #expect(attachments[0]["size"] as? Int == Self.png.count)
            let url = try #require(attachments[0]["url"] as? String)
            let id = try #require(attachments[0]["id"] as? String)
            #expect((message["metadata"] as? [String: Any])?["attachments"] == nil)

            let mine = try await client.send(.get, url, headers: visitor.headers)
            #expect(mine.status == .ok)
            #expect(Array(mine.body.readableBytesView) == Self.png)
            #expect(mine.headers[.contentType] == "image/png")
            #expect(mine.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(mine.headers[.contentDisposition]?.hasPrefix("inline") == true)

            // The message history carries it too, and an agent sees it in the conversation.
            let history = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=0", headers: visitor.headers
            ).json()
            let stored = try #require((history["data"] as? [[String: Any]])?.last)
            #expect((stored["attachments"] as? [[String: Any]])?.first?["id"] as? String == id)
            let agent = try await client.signIn(org.owner.email)
            let seen = try await client.send(.get, "/api/v1/admin/attachments/\(id)", headers: agent.headers)
            #expect(seen.status == .ok)
            #expect(Array(seen.body.readableBytesView) == Self.png)

            // Another visitor, another organization's agent, and nobody at all: not found / 401.
            let stranger = try await client.startConversation(siteKey: org.site.publicKey)
            #expect(try await client.send(.get, url, headers: stranger.headers).status == .notFound)
            let elsewhere = try await stores.makeOrganization("Elsewhere")
            let outsider = try await client.signIn(elsewhere.owner.email)
            #expect(
                try await client.send(.get, "/api/v1/admin/attachments/\(id)", headers: outsider.headers).status
                    == .notFound)
            #expect(try await client.send(.get, url).status == .unauthorized)

            // The same clientId again is the same message.
            let again = try await client.execute(
                uri: "/api/v1/chat/sessions/\(visitor.sessionID)/attachments?name=x.png&clientId=u-1",
                method: .post, headers: visitor.headers, body: ByteBuffer(bytes: Self.png))
            #expect(again.status == .ok)
            #expect((try again.json()["message"] as? [String: Any])?["id"] as? String == message["id"] as? String)
        }
    }

    @Test(arguments: TestDatabase.all)
    func anAgentsPDFIsADownloadInTheConversation(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let agent = try await client.signIn(org.owner.email)
            let upload = try await client.execute(
                uri:
                    "/api/v1/admin/chats/\(visitor.sessionID)/attachments?name=f%C3%A4ktura.pdf&caption=Your%20invoice",
                method: .post, headers: agent.headers, body: ByteBuffer(bytes: Self.pdf))
            #expect(upload.status == .created, "\(upload.text)")
            let message = try #require(try upload.json()["message"] as? [String: Any])
            #expect(message["role"] as? String == "agent")
            #expect(message["body"] as? String == "Your invoice")
            let url = try #require((message["attachments"] as? [[String: Any]])?.first?["url"] as? String)
            let file = try await client.send(.get, url, headers: visitor.headers)
            #expect(file.status == .ok)
            #expect(file.headers[.contentType] == "application/pdf")
            #expect(file.headers[.contentDisposition] == "attachment; filename*=UTF-8''f%C3%A4ktura%2Epdf")
            #expect(file.headers[HTTPField.Name("Content-Security-Policy")!] == "default-src 'none'; sandbox")
        }
    }

    @Test(arguments: TestDatabase.all)
    func whatIsRefusedIsRefusedBeforeItIsStored(database: TestDatabase) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parley-att-\(UUID().uuidString)")
        try await withTestApp(
            database,
            configure: {
                $0.attachmentMaxBytes = 1024
                $0.dataDirectory = folder.path
            }
        ) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let uri = "/api/v1/chat/sessions/\(visitor.sessionID)/attachments?name=a.png"
            let html = try await client.execute(
                uri: uri, method: .post, headers: Self.typed(visitor.headers, "image/png"),
                body: ByteBuffer(string: "<html><script>alert(1)</script></html>"))
            #expect(html.status == .unsupportedMediaType)
            #expect(try html.errorCode() == "unsupported_media_type")
            let big = try await client.execute(
                uri: uri, method: .post, headers: visitor.headers,
                body: ByteBuffer(bytes: Self.png + Array(repeating: 0, count: 2000)))
            #expect(big.status == .contentTooLarge)
            #expect(try big.errorField() == "file")
            let empty = try await client.execute(uri: uri, method: .post, headers: visitor.headers, body: ByteBuffer())
            #expect(empty.status == .unprocessableContent)
            // Nothing refused was kept, and nothing was said in the conversation.
            let files = try FileManager.default.contentsOfDirectory(
                atPath: folder.appendingPathComponent("attachments").path)
            #expect(files.isEmpty)
            let history = try await client.send(
                .get, "/api/v1/chat/sessions/\(visitor.sessionID)/messages?after=0", headers: visitor.headers
            ).json()
            #expect((history["data"] as? [[String: Any]])?.isEmpty == true)
            // What is stored is under a server-made name.
            let ok = try await client.execute(
                uri: uri, method: .post, headers: visitor.headers, body: ByteBuffer(bytes: Self.png))
            #expect(ok.status == .created)
            let stored = try FileManager.default.contentsOfDirectory(
                atPath: folder.appendingPathComponent("attachments").path)
            #expect(stored.count == 1)
            #expect(stored.first?.hasSuffix(".png") == true && stored.first?.hasPrefix("a.") == false)
        }
        try? FileManager.default.removeItem(at: folder)
    }

    @Test(arguments: TestDatabase.all)
    func aTicketsFilesFollowItsMessagesAndANotesFilesStayInternal(database: TestDatabase) async throws {
        try await withTestApp(database) { client, stores in
            let org = try await stores.makeOrganization()
            let agent = try await client.signIn(org.owner.email)
            let customer = try await TicketControllerTests.customer(client, org)
            let created = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "Screenshot", "body": "See the error."],
                headers: customer.headers)
            let id = try #require(try created.json()["id"] as? String)
            func upload(_ uri: String, _ bytes: [UInt8], _ headers: HTTPFields) async throws -> String {
                let response = try await client.execute(
                    uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
                #expect(response.status == .created, "\(response.text)")
                return try #require((try response.json()["attachment"] as? [String: Any])?["id"] as? String)
            }
            // The customer's screenshot, with their reply.
            let shot = try await upload("/api/v1/tickets/\(id)/attachments?name=error.png", Self.png, customer.headers)
            let replied = try await client.send(
                .post, "/api/v1/tickets/\(id)/reply", json: ["body": "Here it is", "attachments": [shot]],
                headers: customer.headers)
            #expect(replied.status == .created)
            // A note with a file, and a public reply with another.
            let secret = try await upload(
                "/api/v1/admin/tickets/\(id)/attachments?name=logs.pdf", Self.pdf, agent.headers)
            let guide = try await upload(
                "/api/v1/admin/tickets/\(id)/attachments?name=guide.pdf", Self.pdf, agent.headers)
            _ = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/reply",
                json: ["body": "Internal logs", "internal": true, "attachments": [secret]], headers: agent.headers)
            let answer = try await client.send(
                .post, "/api/v1/admin/tickets/\(id)/reply",
                json: ["body": "Follow this guide", "attachments": [guide]],
                headers: agent.headers)
            #expect(answer.status == .created)

            let seen = try await client.send(.get, "/api/v1/tickets/\(id)", headers: customer.headers).json()
            let files = (seen["messages"] as? [[String: Any]])?.flatMap {
                ($0["attachments"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            }
            #expect(files == [shot, guide])
            #expect(
                try await client.send(.get, "/api/v1/chat/attachments/\(guide)", headers: customer.headers).status
                    == .ok)
            #expect(
                try await client.send(.get, "/api/v1/chat/attachments/\(shot)", headers: customer.headers).status == .ok
            )
            #expect(
                try await client.send(.get, "/api/v1/chat/attachments/\(secret)", headers: customer.headers).status
                    == .notFound)
            let stranger = try await TicketControllerTests.customer(client, org, id: "user-2")
            #expect(
                try await client.send(.get, "/api/v1/chat/attachments/\(guide)", headers: stranger.headers).status
                    == .notFound)
            #expect(
                try await client.send(.get, "/api/v1/admin/attachments/\(secret)", headers: agent.headers).status == .ok
            )
            // The agent's unsent file cannot be sent by the customer, even knowing its id.
            let unsent = try await upload(
                "/api/v1/admin/tickets/\(id)/attachments?name=draft.pdf", Self.pdf, agent.headers)
            let borrowed = try await client.send(
                .post, "/api/v1/tickets/\(id)/reply", json: ["body": "x", "attachments": [unsent]],
                headers: customer.headers)
            #expect(try borrowed.errorField() == "attachments")
            // Another ticket's file, or no file at all, cannot be sent.
            let bad = try await client.send(
                .post, "/api/v1/tickets/\(id)/reply", json: ["body": "x", "attachments": ["nope"]],
                headers: customer.headers)
            #expect(try bad.errorField() == "attachments")
            let other = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "Other", "body": "Another one."], headers: customer.headers)
            let otherID = try #require(try other.json()["id"] as? String)
            let foreign = try await client.send(
                .post, "/api/v1/tickets/\(otherID)/reply", json: ["body": "x", "attachments": [shot]],
                headers: customer.headers)
            #expect(foreign.status == .unprocessableContent)
        }
    }

    @Test(arguments: TestDatabase.all)
    func filesNoMessageCarriesAreRemovedAndTheOthersKept(database: TestDatabase) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parley-att-\(UUID().uuidString)")
        try await withTestApp(database, configure: { $0.dataDirectory = folder.path }) { client, stores in
            let org = try await stores.makeOrganization()
            let visitor = try await client.startConversation(siteKey: org.site.publicKey)
            let uri = "/api/v1/chat/sessions/\(visitor.sessionID)/attachments?name=a.png&clientId=same"
            let sent = try await client.execute(
                uri: uri, method: .post, headers: visitor.headers, body: ByteBuffer(bytes: Self.png))
            let url = try #require(
                ((try sent.json()["message"] as? [String: Any])?["attachments"] as? [[String: Any]])?.first?["url"]
                    as? String)
            // A resend stores a second copy that no message carries; so does a ticket file never sent.
            _ = try await client.execute(
                uri: uri, method: .post, headers: visitor.headers, body: ByteBuffer(bytes: Self.png))
            let agent = try await client.signIn(org.owner.email)
            let customer = try await TicketControllerTests.customer(client, org)
            let ticket = try await client.send(
                .post, "/api/v1/tickets", json: ["subject": "S", "body": "B"], headers: customer.headers)
            let ticketID = try #require(try ticket.json()["id"] as? String)
            _ = try await client.execute(
                uri: "/api/v1/admin/tickets/\(ticketID)/attachments?name=never.pdf", method: .post,
                headers: agent.headers, body: ByteBuffer(bytes: Self.pdf))
            let files = folder.appendingPathComponent("attachments")
            #expect(try FileManager.default.contentsOfDirectory(atPath: files.path).count == 3)
            let storage = try DiskAttachmentStorage(folder: files)
            // Not yet a day old: kept.
            #expect(
                try await stores.attachments.deleteUnreferenced(
                    before: Date().addingTimeInterval(-86_400), storage: storage) == 0)
            #expect(
                try await stores.attachments.deleteUnreferenced(before: Date().addingTimeInterval(60), storage: storage)
                    == 2)
            #expect(try FileManager.default.contentsOfDirectory(atPath: files.path).count == 1)
            #expect(try await client.send(.get, url, headers: visitor.headers).status == .ok)
        }
        try? FileManager.default.removeItem(at: folder)
    }
}
