public import Foundation

/// When a team works: a time zone, opening hours per weekday and holidays. SLA clocks count only
/// these minutes. Without hours, every minute counts (`always`).
public struct BusinessCalendar: Sendable, Hashable, Codable {
    /// An opening period within a day, in minutes after midnight (`end` may be 1440).
    public struct Period: Sendable, Hashable, Codable {
        public var start: Int
        public var end: Int

        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }
    }

    /// An IANA time zone (`Europe/Paris`).
    public var timeZone: String
    /// Opening periods by weekday, 1 = Sunday … 7 = Saturday (Foundation's numbering). Empty: always open.
    public var weeklyHours: [Int: [Period]]
    /// Days off, as `YYYY-MM-DD` in the calendar's time zone.
    public var holidays: Set<String>

    public init(timeZone: String = "UTC", weeklyHours: [Int: [Period]] = [:], holidays: Set<String> = []) {
        self.timeZone = timeZone
        self.weeklyHours = weeklyHours
        self.holidays = holidays
    }

    /// Every minute counts.
    public static let always = BusinessCalendar()

    /// Monday to Friday, `from` to `to` o'clock, in `timeZone`.
    public static func weekdays(from: Int, to: Int, timeZone: String, holidays: Set<String> = []) -> BusinessCalendar {
        let period = Period(start: from * 60, end: to * 60)
        return BusinessCalendar(
            timeZone: timeZone, weeklyHours: Dictionary(uniqueKeysWithValues: (2...6).map { ($0, [period]) }),
            holidays: holidays)
    }

    public var isAlwaysOpen: Bool { self.weeklyHours.values.allSatisfy(\.isEmpty) }

    var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: self.timeZone) ?? TimeZone(identifier: "UTC")!
        return calendar
    }

    /// The opening intervals of the day containing `date`, as absolute times.
    func openIntervals(onDayOf date: Date, _ calendar: Calendar) -> [DateInterval] {
        let day = calendar.startOfDay(for: date)
        let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
        let key = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        guard !self.holidays.contains(key), let periods = self.weeklyHours[parts.weekday ?? 0] else { return [] }
        return periods.sorted { $0.start < $1.start }.compactMap { period in
            // Through the calendar, so a daylight-saving day's hours stay wall-clock hours.
            guard let start = calendar.date(byAdding: .minute, value: period.start, to: day),
                let end = calendar.date(byAdding: .minute, value: period.end, to: day), end > start
            else { return nil }
            return DateInterval(start: start, end: end)
        }
    }

    /// Whether the team works at `date`.
    public func isOpen(at date: Date) -> Bool {
        if self.isAlwaysOpen { return true }
        return self.openIntervals(onDayOf: date, self.calendar).contains { $0.start <= date && date < $0.end }
    }

    /// The moment `minutes` working minutes after `date` have passed.
    public func add(minutes: Double, to date: Date) -> Date {
        if self.isAlwaysOpen || minutes <= 0 { return date.addingTimeInterval(max(0, minutes) * 60) }
        let calendar = self.calendar
        var left = minutes * 60
        var day = date
        for _ in 0..<800 {  // more than two years of days: a calendar with no hours never ends
            for interval in self.openIntervals(onDayOf: day, calendar) where interval.end > date {
                let start = max(interval.start, date)
                let available = interval.end.timeIntervalSince(start)
                if left <= available { return start.addingTimeInterval(left) }
                left -= available
            }
            day = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: day))!
        }
        return day
    }

    /// Working minutes between two moments (0 when `to` is not after `from`).
    public func businessMinutes(from: Date, to: Date) -> Double {
        guard to > from else { return 0 }
        if self.isAlwaysOpen { return to.timeIntervalSince(from) / 60 }
        let calendar = self.calendar
        var total: TimeInterval = 0
        var day = calendar.startOfDay(for: from)
        while day < to {
            for interval in self.openIntervals(onDayOf: day, calendar) {
                let start = max(interval.start, from)
                let end = min(interval.end, to)
                if end > start { total += end.timeIntervalSince(start) }
            }
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
        return total / 60
    }

    /// When the team next works, at or after `date` (`date` itself when open now); nil when the
    /// calendar has no opening in the next two years.
    public func nextOpening(after date: Date) -> Date? {
        if self.isAlwaysOpen { return date }
        let calendar = self.calendar
        var day = date
        for _ in 0..<800 {
            if let interval = self.openIntervals(onDayOf: day, calendar).first(where: { $0.end > date }) {
                return max(interval.start, date)
            }
            day = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: day))!
        }
        return nil
    }
}

/// How fast a priority must be answered and resolved, in working minutes.
public struct SLAPolicy: Sendable, Hashable, Codable {
    public var priority: TicketPriority
    public var firstResponseMinutes: Int
    public var resolutionMinutes: Int
    /// Counted in the organization's business hours (else around the clock).
    public var businessHoursOnly: Bool

    public init(priority: TicketPriority, firstResponseMinutes: Int, resolutionMinutes: Int, businessHoursOnly: Bool) {
        self.priority = priority
        self.firstResponseMinutes = firstResponseMinutes
        self.resolutionMinutes = resolutionMinutes
        self.businessHoursOnly = businessHoursOnly
    }

    /// What an organization starts with.
    public static let defaults: [SLAPolicy] = [
        SLAPolicy(priority: .urgent, firstResponseMinutes: 30, resolutionMinutes: 4 * 60, businessHoursOnly: false),
        SLAPolicy(priority: .high, firstResponseMinutes: 60, resolutionMinutes: 8 * 60, businessHoursOnly: true),
        SLAPolicy(priority: .medium, firstResponseMinutes: 4 * 60, resolutionMinutes: 24 * 60, businessHoursOnly: true),
        SLAPolicy(priority: .low, firstResponseMinutes: 8 * 60, resolutionMinutes: 72 * 60, businessHoursOnly: true),
    ]
}

/// Where a ticket stands against one SLA target.
public enum SLAState: String, Sendable, Hashable, Codable, CaseIterable {
    /// No target (no policy).
    case none
    /// The clock is stopped while it is the customer's turn (`waiting_on_customer`).
    case paused
    /// Running, with time to spare.
    case ok
    /// Running, and less than a fifth of the target is left.
    case warning
    /// Past the deadline.
    case breached
    /// Done within the target.
    case met
}

/// The SLA clock of tickets: deadlines from a policy, and the state of each target.
public enum SLAClock {
    /// A ticket's deadlines under `policy`, counted from `start` in `calendar`'s working time.
    public static func deadlines(for policy: SLAPolicy, from start: Date, calendar: BusinessCalendar) -> (
        firstResponse: Date, resolution: Date
    ) {
        let clock = policy.businessHoursOnly ? calendar : .always
        return (
            clock.add(minutes: Double(policy.firstResponseMinutes), to: start),
            clock.add(minutes: Double(policy.resolutionMinutes), to: start)
        )
    }

    /// The state of one target: `due` the deadline, `done` when it was met (first response, or
    /// resolution), `target` its length in minutes (for the warning fifth), `paused` while the
    /// customer's turn.
    public static func state(
        due: Date?, done: Date?, target: Int?, now: Date, paused: Date? = nil, calendar: BusinessCalendar = .always
    ) -> SLAState {
        guard let due else { return .none }
        if let done { return done <= due ? .met : .breached }
        let reference = paused ?? now
        if reference > due { return .breached }
        if paused != nil { return .paused }
        let left = calendar.businessMinutes(from: now, to: due)
        if let target, left < Double(target) / 5 { return .warning }
        return .ok
    }
}
