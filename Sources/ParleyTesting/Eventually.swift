/// For what happens just after a response (a job, a log line written after the reply): reads
/// again every 50 ms until `done` holds or `seconds` pass, and returns the last value read.
public func eventually<T: Sendable>(
    seconds: Double = 10, _ read: @Sendable () async throws -> T, until done: @Sendable (T) -> Bool
) async throws -> T {
    var value = try await read()
    var waited = 0.0
    while !done(value) && waited < seconds {
        try await Task.sleep(for: .milliseconds(50))
        waited += 0.05
        value = try await read()
    }
    return value
}

/// Whether `check` comes to hold within `seconds` (see the other `eventually`).
public func eventually(seconds: Double = 10, _ check: @Sendable () async throws -> Bool) async throws -> Bool {
    try await eventually(seconds: seconds, check, until: { $0 })
}
