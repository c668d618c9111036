public import Foundation
public import ParleyCore
import SQLKit

/// Support figures for a date range, computed from tickets, conversations and the assistant's log.
/// Human response times count agents only: the assistant's replies never set `firstResponseAt`.
public struct AnalyticsStore: Sendable {
    let engine: any DatabaseEngine
    let now: @Sendable () -> Date

    /// Minutes, summarised.
    public struct Durations: Sendable, Codable, Equatable {
        public var count: Int
        public var medianMinutes: Double?
        public var p90Minutes: Double?

        init(_ minutes: [Double]) {
            let sorted = minutes.sorted()
            self.count = sorted.count
            func at(_ q: Double) -> Double? {
                sorted.isEmpty
                    ? nil
                    : (sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))] * 10).rounded() / 10
            }
            self.medianMinutes = at(0.5)
            self.p90Minutes = at(0.9)
        }
    }

    public struct Report: Sendable, Codable, Equatable {
        public struct Day: Sendable, Codable, Equatable {
            public var day: String
            public var tickets: Int
            public var conversations: Int
        }
        public struct Satisfaction: Sendable, Codable, Equatable {
            public var count: Int
            public var average: Double?
            /// Ratings per star, "1" to "5".
            public var distribution: [String: Int]
            /// Resolved or closed tickets and ended conversations without a ticket: the ones
            /// whose customer was asked to rate.
            public var asked: Int = 0
            /// `count / asked`.
            public var responseRate: Double?
            /// By the day the rating was given.
            public var byDay: [RatedDay] = []
        }
        public struct RatedDay: Sendable, Codable, Equatable {
            public var day: String
            public var count: Int
            public var average: Double
        }
        public struct SLACompliance: Sendable, Codable, Equatable {
            /// Tickets with a first-response target that got a response, and how many in time.
            public var firstResponseMeasured: Int
            public var firstResponseMet: Int
            public var resolutionMeasured: Int
            public var resolutionMet: Int
            public var firstResponseRate: Double?
            public var resolutionRate: Double?
        }
        public struct Assistant: Sendable, Codable, Equatable {
            /// Conversations in which the assistant replied.
            public var conversations: Int
            /// Of those, handed to the team.
            public var handedOver: Int
            /// Resolved by the assistant, confirmed: a thumbs up and no handoff.
            public var resolvedConfirmed: Int
            /// Resolved by the assistant, assumed: no handoff, no thumbs down, and quiet for 24 hours.
            public var resolvedAssumed: Int
            public var thumbsUp: Int
            public var thumbsDown: Int
            public var handoffRate: Double?
            public var resolutionRate: Double?
        }
        public struct AgentRow: Sendable, Codable, Equatable {
            public var agentId: String
            public var resolved: Int
            public var firstResponse: Durations
            /// Ratings of what the agent handled (a ticket's assignee, a conversation's without one).
            public var ratings: Int = 0
            public var satisfaction: Double?
        }

        public var from: Date
        public var to: Date
        public var volume: [Day]
        public var firstResponse: Durations
        public var resolution: Durations
        public var satisfaction: Satisfaction
        public var sla: SLACompliance
        public var assistant: Assistant
        public var leaderboard: [AgentRow]
    }

    public func report(in organizationID: Organization.ID, from: Date, to: Date) async throws -> Report {
        let org = organizationID.description
        let start = from.millis
        let end = to.millis
        let now = self.now()
        return try await self.engine.read { db in
            let tickets = try await db.raw(
                """
                SELECT created_at, first_response_at, resolved_at, first_response_due_at, resolution_due_at,
                    satisfaction, assignee_id, status
                FROM tickets WHERE organization_id = \(bind: org) AND created_at >= \(bind: start) AND created_at < \(bind: end)
                """
            ).all()
            let sessions = try await db.raw(
                """
                SELECT s.id, s.created_at, s.status, s.last_message_at, s.assigned_agent_id, s.satisfaction,
                    CASE WHEN EXISTS (SELECT 1 FROM tickets t WHERE t.chat_session_id = s.id) THEN 1 ELSE 0 END
                        AS has_ticket
                FROM chat_sessions s
                WHERE s.organization_id = \(bind: org) AND s.created_at >= \(bind: start) AND s.created_at < \(bind: end)
                """
            ).all()
            let interactions = try await db.raw(
                """
                SELECT session_id, outcome, feedback FROM ai_interactions
                WHERE organization_id = \(bind: org) AND created_at >= \(bind: start) AND created_at < \(bind: end)
                """
            ).all()

            var days: [String: (Int, Int)] = [:]
            func day(_ millis: Int64) -> String {
                Date(millis: millis).formatted(.iso8601.year().month().day())
            }
            var firstResponse: [Double] = []
            var resolution: [Double] = []
            var stars: [Int] = []
            var sla = Report.SLACompliance(
                firstResponseMeasured: 0, firstResponseMet: 0, resolutionMeasured: 0, resolutionMet: 0)
            var perAgent: [String: (resolved: Int, firstResponse: [Double])] = [:]
            var agentStars: [String: [Int]] = [:]
            var starsByDay: [String: [Int]] = [:]
            var asked = 0
            func rated(_ json: String?, agent: String?) {
                guard let json, let rating = try? JSONColumn.decode(ParleyCore.Satisfaction.self, from: json) else {
                    return
                }
                stars.append(rating.stars)
                starsByDay[day(rating.ratedAt.millis), default: []].append(rating.stars)
                if let agent { agentStars[agent, default: []].append(rating.stars) }
            }
            for row in tickets {
                let created = try row.int64("created_at")
                days[day(created), default: (0, 0)].0 += 1
                let responded = try row.optionalInt64("first_response_at")
                let resolved = try row.optionalInt64("resolved_at")
                let agent = try row.optionalString("assignee_id")
                if let responded {
                    let minutes = Double(responded - created) / 60_000
                    firstResponse.append(minutes)
                    if let agent { perAgent[agent, default: (0, [])].firstResponse.append(minutes) }
                    if let due = try row.optionalInt64("first_response_due_at") {
                        sla.firstResponseMeasured += 1
                        if responded <= due { sla.firstResponseMet += 1 }
                    }
                }
                if let resolved {
                    resolution.append(Double(resolved - created) / 60_000)
                    if let agent { perAgent[agent, default: (0, [])].resolved += 1 }
                    if let due = try row.optionalInt64("resolution_due_at") {
                        sla.resolutionMeasured += 1
                        if resolved <= due { sla.resolutionMet += 1 }
                    }
                }
                if ["resolved", "closed"].contains(try row.string("status")) { asked += 1 }
                rated(try row.optionalString("satisfaction"), agent: agent)
            }
            for row in sessions {
                days[day(try row.int64("created_at")), default: (0, 0)].1 += 1
                // A conversation an agent saw to its end without a ticket is their resolution; one
                // that became a ticket counts once, as its ticket (`ThreadLink`).
                if try row.string("status") == "closed", try row.int64("has_ticket") == 0 {
                    let agent = try row.optionalString("assigned_agent_id")
                    if let agent { perAgent[agent, default: (0, [])].resolved += 1 }
                    asked += 1
                    rated(try row.optionalString("satisfaction"), agent: agent)
                }
            }

            // The assistant, per conversation.
            var bySession: [String: (replied: Bool, handoff: Bool, up: Bool, down: Bool)] = [:]
            var thumbsUp = 0
            var thumbsDown = 0
            for row in interactions {
                let session = try row.string("session_id")
                let outcome = try row.string("outcome")
                let feedback = try row.optionalString("feedback")
                var entry = bySession[session] ?? (false, false, false, false)
                if ["answer", "resolve", "article", "auto_reply"].contains(outcome) { entry.replied = true }
                if outcome == "handoff" || outcome == "failed" { entry.handoff = true }
                if feedback == "up" {
                    entry.up = true
                    thumbsUp += 1
                }
                if feedback == "down" {
                    entry.down = true
                    thumbsDown += 1
                }
                bySession[session] = entry
            }
            var statusBySession: [String: (String, Int64?)] = [:]
            for row in sessions {
                statusBySession[try row.string("id")] = (
                    try row.string("status"), try row.optionalInt64("last_message_at")
                )
            }
            var assistant = Report.Assistant(
                conversations: 0, handedOver: 0, resolvedConfirmed: 0, resolvedAssumed: 0, thumbsUp: thumbsUp,
                thumbsDown: thumbsDown)
            let dayAgo = now.millis - 24 * 3_600_000
            for (session, entry) in bySession where entry.replied || entry.handoff {
                assistant.conversations += 1
                let (status, last) = statusBySession[session] ?? ("", nil)
                let withTeam = entry.handoff || status == "escalated" || status == "agent_active"
                if withTeam {
                    assistant.handedOver += 1
                } else if entry.up {
                    assistant.resolvedConfirmed += 1
                } else if !entry.down, let last, last <= dayAgo {
                    assistant.resolvedAssumed += 1
                }
            }
            if assistant.conversations > 0 {
                assistant.handoffRate = Double(assistant.handedOver) / Double(assistant.conversations)
                assistant.resolutionRate =
                    Double(assistant.resolvedConfirmed + assistant.resolvedAssumed) / Double(assistant.conversations)
            }
            if sla.firstResponseMeasured > 0 {
                sla.firstResponseRate = Double(sla.firstResponseMet) / Double(sla.firstResponseMeasured)
            }
            if sla.resolutionMeasured > 0 {
                sla.resolutionRate = Double(sla.resolutionMet) / Double(sla.resolutionMeasured)
            }
            var distribution: [String: Int] = [:]
            for star in 1...5 { distribution[String(star)] = stars.filter { $0 == star }.count }
            func average(_ values: [Int]) -> Double? {
                values.isEmpty ? nil : (Double(values.reduce(0, +)) / Double(values.count) * 100).rounded() / 100
            }
            var satisfaction = Report.Satisfaction(
                count: stars.count, average: average(stars), distribution: distribution)
            satisfaction.asked = asked
            satisfaction.responseRate = asked == 0 ? nil : (Double(stars.count) / Double(asked) * 1000).rounded() / 1000
            satisfaction.byDay = starsByDay.keys.sorted().map {
                Report.RatedDay(day: $0, count: starsByDay[$0]!.count, average: average(starsByDay[$0]!) ?? 0)
            }
            for agent in agentStars.keys where perAgent[agent] == nil { perAgent[agent] = (0, []) }
            return Report(
                from: from, to: to,
                volume: days.keys.sorted().map {
                    Report.Day(day: $0, tickets: days[$0]!.0, conversations: days[$0]!.1)
                },
                firstResponse: Durations(firstResponse), resolution: Durations(resolution), satisfaction: satisfaction,
                sla: sla, assistant: assistant,
                leaderboard: perAgent.map {
                    Report.AgentRow(
                        agentId: $0.key, resolved: $0.value.resolved, firstResponse: Durations($0.value.firstResponse),
                        ratings: agentStars[$0.key]?.count ?? 0, satisfaction: average(agentStars[$0.key] ?? []))
                }.sorted { ($0.resolved, $1.agentId) > ($1.resolved, $0.agentId) })
        }
    }
}

extension AnalyticsStore {
    /// How the assistant did over a date range, and what it could not answer.
    public struct AIReport: Sendable, Codable, Hashable {
        /// Replies given (the model's answers, articles, auto-replies, resolutions).
        public var answers: Int
        public var thumbsUp: Int
        public var thumbsDown: Int
        /// Answers agents marked right, and wrong.
        public var reviewedRight: Int
        public var reviewedWrong: Int
        public var handoffs: Int
        /// Handoffs by reason (`visitor_asked`, `no_answer`, `low_confidence`, `assistant_handoff`,
        /// `limit_reached`, `provider_failed`).
        public var handoffReasons: [String: Int]
        /// The questions the assistant could not answer (handed over for want of an answer, or
        /// thumbed down), most asked first: the knowledge base's gaps.
        public var gaps: [Gap]

        public struct Gap: Sendable, Codable, Hashable {
            public var question: String
            public var count: Int
            public var lastAskedAt: Date
        }
    }

    public func aiReport(in organizationID: Organization.ID, from: Date, to: Date, gapLimit: Int = 20) async throws
        -> AIReport
    {
        let rows = try await self.engine.read { db in
            try await db.raw(
                """
                SELECT question, outcome, reason, feedback, review, created_at FROM ai_interactions
                WHERE organization_id = \(bind: organizationID.description)
                    AND created_at >= \(bind: from.millis) AND created_at < \(bind: to.millis)
                ORDER BY created_at
                LIMIT 100000
                """
            ).all()
        }
        var report = AIReport(
            answers: 0, thumbsUp: 0, thumbsDown: 0, reviewedRight: 0, reviewedWrong: 0, handoffs: 0,
            handoffReasons: [:],
            gaps: [])
        var gaps: [String: AIReport.Gap] = [:]
        for row in rows {
            let outcome = try row.string("outcome")
            let feedback = try row.optionalString("feedback")
            let question = try row.string("question")
            let at = try row.date("created_at")
            if feedback == "up" { report.thumbsUp += 1 }
            if feedback == "down" { report.thumbsDown += 1 }
            let review = try row.optionalString("review")
            if review == "right" { report.reviewedRight += 1 }
            if review == "wrong" { report.reviewedWrong += 1 }
            var unanswered = feedback == "down" || review == "wrong"
            if outcome == "handoff" || outcome == "failed" {
                report.handoffs += 1
                let raw = try row.optionalString("reason") ?? ""
                let reason =
                    outcome == "failed"
                    ? EscalationReason.providerFailed.rawValue
                    : EscalationReason(rawValue: raw)?.rawValue ?? EscalationReason.assistantHandoff.rawValue
                report.handoffReasons[reason, default: 0] += 1
                // Asking for a person is not a gap in the knowledge base.
                unanswered = unanswered || reason != EscalationReason.visitorAsked.rawValue
            } else {
                report.answers += 1
            }
            guard unanswered else { continue }
            let key = question.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            guard !key.isEmpty else { continue }
            var gap = gaps[key] ?? AIReport.Gap(question: String(question.prefix(300)), count: 0, lastAskedAt: at)
            gap.count += 1
            gap.lastAskedAt = max(gap.lastAskedAt, at)
            gaps[key] = gap
        }
        report.gaps = Array(
            gaps.values.sorted { ($0.count, $0.lastAskedAt) > ($1.count, $1.lastAskedAt) }.prefix(gapLimit))
        return report
    }
}
