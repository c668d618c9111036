import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import ParleyAI
import ParleyCore
import ParleyOutbound
import ParleyStore

extension Bench {
    /// Knowledge-base search at scale, in this process: a synthetic knowledge base (articles of
    /// several sections, so several passages each) with a vector per passage, searched the way the
    /// assistant and `GET /admin/kb/search` search it (full text and vectors fused). The question
    /// vectors come from an embeddings server this command runs on loopback (random unit vectors:
    /// the model's own time is not Parley's). Then the vector scan alone, in memory, at growing
    /// sizes: where brute force stops being fine.
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search latency over a synthetic knowledge base with embeddings; prints figures.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "Articles to create (each with --sections sections).") var articles = 10_000
        @Option(help: "Sections per article (about one passage each).") var sections = 5
        @Option(help: "Vector dimensions (multilingual-e5-small: 384).") var dimensions = 384
        @Option(help: "Searches to time.") var queries = 300
        @Option(help: "Port of the embeddings server this command runs.") var embeddingsPort = 18191
        @Option(help: "Passage counts for the in-memory scan, comma-separated.") var scan = "50000,100000,200000,400000"

        func run() async throws {
            let port = self.embeddingsPort
            let dimensions = self.dimensions
            let router = Router()
            router.post("/v1/embeddings") { request, _ -> Response in
                struct Input: Decodable { var input: [String] }
                let input = try JSONDecoder().decode(Input.self, from: try await request.body.collect(upTo: 1 << 22))
                let vectors = input.input.map { text in
                    var random = SeededRandom(seed: UInt64(bitPattern: Int64(text.hashValue)))
                    return (0..<dimensions).map { _ in Float.random(in: -1...1, using: &random) }
                }
                let data = vectors.enumerated().map { index, vector in
                    #"{"index":\#(index),"embedding":[\#(vector.map { String($0) }.joined(separator: ","))]}"#
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"data":[\#(data.joined(separator: ","))]}"#)))
            }
            let server = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                logger: Logger(label: "bench.embeddings"))
            let articles = self.articles
            let sections = self.sections
            let queries = self.queries
            let sizes = self.scan.split(separator: ",").compactMap { Int($0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.runService() }
                try await Task.sleep(for: .milliseconds(300))
                try await self.options.withStores { stores in
                    try await Self.measure(
                        stores: stores, articles: articles, sections: sections, dimensions: dimensions,
                        queries: queries, embeddingsURL: "http://127.0.0.1:\(port)/v1")
                }
                Self.scan(sizes: sizes, dimensions: dimensions)
                group.cancelAll()
            }
        }

        static let vocabulary: [String] = (0..<6000).map { index in
            let letters = Array("abcdefghijklmnopqrstuvwxyz")
            var word = ""
            var value = index * 7919 + 13
            for _ in 0..<(4 + index % 6) {
                word.append(letters[value % 26])
                value = value / 3 + index
            }
            return word
        }

        /// Words drawn with a Zipf-like skew, as natural text is.
        static func words(_ count: Int, using random: inout SeededRandom) -> String {
            (0..<count).map { _ in
                let rank = Int(pow(Double.random(in: 0..<1, using: &random), 2.5) * Double(Self.vocabulary.count))
                return Self.vocabulary[min(rank, Self.vocabulary.count - 1)]
            }.joined(separator: " ")
        }

        static func measure(
            stores: Stores, articles: Int, sections: Int, dimensions: Int, queries: Int, embeddingsURL: String
        ) async throws {
            let org = try await stores.organizations.create(name: "Search bench \(Int(Date().timeIntervalSince1970))")
            let id = org.id
            var random = SeededRandom(seed: 42)
            var clock = ContinuousClock.now
            for batch in stride(from: 0, to: articles, by: 500) {
                var files: [(name: String, text: String)] = []
                for index in batch..<min(articles, batch + 500) {
                    var text = "# Article \(index): \(Self.words(5, using: &random))\n\n"
                    for section in 0..<sections {
                        text +=
                            "## Section \(section) \(Self.words(3, using: &random))\n\n\(Self.words(150, using: &random))\n\n"
                    }
                    files.append(("a\(index).md", text))
                }
                _ = try await stores.articles.importMarkdown(files, in: id)
                FileHandle.standardError.write(Data("\rarticles: \(min(articles, batch + 500))/\(articles)".utf8))
            }
            let imported = ContinuousClock.now - clock
            let progress = try await stores.articles.vectorProgress(in: id, model: "bench")
            print("\nknowledge base: \(articles) articles, \(progress.passages) passages, imported in \(imported)")
            clock = ContinuousClock.now
            while true {
                let batch = try await stores.articles.passagesWithoutVectors(in: id, model: "bench", limit: 2000)
                if batch.isEmpty { break }
                try await stores.articles.storeVectors(
                    batch.map { item in
                        (item.hash, (0..<dimensions).map { _ in Float.random(in: -1...1, using: &random) })
                    },
                    model: "bench", in: id)
            }
            print("vectors: \(progress.passages) × \(dimensions) stored in \(ContinuousClock.now - clock)")
            try await stores.assistant.setEmbeddingsProvider(
                EmbeddingsProvider(kind: .openai, baseURL: embeddingsURL, model: "bench", apiKey: nil), in: id)
            let client = OutboundClient(
                guard: OutboundGuard(policy: try OutboundPolicy(allowing: ["127.0.0.1"])),
                configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30))))
            let logger = Logger(label: "bench")
            let retriever = Retriever(stores: stores, client: client, logger: logger)
            clock = ContinuousClock.now
            _ = try await retriever.search("warm up", in: id, publishedOnly: true, limit: 5)
            print("first search (loads the vectors into memory): \(ContinuousClock.now - clock)")
            var hybrid: [Double] = []
            var lexical: [Double] = []
            for _ in 0..<queries {
                let question = Self.words(8, using: &random)
                var started = ContinuousClock.now
                let found = try await retriever.search(question, in: id, publishedOnly: true, limit: 5)
                hybrid.append(Self.millis(ContinuousClock.now - started))
                guard found.usedEmbeddings else { throw ValidationError("vectors were not used") }
                started = ContinuousClock.now
                _ = try await stores.articles.search(question, in: id, publishedOnly: true, limit: 5)
                lexical.append(Self.millis(ContinuousClock.now - started))
            }
            try await client.shutdown()
            print(
                "hybrid search (question embedded over loopback HTTP, full text, vectors, fusion, articles read), \(queries) searches: \(Self.summary(hybrid))"
            )
            print("full text alone: \(Self.summary(lexical))")
        }

        static func scan(sizes: [Int], dimensions: Int) {
            var random = SeededRandom(seed: 7)
            for size in sizes {
                let matrix = (0..<(size * dimensions)).map { _ in Float.random(in: -1...1, using: &random) }
                let vectors = PassageVectors(
                    version: 1, model: "bench", dimensions: dimensions, passageIDs: (0..<size).map { "p\($0)" },
                    articleIDs: (0..<size).map { _ in Article.ID() }, published: Array(repeating: true, count: size),
                    matrix: matrix)
                var times: [Double] = []
                for _ in 0..<30 {
                    let query = VectorCoding.normalized(
                        (0..<dimensions).map { _ in Float.random(in: -1...1, using: &random) })
                    let started = ContinuousClock.now
                    _ = VectorIndex.nearest(query, in: vectors, publishedOnly: true, limit: 50)
                    times.append(Self.millis(ContinuousClock.now - started))
                }
                let megabytes = Double(size * dimensions * 4) / 1_048_576
                print(
                    "vector scan, \(size) passages × \(dimensions) (\(String(format: "%.0f", megabytes)) MB in memory): \(Self.summary(times))"
                )
            }
        }

        static func millis(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        }

        static func summary(_ values: [Double]) -> String {
            let sorted = values.sorted()
            func at(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))] }
            return String(
                format: "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms", at(0.5), at(0.9), at(0.99),
                sorted.last ?? 0)
        }
    }
}

/// A small deterministic generator (SplitMix64), so every run builds the same knowledge base.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
