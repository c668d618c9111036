import HTTPTypes
import ParleyHTTP
import Testing

@Suite struct TrustedProxiesTests {
    let proxies = try! TrustedProxies(parsing: "10.0.0.0/8, 192.168.1.5, ::1")

    @Test func forwardedForIsBelievedOnlyFromATrustedPeer() {
        let headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.7"]
        #expect(self.proxies.clientIP(peer: "10.1.2.3", headers: headers) == "203.0.113.7")
        #expect(self.proxies.clientIP(peer: "::1", headers: headers) == "203.0.113.7")
        #expect(self.proxies.clientIP(peer: "198.51.100.9", headers: headers) == "198.51.100.9")
        #expect(TrustedProxies.none.clientIP(peer: "10.1.2.3", headers: headers) == "10.1.2.3")
    }

    @Test func theRightmostUntrustedHopIsTheClient() {
        // A client can put anything on the left; only what our proxies appended counts.
        let headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "1.2.3.4, 203.0.113.7, 10.0.0.2"]
        #expect(self.proxies.clientIP(peer: "10.0.0.1", headers: headers) == "203.0.113.7")
        let garbage: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "not-an-ip"]
        #expect(self.proxies.clientIP(peer: "10.0.0.1", headers: garbage) == "10.0.0.1")
    }

    @Test func rangesMatchByPrefix() throws {
        #expect(self.proxies.contains("10.255.0.1"))
        #expect(!self.proxies.contains("11.0.0.1"))
        #expect(self.proxies.contains("192.168.1.5"))
        #expect(!self.proxies.contains("192.168.1.6"))
        #expect(try TrustedProxies(parsing: "172.16.0.0/12").contains("172.31.255.255"))
        #expect(try !TrustedProxies(parsing: "172.16.0.0/12").contains("172.32.0.0"))
        #expect(throws: (any Error).self) { try TrustedProxies(parsing: "10.0.0.0/33") }
        #expect(throws: (any Error).self) { try TrustedProxies(parsing: "proxy.internal") }
    }
}
