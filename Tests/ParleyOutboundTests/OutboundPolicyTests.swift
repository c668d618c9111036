import ParleyCore
import ParleyOutbound
import Testing

/// The pure rules: address spellings, forbidden ranges, allow lists.
@Suite struct OutboundPolicyTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("[::1]", "::1"),
        ("[0:0:0:0:0:0:0:1]", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[::ffff:7f00:1]", "::ffff:7f00:1"),
        ("[::127.0.0.1]", "::7f00:1"),
        ("[::]", "::"),
        ("2001:db8::8:800:200c:417a", "2001:db8::8:800:200c:417a"),
    ])
    func addressesAreReadInEverySpelling(text: String, expected: String) throws {
        #expect(try #require(IPAddress(text)).description == expected)
    }

    @Test(arguments: [
        "256.0.0.1", "1.2.3.4.5", "0xg", "08.0.0.1", "[fe80::1%eth0]", "fe80::1%25eth0", "1::2::3", "[::1",
        "example.com", "", "::ffff:1.2.3", "1:2:3:4:5:6:7:8:9", "4294967296",
    ])
    func malformedAddressesAreNotAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(arguments: [
        "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
        "169.254.169.254", "169.254.1.1", "224.0.0.1", "239.255.255.250", "0.0.0.0", "0.1.2.3", "255.255.255.255",
        "240.0.0.1", "198.18.0.1", "198.19.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:101::",
    ])
    func internalAddressesAreForbidden(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(OutboundPolicy.forbidden(address) != nil)
        #expect(!OutboundPolicy.strict.permits(host: text, address: address))
    }

    @Test(arguments: [
        "93.184.215.14", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8",
        "64:ff9b::808:808", "2002:808:808::1",
    ])
    func publicAddressesArePermitted(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(OutboundPolicy.forbidden(address) == nil)
        #expect(OutboundPolicy.strict.permits(host: "api.example.com", address: address))
    }

    @Test func loopbackAndMetadataNamesAreForbiddenWhateverTheyResolveTo() {
        let publicAddress = IPAddress("93.184.215.14")!
        for host in ["localhost", "LOCALHOST.", "api.localhost", "metadata.google.internal"] {
            #expect(!OutboundPolicy.strict.permits(host: host, address: publicAddress), "\(host)")
        }
    }

    @Test func theAllowListOptsHostsAndRangesIn() throws {
        let policy = try OutboundPolicy(allowing: ["127.0.0.1", " 10.0.0.0/8", "fd00::/8", "ollama.internal", "[::1]"])
        #expect(policy.permits(host: "127.0.0.1", address: IPAddress("127.0.0.1")!))
        #expect(policy.permits(host: "llm.lan", address: IPAddress("10.9.8.7")!))
        #expect(policy.permits(host: "llm.lan", address: IPAddress("::ffff:10.9.8.7")!))
        #expect(policy.permits(host: "llm.lan", address: IPAddress("fd00::5")!))
        #expect(policy.permits(host: "Ollama.Internal.", address: IPAddress("192.168.1.9")!))
        #expect(policy.permits(host: "llm.lan", address: IPAddress("::1")!))
        #expect(!policy.permits(host: "llm.lan", address: IPAddress("127.0.0.2")!))
        #expect(!policy.permits(host: "llm.lan", address: IPAddress("192.168.1.9")!))
        #expect(!policy.permits(host: "llm.lan", address: IPAddress("169.254.169.254")!))
    }

    @Test(arguments: ["10.0.0.0/33", "fd00::/129", "300.1.1.1", "exa mple.com", "http://x", "10.0.0.0/x", ""])
    func aBadAllowListEntryIsNamed(entry: String) {
        #expect {
            _ = try OutboundPolicy(allowing: ["127.0.0.1", entry])
        } throws: { error in
            (error as? OutboundPolicy.EntryError)?.entry == entry && "\(error)".contains("'\(entry)'")
        }
    }

    @Test(arguments: [
        ("ftp://example.com/", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com", "only http and https"),
        ("http://user:pass@example.com/", "user names"),
        ("http://example.com@127.0.0.1/", "user names"),
        ("http://[fe80::1%25eth0]/", "percent"),
        ("http://%31%32%37.0.0.1/", "percent"),
        ("http:\\\\127.0.0.1\\", "backslashes"),
        ("http://exa mple.com/", "spaces"),
        ("http://1.2.3.4.5/", "IPv4"),
        ("http://example.com:99999/", "port"),
        ("//example.com/", "scheme"),
    ])
    func malformedOrForeignURLsAreRefused(url: String, reason: String) {
        #expect {
            _ = try OutboundURL(url)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func aURLIsReadLikeTheHTTPClientReadsIt() throws {
        let url = try OutboundURL("https://API.Example.com:8443/v1?x=1")
        #expect(url.scheme == "https")
        #expect(url.host.lowercased() == "api.example.com")
        #expect(url.port == 8443)
        #expect(url.address == nil)
        let literal = try OutboundURL("http://[::ffff:169.254.169.254]/")
        #expect(literal.address == IPAddress("::ffff:a9fe:a9fe"))
        #expect(literal.port == 80)
    }
}
