import ParleyStore
import Testing

@Suite struct WorkQueueTests {
    @Test func batchesComeInOrderUpToTheMaximumThenFinishDrains() async {
        let queue = WorkQueue<Int>()
        queue.append(contentsOf: [1, 2, 3])
        queue.append(contentsOf: [4, 5])
        #expect(await queue.next(maximum: 4) == [1, 2, 3, 4])
        queue.finish()
        #expect(!queue.append(contentsOf: [6]))  // refused after finish
        #expect(await queue.next() == [5])  // what was queued is still handed out
        #expect(await queue.next() == nil)
    }

    @Test func aWaitingConsumerWakesForAnAppendOrAFinish() async {
        let queue = WorkQueue<Int>()
        async let first = queue.next()
        try? await Task.sleep(for: .milliseconds(50))
        queue.append(contentsOf: [7])
        #expect(await first == [7])
        async let last = queue.next()
        try? await Task.sleep(for: .milliseconds(50))
        queue.finish()
        #expect(await last == nil)
    }
}
