import Foundation
import ParleyCore
import Testing

@Suite struct LoginThrottleTests {
    let start = Date(timeIntervalSince1970: 1_000_000)

    @Test func theFirstFailuresAreFree() {
        var throttle = LoginThrottle(windowStart: self.start)
        for _ in 0..<(LoginThrottle.freeFailures - 1) { throttle.recordFailure(now: self.start) }
        #expect(throttle.retryAfter(now: self.start) == nil)
    }

    @Test func furtherFailuresLockForDoublingPeriods() {
        var throttle = LoginThrottle(windowStart: self.start)
        for _ in 0..<LoginThrottle.freeFailures { throttle.recordFailure(now: self.start) }
        #expect(throttle.retryAfter(now: self.start) == 30)
        throttle.recordFailure(now: self.start)
        #expect(throttle.retryAfter(now: self.start) == 60)
        #expect(throttle.retryAfter(now: self.start.addingTimeInterval(61)) == nil)
    }

    @Test func theLockIsCapped() {
        var throttle = LoginThrottle(windowStart: self.start)
        for _ in 0..<40 { throttle.recordFailure(now: self.start) }
        #expect(throttle.retryAfter(now: self.start) == Int(LoginThrottle.maximumLock))
    }

    @Test func aNewWindowForgetsOldFailures() {
        var throttle = LoginThrottle(windowStart: self.start)
        for _ in 0..<LoginThrottle.freeFailures { throttle.recordFailure(now: self.start) }
        let later = self.start.addingTimeInterval(LoginThrottle.window + 1)
        throttle.recordFailure(now: later)
        #expect(throttle.failures == 1)
        #expect(throttle.retryAfter(now: later) == nil)
    }
}

@Suite struct PageTests {
    @Test func cursorsRoundTrip() throws {
        let cursor = PageCursor(sortKey: 1_700_000_000_123, id: "0b6c1d2e-0000-4000-8000-000000000000")
        #expect(try PageCursor(token: cursor.token) == cursor)
        #expect(!cursor.token.contains("="))
    }

    @Test(arguments: ["", "%%%", "bm9jb2xvbg", String(repeating: "a", count: 300)])
    func garbageCursorsAreRefused(token: String) {
        #expect(throws: ValidationError.self) { try PageCursor(token: token) }
    }

    @Test(arguments: ["0", "201", "-1", "ten"])
    func limitsOutOfRangeAreRefused(limit: String) {
        #expect(throws: ValidationError.self) { try PageRequest(cursor: nil, limit: limit) }
    }

    @Test func anExtraRowMeansAnotherPage() {
        let page = Page(fetched: [1, 2, 3], limit: 2) { PageCursor(sortKey: Int64($0), id: "\($0)") }
        #expect(page.items == [1, 2])
        #expect(page.nextCursor?.id == "2")
        let last = Page(fetched: [1, 2], limit: 2) { PageCursor(sortKey: Int64($0), id: "\($0)") }
        #expect(last.nextCursor == nil)
    }

    @Test func jobRetriesBackOffToAnHour() {
        #expect(Job.retryDelay(afterAttempt: 1) == 5)
        #expect(Job.retryDelay(afterAttempt: 2) == 10)
        #expect(Job.retryDelay(afterAttempt: 30) == 3600)
    }
}
