import Foundation
import Hummingbird
import ParleyCore
public import ParleyStore

/// `GET /api/v1/admin/analytics?from=2026-11-01&to=2026-11-21`: the support figures of a date
/// range (`to` inclusive; 30 days up to today by default, at most 366).
public struct AnalyticsController: Sendable {
    let analytics: AnalyticsStore

    public init(analytics: AnalyticsStore) { self.analytics = analytics }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("analytics", use: self.report)
        group.get("analytics/ai", use: self.ai)
    }

    /// The assistant's accuracy and the knowledge base's gaps over the same range.
    func ai(_ request: Request, context: AgentContext) async throws -> AIReportResponse {
        try context.principal.require(.answerConversations)
        let (from, to) = try Self.range(request)
        return AIReportResponse(
            report: try await self.analytics.aiReport(in: context.organizationID, from: from, to: to))
    }

    /// `from` and `to` (inclusive) as an interval: 30 days up to today by default, at most 366.
    static func range(_ request: Request) throws -> (Date, Date) {
        let query = request.uri.queryParameters
        let today = Calendar(identifier: .gregorian).startOfDay(for: Date())
        let to =
            try ChatController.date(query["to"].map(String.init), field: "to").map { $0.addingTimeInterval(86_400) }
            ?? today.addingTimeInterval(86_400)
        let from =
            try ChatController.date(query["from"].map(String.init), field: "from")
            ?? to.addingTimeInterval(-30 * 86_400)
        guard from < to else { throw ValidationError(field: "from", message: "from must be before to.") }
        guard to.timeIntervalSince(from) <= 366 * 86_400 else {
            throw ValidationError(field: "to", message: "A report covers at most 366 days.")
        }
        return (from, to)
    }

    func report(_ request: Request, context: AgentContext) async throws -> ReportResponse {
        try context.principal.require(.answerConversations)
        let (from, to) = try Self.range(request)
        return ReportResponse(report: try await self.analytics.report(in: context.organizationID, from: from, to: to))
    }
}

struct AIReportResponse: ResponseEncodable {
    let report: AnalyticsStore.AIReport

    func encode(to encoder: any Encoder) throws { try self.report.encode(to: encoder) }
}

/// The report as the response body, encoded as it is.
struct ReportResponse: ResponseEncodable {
    let report: AnalyticsStore.Report

    func encode(to encoder: any Encoder) throws { try self.report.encode(to: encoder) }
}
