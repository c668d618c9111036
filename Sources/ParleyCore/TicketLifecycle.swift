public import Foundation

/// What someone does to a ticket. Every change to a ticket is one of these.
public enum TicketEvent: Sendable, Hashable {
    /// The requester writes (also the first message of a new ticket).
    case customerReply
    /// An agent writes to the requester.
    case agentReply(Agent.ID)
    /// An agent writes a note only the team sees.
    case internalNote
    /// Gives the ticket to an agent, or to nobody.
    case assign(Agent.ID?)
    /// An agent sets the status by hand.
    case changeStatus(TicketStatus)
    /// The requester closes their ticket.
    case customerClose
    /// The requester reopens a resolved ticket.
    case customerReopen
    /// The assistant resolved it (above the organization's threshold).
    case aiResolve
    /// The close-resolved-tickets job: resolved long enough.
    case autoClose
    /// The requester rates a resolved or closed ticket, once.
    case rate(stars: Int, comment: String?)
    /// The requester adds a comment to their rating, once.
    case rateComment(String)
    /// The assistant writes in the ticket's conversation (`ThreadLink`); nothing else changes.
    case assistantMessage
    /// Parley writes in the thread (a takeover, a handoff, a close); nothing else changes.
    case systemMessage
}

/// A change a ticket's state does not allow (409 at the edge); the message names both states.
public struct TicketTransitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var from: TicketStatus
    public var message: String
    public var description: String { self.message }

    public init(from: TicketStatus, message: String) {
        self.from = from
        self.message = message
    }
}

/// The lifecycle of a ticket: pure, every change goes through `apply`.
///
/// | event | from | to |
/// | --- | --- | --- |
/// | customer reply | `open`, `pending`, `in_progress`, `waiting_on_customer`, `resolved` | `in_progress` when assigned, else `open` |
/// | agent reply | any but `closed` | `waiting_on_customer` |
/// | internal note | any | unchanged |
/// | assign an agent | any but `closed` | `in_progress` from `open`, else unchanged |
/// | unassign | any but `closed` | `open` from `in_progress`, else unchanged |
/// | change status | see `allowedStatusChanges` | the chosen status |
/// | customer close | any but `closed` | `closed` |
/// | customer reopen | `resolved` | `in_progress` when assigned, else `open` |
/// | AI resolve | `open`, `pending`, `in_progress`, `waiting_on_customer` | `resolved`, flagged `aiResolved` |
/// | auto close | `resolved` | `closed` |
/// | rate | `resolved`, `closed`, not yet rated | unchanged |
/// | rate comment | rated, without a comment yet | unchanged |
/// | assistant message | any but `closed` | unchanged |
/// | system message | any | unchanged |
///
/// `closed` is final: a customer who writes again opens a new ticket.
public enum TicketLifecycle {
    /// The statuses an agent may set by hand from each status.
    public static let allowedStatusChanges: [TicketStatus: Set<TicketStatus>] = [
        .open: [.pending, .inProgress, .waitingOnCustomer, .resolved, .closed],
        .pending: [.open, .inProgress, .waitingOnCustomer, .resolved, .closed],
        .inProgress: [.open, .pending, .waitingOnCustomer, .resolved, .closed],
        .waitingOnCustomer: [.open, .pending, .inProgress, .resolved, .closed],
        .resolved: [.open, .inProgress, .closed],
        .closed: [],
    ]

    /// The statuses an agent may set next, as the wire gives them (raw values, sorted).
    public static func nextStatuses(from status: TicketStatus) -> [String] {
        (Self.allowedStatusChanges[status] ?? []).map(\.rawValue).sorted()
    }

    /// Applies `event` to `ticket` at `now`: the new status and the times that go with it
    /// (`firstResponseAt` on the first agent reply, `resolvedAt`, `closedAt`, cleared on reopening),
    /// and the SLA clock paused while the customer's turn. Throws for what the state forbids.
    public static func apply(
        _ event: TicketEvent, to ticket: Ticket, now: Date, calendar: BusinessCalendar = .always
    ) throws(TicketTransitionError) -> Ticket {
        var ticket = ticket
        let from = ticket.status
        func refuse(_ message: String) -> TicketTransitionError {
            TicketTransitionError(from: from, message: message)
        }
        func move(to status: TicketStatus) {
            guard status != ticket.status else { return }
            let leaving = ticket.status
            ticket.status = status
            // The SLA clock pauses while the customer has to answer, and resumes after.
            if status == .waitingOnCustomer {
                ticket.slaPausedAt = now
            } else if leaving == .waitingOnCustomer, let paused = ticket.slaPausedAt {
                if let due = ticket.resolutionDueAt {
                    ticket.resolutionDueAt = calendar.add(
                        minutes: calendar.businessMinutes(from: paused, to: now), to: due)
                }
                ticket.slaPausedAt = nil
            }
            switch status {
            case .resolved:
                ticket.resolvedAt = now
            case .closed:
                ticket.closedAt = now
                if ticket.resolvedAt == nil { ticket.resolvedAt = now }
            default:
                if leaving == .resolved || leaving == .closed {
                    ticket.resolvedAt = nil
                    ticket.closedAt = nil
                    ticket.aiResolved = false
                }
            }
        }
        let active: TicketStatus = ticket.assigneeID == nil ? .open : .inProgress

        switch event {
        case .customerReply:
            guard from != .closed else {
                throw refuse("This ticket is closed; a new message needs a new ticket.")
            }
            move(to: active)

        case .agentReply:
            guard from != .closed else { throw refuse("This ticket is closed; it can't be answered.") }
            if ticket.firstResponseAt == nil { ticket.firstResponseAt = now }
            move(to: .waitingOnCustomer)

        case .internalNote, .systemMessage:
            break

        case .rateComment(let comment):
            guard var satisfaction = ticket.satisfaction, satisfaction.comment == nil else {
                throw refuse("A comment goes with a rating, once.")
            }
            satisfaction.comment = comment
            ticket.satisfaction = satisfaction

        case .assistantMessage:
            guard from != .closed else { throw refuse("This ticket is closed; it can't be answered.") }

        case .assign(let agent):
            guard from != .closed else { throw refuse("This ticket is closed; it can't be assigned.") }
            ticket.assigneeID = agent
            if agent != nil, from == .open { move(to: .inProgress) }
            if agent == nil, from == .inProgress { move(to: .open) }

        case .changeStatus(let status):
            guard status != from else { throw refuse("This ticket is already \(from.rawValue).") }
            guard Self.allowedStatusChanges[from]?.contains(status) == true else {
                throw refuse("A ticket can't go from \(from.rawValue) to \(status.rawValue).")
            }
            move(to: status)

        case .customerClose:
            guard from != .closed else { throw refuse("This ticket is already closed.") }
            move(to: .closed)

        case .customerReopen:
            guard from == .resolved else {
                throw refuse("Only a resolved ticket can be reopened; this one is \(from.rawValue).")
            }
            move(to: active)

        case .aiResolve:
            guard from != .resolved, from != .closed else {
                throw refuse("A ticket can't go from \(from.rawValue) to resolved by the assistant.")
            }
            move(to: .resolved)
            ticket.aiResolved = true

        case .autoClose:
            guard from == .resolved else { throw refuse("A ticket can't go from \(from.rawValue) to closed.") }
            move(to: .closed)

        case .rate(let stars, let comment):
            guard from == .resolved || from == .closed else {
                throw refuse("A ticket can be rated once it is resolved; this one is \(from.rawValue).")
            }
            guard ticket.satisfaction == nil else { throw refuse("This ticket has been rated already.") }
            ticket.satisfaction = Satisfaction(stars: stars, comment: comment, ratedAt: now)
        }
        ticket.updatedAt = now
        return ticket
    }
}

/// The requester's rating of a resolved ticket.
public struct Satisfaction: Sendable, Hashable, Codable {
    /// 1 to 5.
    public var stars: Int
    public var comment: String?
    public var ratedAt: Date

    public init(stars: Int, comment: String?, ratedAt: Date) {
        self.stars = stars
        self.comment = comment
        self.ratedAt = ratedAt
    }
}
