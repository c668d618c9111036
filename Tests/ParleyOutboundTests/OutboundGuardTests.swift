import AsyncHTTPClient
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyCore
import ParleyOutbound
import Synchronization
import Testing

/// The guard at save time (validate) and at send time (post), against a real server on
/// 127.0.0.1 that the tests opt in to through the allow list.
@Suite struct OutboundGuardTests {
    /// A resolver that fails the test if asked: literal addresses must never be looked up.
    static let noLookups = OutboundResolver { host, _ in
        Issue.record("unexpected lookup of \(host)")
        return []
    }

    /// A harmless-looking name that resolves to loopback.
    static let sneaky = OutboundResolver { host, _ in
        host == "hooks.example.com" ? [IPAddress("93.184.215.14")!, IPAddress("127.0.0.1")!] : []
    }

    @Test(arguments: [
        "http://127.0.0.1/", "http://127.0.0.1:1/v1", "http://2130706433/", "http://0x7f000001/", "http://0x7f.0.0.1/",
        "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/", "http://127.0.1/", "http://[::1]/",
        "http://[0:0:0:0:0:0:0:1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::127.0.0.1]/",
        "http://0.0.0.0/", "http://0/", "http://[::]/", "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/", "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::]/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.0.1/",
        "http://100.64.0.1/", "http://[fe80::1]/", "http://[fd00::1]/", "http://224.0.0.1/", "http://255.255.255.255/",
        "http://240.0.0.1/", "http://198.18.0.1/", "http://localhost:8080/", "http://api.localhost/",
        "http://metadata.google.internal/computeMetadata/v1/", "ftp://example.com/", "file:///etc/passwd",
        "http://user:pass@example.com/", "http://[fe80::1%25eth0]/", "https://127.0.0.1./",
    ])
    func everySpellingOfAnInternalDestinationIsRefusedNamingTheField(url: String) async {
        let guard_ = OutboundGuard(policy: .strict, resolver: Self.noLookups)
        await #expect {
            try await guard_.validate(url, field: "baseUrl")
        } throws: { error in
            (error as? ValidationError)?.field == "baseUrl"
        }
    }

    @Test func aNameThatResolvesToLoopbackIsRefusedUnlessAllowed() async throws {
        let strict = OutboundGuard(policy: .strict, resolver: Self.sneaky)
        await #expect {
            try await strict.validate("https://hooks.example.com/in", field: "url")
        } throws: { error in
            let error = error as? ValidationError
            return error?.field == "url" && error?.message.contains("127.0.0.1") == true
        }
        let allowed = OutboundGuard(policy: try OutboundPolicy(allowing: ["127.0.0.0/8"]), resolver: Self.sneaky)
        try await allowed.validate("https://hooks.example.com/in", field: "url")
        let byName = OutboundGuard(policy: try OutboundPolicy(allowing: ["hooks.example.com"]), resolver: Self.sneaky)
        try await byName.validate("https://hooks.example.com/in", field: "url")
    }

    @Test func aNameThatDoesNotResolveIsRefused() async {
        let guard_ = OutboundGuard(policy: .strict, resolver: OutboundResolver { _, _ in [] })
        await #expect {
            try await guard_.validate("https://nowhere.example/", field: "url")
        } throws: { error in
            (error as? ValidationError)?.field == "url"
        }
    }

    @Test func theSystemResolverReadsTheHostsFile() async throws {
        let addresses = try await OutboundResolver.system.addresses(of: "localhost", port: 80)
        #expect(addresses.contains(IPAddress("127.0.0.1")!) || addresses.contains(IPAddress("::1")!))
    }

    // MARK: - Sending

    /// Requests the server saw.
    final class Seen: Sendable {
        let count = Atomic(0)
    }

    static func withServer<T: Sendable>(
        _ seen: Seen = Seen(), _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let router = Router()
        router.post("ok") { request, _ -> String in
            seen.count.add(1, ordering: .relaxed)
            let text = String(buffer: try await request.body.collect(upTo: 1024))
            return "hello \(text)"
        }
        router.post("redirect") { _, _ -> Response in
            seen.count.add(1, ordering: .relaxed)
            return Response(status: .found, headers: [.location: "http://169.254.169.254/latest/meta-data/"])
        }
        router.post("big") { _, _ -> Response in
            seen.count.add(1, ordering: .relaxed)
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
            return Response(
                status: .ok,
                body: ResponseBody { writer in
                    for _ in 0..<160 { try await writer.write(chunk) }
                    try await writer.finish(nil)
                })
        }
        router.post("hang") { _, _ -> Response in
            seen.count.add(1, ordering: .relaxed)
            // Long past the client's limit (and short enough not to hold the server's shutdown up).
            try await Task.sleep(for: .seconds(4))
            return Response(status: .ok)
        }
        return try await Application(router: router).test(.live) { client in try await body(client.port!) }
    }

    static let loopback = OutboundGuard(policy: try! OutboundPolicy(allowing: ["127.0.0.1"]), resolver: noLookups)

    @Test func aSuccessfulAnswerIsRead() async throws {
        try await Self.withServer { port in
            let response = try await Self.loopback.post(
                "http://127.0.0.1:\(port)/ok", headers: [("Content-Type", "text/plain")], body: Array("ping".utf8))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "hello ping")
            #expect(!response.truncated)
            #expect(response.latency < .seconds(5))
        }
    }

    @Test func aRedirectIsReturnedNotFollowed() async throws {
        try await Self.withServer { port in
            let response = try await Self.loopback.post("http://127.0.0.1:\(port)/redirect", headers: [], body: [])
            #expect(response.status == 302)
            #expect(
                response.headers.first { $0.0.lowercased() == "location" }?.1
                    == "http://169.254.169.254/latest/meta-data/")
        }
    }

    @Test func onlyTheFirstBytesOfAHugeAnswerAreRead() async throws {
        try await Self.withServer { port in
            let response = try await Self.loopback.post("http://127.0.0.1:\(port)/big", headers: [], body: [])
            #expect(response.status == 200)
            #expect(response.body.count == 65_536)
            #expect(response.truncated)
            let small = try await Self.loopback.post(
                "http://127.0.0.1:\(port)/big", headers: [], body: [], maxResponseBytes: 1000)
            #expect(small.body.count == 1000 && small.truncated)
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        try await Self.withServer { port in
            let started = ContinuousClock.now
            await #expect(throws: OutboundError.timeout) {
                try await Self.loopback.post(
                    "http://127.0.0.1:\(port)/hang", headers: [], body: [], totalTimeout: .milliseconds(500))
            }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    @Test func anAddressThatChangedSinceValidationIsRefusedAtSendTime() async throws {
        let seen = Seen()
        try await Self.withServer(seen) { port in
            // DNS can change: public when the URL was saved, loopback when it is used.
            let answers = Mutex([IPAddress("93.184.215.14")!])
            let resolver = OutboundResolver { _, _ in answers.withLock { $0 } }
            let guard_ = OutboundGuard(policy: .strict, resolver: resolver)
            let url = "http://hooks.example.com:\(port)/ok"
            try await guard_.validate(url, field: "url")
            answers.withLock { $0 = [IPAddress("127.0.0.1")!] }
            await #expect {
                try await guard_.post(url, headers: [], body: [])
            } throws: { error in
                guard case .refused(let reason) = error as? OutboundError else { return false }
                return reason.contains("127.0.0.1")
            }
            // The same request with the allow list reaches the server: so nothing did before.
            let allowed = OutboundGuard(policy: try OutboundPolicy(allowing: ["127.0.0.1"]), resolver: resolver)
            #expect(try await allowed.post(url, headers: [], body: Array("x".utf8)).status == 200)
            #expect(seen.count.load(ordering: .relaxed) == 1)
        }
    }

    @Test func aRefusedConnectionIsAConnectionError() async throws {
        await #expect {
            try await Self.loopback.post("http://127.0.0.1:1/", headers: [], body: [], connectTimeout: .seconds(2))
        } throws: { error in
            guard case .connection = error as? OutboundError else { return false }
            return true
        }
    }

    @Test func theStreamingClientConnectsToTheCheckedAddressAndChecksEveryRequest() async throws {
        let seen = Seen()
        try await Self.withServer(seen) { port in
            let answers = Mutex([IPAddress("127.0.0.1")!])
            let resolver = OutboundResolver { _, _ in answers.withLock { $0 } }
            let client = OutboundClient(
                guard: OutboundGuard(policy: try OutboundPolicy(allowing: ["127.0.0.0/8"]), resolver: resolver),
                configuration: .init(timeout: .init(connect: .seconds(2))))
            var request = HTTPClientRequest(url: "http://llm.example.com:\(port)/ok")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: "x"))
            // The name is not in any DNS: reaching the server proves the connection was pinned.
            let response = try await client.execute(request, timeout: .seconds(5))
            #expect(response.status == .ok)
            #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "hello x")
            answers.withLock { $0 = [IPAddress("169.254.169.254")!] }
            await #expect(throws: OutboundError.self) { try await client.execute(request, timeout: .seconds(5)) }
            #expect(seen.count.load(ordering: .relaxed) == 1)
            try await client.shutdown()
        }
    }
}
