import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The server under test, driven over its REST API to set a benchmark up.
struct BenchTarget: Sendable {
    let base: URL
    let host: String
    let port: Int
    /// Node peer mode: no REST API, any channel name goes.
    let peer: Bool
    var apiKey = ""
    var siteKey = ""
    /// The signed-in owner's cookie and CSRF token (replies are written by agents, not keys).
    var session: [String: String] = [:]

    init(url: String, peer: Bool) throws {
        guard let base = URL(string: url), let host = base.host, let port = base.port else {
            throw BenchError("--url must look like http://127.0.0.1:8080")
        }
        self.base = base
        self.host = host
        self.port = port
        self.peer = peer
    }

    /// Signs in, makes an admin API key for the agent sockets and finds a site key.
    mutating func prepare(email: String, password: String) async throws {
        guard !self.peer else { return }
        let login = try await self.request("POST", "/api/v1/auth/login", ["email": email, "password": password])
        guard let csrf = login.json["csrfToken"] as? String, let cookie = login.cookie else {
            throw BenchError("sign-in failed: \(login.text)")
        }
        let headers = ["Cookie": cookie, "X-CSRF-Token": csrf]
        self.session = headers
        let key = try await self.request(
            "POST", "/api/v1/admin/api-keys", ["name": "bench \(Date())", "role": "admin"], headers: headers)
        guard let secret = key.json["secret"] as? String else {
            throw BenchError("could not create an API key: \(key.text)")
        }
        self.apiKey = secret
        let sites = try await self.request("GET", "/api/v1/admin/sites", nil, headers: headers)
        guard let site = (sites.json["data"] as? [[String: Any]])?.first?["publicKey"] as? String else {
            throw BenchError("no site: \(sites.text)")
        }
        self.siteKey = site
    }

    struct Visitor: Sendable {
        var token: String
        var session: String
        var channel: String { "supportChat:\(self.session)" }
    }

    /// Starts `count` visitor conversations, `concurrency` at a time, printing progress.
    func visitors(_ count: Int, concurrency: Int = 16) async throws -> [Visitor] {
        if self.peer { return (0..<count).map { Visitor(token: "peer", session: "peer-\($0)") } }
        var result: [Visitor] = []
        result.reserveCapacity(count)
        var next = 0
        try await withThrowingTaskGroup(of: Visitor.self) { group in
            func add() {
                let index = next
                next += 1
                group.addTask {
                    let started = try await self.request(
                        "POST", "/api/v1/chat/sessions",
                        ["site": self.siteKey, "visitorId": "bench-\(UUID().uuidString)-\(index)"])
                    guard let token = started.json["token"] as? String,
                        let session = (started.json["session"] as? [String: Any])?["id"] as? String
                    else {
                        throw BenchError("could not start a conversation: \(started.text)")
                    }
                    return Visitor(token: token, session: session)
                }
            }
            for _ in 0..<min(concurrency, count) { add() }
            for try await visitor in group {
                result.append(visitor)
                if result.count % 2000 == 0 { print("  \(result.count) of \(count) conversations started") }
                if next < count { add() }
            }
        }
        return result
    }

    /// An agent reply through REST (what a visitor misses while away).
    func reply(to session: String, body: String) async throws {
        let response = try await self.request(
            "POST", "/api/v1/admin/chats/\(session)/reply", ["body": body], headers: self.session)
        guard response.status == 201 else { throw BenchError("reply failed: \(response.text)") }
    }

    struct Response {
        var status: Int
        var text: String
        var cookie: String?
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(self.text.utf8)) as? [String: Any]) ?? [:]
        }
    }

    func request(_ method: String, _ path: String, _ body: [String: Any]?, headers: [String: String] = [:]) async throws
        -> Response
    {
        var request = URLRequest(url: self.base.appendingPathComponent(path))
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        let cookie = (http?.value(forHTTPHeaderField: "Set-Cookie")).flatMap {
            $0.split(separator: ";").first.map(String.init)
        }
        return Response(status: http?.statusCode ?? 0, text: String(decoding: data, as: UTF8.self), cookie: cookie)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
