import Foundation
import Hummingbird
import ParleyCore
public import ParleyRealtime
public import ParleyStore

/// A ticket on the wire. Customers get the public thread only; agents see internal notes, flagged.
struct TicketResponse: ResponseEncodable {
    struct SLA: Encodable {
        var firstResponseDueAt: Date?
        var resolutionDueAt: Date?
        var firstResponse: String
        var resolution: String
        var paused: Bool
    }

    var id: String
    var subject: String
    var status: String
    var priority: String
    var source: String
    var requesterEmail: String
    var requesterName: String?
    var visitorId: String?
    var chatSessionId: String?
    var assigneeId: String?
    var tags: [String]
    var category: String?
    var satisfaction: Satisfaction?
    var aiResolved: Bool
    var firstResponseAt: Date?
    var resolvedAt: Date?
    var closedAt: Date?
    var sla: SLA?
    var lastSeq: Int64
    var createdAt: Date
    var updatedAt: Date
    var messages: [TicketMessageView]?
    /// The statuses an agent may set from here (the dashboard's controls).
    var allowedStatuses: [String]?
    /// How a public reply reaches the customer now: `widget`, `email` or `none` (agents only).
    var reachedBy: String?
    /// Whether a mail server is configured (agents only).
    var emailConfigured: Bool?

    init(
        _ ticket: Ticket, messages: [TicketMessage]? = nil, forAgents: Bool, policies: [SLAPolicy] = [],
        now: Date = Date()
    ) {
        self.id = ticket.id.description
        self.subject = ticket.subject
        self.status = ticket.status.rawValue
        self.priority = ticket.priority.rawValue
        self.source = ticket.source.rawValue
        self.requesterEmail = ticket.requesterEmail
        self.requesterName = ticket.requesterName
        self.chatSessionId = ticket.chatSessionID?.description
        self.tags = ticket.tags
        self.satisfaction = ticket.satisfaction
        self.aiResolved = ticket.aiResolved
        self.resolvedAt = ticket.resolvedAt
        self.closedAt = ticket.closedAt
        self.lastSeq = ticket.lastSeq
        self.createdAt = ticket.createdAt
        self.updatedAt = ticket.updatedAt
        self.messages = messages.map { forAgents ? $0 : Visibility.customerThread($0) }?.map(TicketMessageView.init)
        if forAgents {
            self.visitorId = ticket.visitorID?.description
            self.assigneeId = ticket.assigneeID?.description
            self.category = ticket.category
            self.firstResponseAt = ticket.firstResponseAt
            let policy = policies.first { $0.priority == ticket.priority }
            self.sla = SLA(
                firstResponseDueAt: ticket.firstResponseDueAt, resolutionDueAt: ticket.resolutionDueAt,
                firstResponse: SLAClock.state(
                    due: ticket.firstResponseDueAt, done: ticket.firstResponseAt,
                    target: policy?.firstResponseMinutes, now: now
                ).rawValue,
                resolution: SLAClock.state(
                    due: ticket.resolutionDueAt, done: ticket.resolvedAt, target: policy?.resolutionMinutes, now: now,
                    paused: ticket.slaPausedAt
                ).rawValue,
                paused: ticket.slaPausedAt != nil)
            self.allowedStatuses = TicketLifecycle.nextStatuses(from: ticket.status)
        }
    }
}

/// Agents' ticket endpoints, mounted at `/api/v1/admin/tickets`, and the SLA and business-hours
/// settings at `/api/v1/admin/sla-policies` and `/api/v1/admin/settings/business-hours`.
public struct TicketController: Sendable {
    let tickets: TicketStore
    let agents: AgentStore
    let writer: TicketWriter
    let chats: ChatStore?
    let emailEnabled: Bool

    public init(
        tickets: TicketStore, agents: AgentStore, writer: TicketWriter, chats: ChatStore? = nil,
        emailEnabled: Bool = false
    ) {
        self.tickets = tickets
        self.agents = agents
        self.writer = writer
        self.chats = chats
        self.emailEnabled = emailEnabled
    }

    struct ReplyRequest: Decodable {
        var body: String
        var `internal`: Bool?
        /// Files uploaded to the ticket beforehand (`POST …/attachments`).
        var attachments: [String]?
    }

    /// The ids of `attachments` (422 naming the field for one that is not an id).
    static func attachmentIDs(_ texts: [String]?) throws -> [Attachment.ID] {
        try (texts ?? []).map { text in
            guard let id = Attachment.ID(text) else {
                throw ValidationError(field: "attachments", message: "\(text) is not an attachment id.")
            }
            return id
        }
    }
    struct AssignRequest: Decodable { var agentId: String? }
    struct StatusRequest: Decodable { var status: String }
    struct PriorityRequest: Decodable { var priority: String }
    struct TagsRequest: Decodable { var tags: [String] }
    struct BulkRequest: Decodable {
        var ids: [String]
        var action: String
        var status: String?
        var agentId: String?
        var priority: String?
        var tags: [String]?
    }
    struct BulkResponse: ResponseEncodable {
        struct Result: Encodable {
            var id: String
            var ok: Bool
            var error: String?
        }
        var results: [Result]
    }
    struct PoliciesBody: ResponseEncodable, Decodable { var policies: [SLAPolicy] }

    func addRoutes(to group: RouterGroup<AgentContext>) {
        group.get("tickets", use: self.list)
        group.get("tickets/counts", use: self.counts)
        group.post("tickets/bulk", use: self.bulk)
        group.get("tickets/:ticket", use: self.show)
        group.post("chats/:chat/ticket", use: self.makeTicket)
        group.post("tickets/:ticket/reply", use: self.reply)
        group.post("tickets/:ticket/assign", use: self.assign)
        group.post("tickets/:ticket/status", use: self.changeStatus)
        group.post("tickets/:ticket/priority", use: self.changePriority)
        group.post("tickets/:ticket/tags", use: self.changeTags)
        group.get("sla-policies", use: self.policies)
        group.put("sla-policies", use: self.setPolicies)
        group.get("settings/business-hours", use: self.businessHours)
        group.put("settings/business-hours", use: self.setBusinessHours)
    }

    /// `?status=open,pending&priority=high&assignee=me|unassigned|<id>&tag=&source=&sla=breached|warning
    /// &from=&to=&q=words&sort=newest|oldest|updated&cursor=&limit=`
    /// The list's filters from the query string (also used by exports).
    static func filter(_ request: Request, context: AgentContext) throws -> TicketStore.Filter {
        let query = request.uri.queryParameters
        var filter = TicketStore.Filter()
        if let text = query["status"].map(String.init), !text.isEmpty {
            filter.statuses = try text.split(separator: ",").map { try Self.status(String($0)) }
        }
        if let text = query["priority"].map(String.init), !text.isEmpty {
            filter.priorities = try text.split(separator: ",").map { try Self.priority(String($0)) }
        }
        switch query["assignee"].map(String.init) {
        case nil, "": break
        case "me":
            guard let agent = context.principal.agent else {
                throw ValidationError(field: "assignee", message: "An API key has no tickets of its own.")
            }
            filter.assignee = .agent(agent.id)
        case "unassigned": filter.assignee = .unassigned
        case let other?:
            guard let agent = Agent.ID(other) else {
                throw ValidationError(field: "assignee", message: "assignee must be me, unassigned or an agent id.")
            }
            filter.assignee = .agent(agent)
        }
        if let tag = query["tag"].map(String.init), !tag.isEmpty { filter.tag = tag }
        if let source = query["source"].map(String.init), !source.isEmpty {
            guard let parsed = TicketSource(rawValue: source) else {
                throw ValidationError(field: "source", message: "source must be form, chat or email.")
            }
            filter.source = parsed
        }
        if let sla = query["sla"].map(String.init), !sla.isEmpty {
            guard let parsed = TicketStore.Filter.SLAFilter(rawValue: sla) else {
                throw ValidationError(field: "sla", message: "sla must be breached or warning.")
            }
            filter.sla = parsed
        }
        filter.from = try ChatController.date(query["from"].map(String.init), field: "from")
        filter.to = try ChatController.date(query["to"].map(String.init), field: "to")
        if let text = query["q"].map(String.init), !text.isEmpty {
            guard text.count <= 500 else {
                throw ValidationError(field: "q", message: "q must be at most 500 characters.")
            }
            filter.text = text
        }
        if let sort = query["sort"].map(String.init), !sort.isEmpty {
            guard let parsed = TicketStore.Filter.Sort(rawValue: sort) else {
                throw ValidationError(field: "sort", message: "sort must be newest, oldest or updated.")
            }
            filter.sort = parsed
        }
        return filter
    }

    func list(_ request: Request, context: AgentContext) async throws -> PageResponse<TicketResponse> {
        try context.principal.require(.answerConversations)
        let filter = try Self.filter(request, context: context)
        let page = try await self.tickets.list(
            in: context.organizationID, filter: filter, page: try request.pageRequest())
        let policies = try await self.tickets.policies(in: context.organizationID)
        return PageResponse(page) { TicketResponse($0, forAgents: true, policies: policies) }
    }

    func counts(_ request: Request, context: AgentContext) async throws -> [String: Int] {
        try context.principal.require(.answerConversations)
        return try await self.tickets.counts(in: context.organizationID)
    }

    func show(_ request: Request, context: AgentContext) async throws -> TicketResponse {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        return try await self.response(id, context)
    }

    func response(_ id: Ticket.ID, _ context: AgentContext) async throws -> TicketResponse {
        let ticket = try await self.tickets.ticket(id, in: context.organizationID)
        let messages = try await self.tickets.messages(of: id, in: context.organizationID, includeInternal: true)
        let policies = try await self.tickets.policies(in: context.organizationID)
        var response = TicketResponse(ticket, messages: messages, forAgents: true, policies: policies)
        var conversation: ChatSession?
        var seen: Date?
        if let chats = self.chats, let sessionID = ticket.chatSessionID {
            conversation = try? await chats.session(sessionID, in: context.organizationID)
            if let visitor = conversation?.visitorID {
                seen = try? await chats.visitor(visitor, in: context.organizationID).lastSeenAt
            }
        }
        response.reachedBy =
            ThreadLink.delivery(
                of: ticket, conversation: conversation, visitorSeenAt: seen, emailEnabled: self.emailEnabled,
                now: Date()
            ).rawValue
        response.emailConfigured = self.emailEnabled
        return response
    }

    /// "Make a ticket": the conversation becomes a ticket, one thread with it (201); 409 when it
    /// has one that is not closed.
    func makeTicket(_ request: Request, context: AgentContext) async throws -> EditedResponse<TicketResponse> {
        try context.principal.require(.answerConversations)
        let id = try context.id("chat", as: ChatSession.ID.self, entity: "conversation")
        let (ticket, created) = try await self.writer.openFromConversation(
            id, in: context.organizationID, by: Self.actor(context))
        guard created else {
            throw DomainError.conflict("This conversation is already a ticket (\(ticket.id)).")
        }
        return EditedResponse(status: .created, response: try await self.response(ticket.id, context))
    }

    /// A public reply (the customer's turn next) or, with `internal: true`, a note only agents see.
    func reply(_ request: Request, context: AgentContext) async throws -> EditedResponse<TicketResponse> {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let input = try await request.decodeJSON(as: ReplyRequest.self, context: context)
        let author = context.principal.agent?.id
        let isInternal = input.internal ?? false
        let event: TicketEvent
        if isInternal {
            event = .internalNote
        } else {
            guard let author else {
                throw ValidationError(field: "internal", message: "An API key can only add internal notes.")
            }
            event = .agentReply(author)
        }
        let message = TicketStore.NewMessage(
            role: .agent, body: input.body, isInternal: isInternal, author: author,
            attachments: try Self.attachmentIDs(input.attachments))
        let (organization, actor) = (context.organizationID, Self.actor(context))
        try await self.writer.apply(event, to: id, in: organization, message: message, by: actor)
        return EditedResponse(status: .created, response: try await self.response(id, context))
    }

    func assign(_ request: Request, context: AgentContext) async throws -> TicketResponse {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let input = try await request.decodeJSON(as: AssignRequest.self, context: context)
        let agent = try await self.agent(input.agentId, context)
        let (organization, actor) = (context.organizationID, Self.actor(context))
        try await self.writer.apply(.assign(agent), to: id, in: organization, by: actor)
        return try await self.response(id, context)
    }

    func changeStatus(_ request: Request, context: AgentContext) async throws -> TicketResponse {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let input = try await request.decodeJSON(as: StatusRequest.self, context: context)
        let status = try Self.status(input.status)
        let (organization, actor) = (context.organizationID, Self.actor(context))
        try await self.writer.apply(.changeStatus(status), to: id, in: organization, by: actor)
        return try await self.response(id, context)
    }

    func changePriority(_ request: Request, context: AgentContext) async throws -> TicketResponse {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let input = try await request.decodeJSON(as: PriorityRequest.self, context: context)
        _ = try await self.writer.setPriority(
            try Self.priority(input.priority), of: id, in: context.organizationID, by: Self.actor(context))
        return try await self.response(id, context)
    }

    func changeTags(_ request: Request, context: AgentContext) async throws -> TicketResponse {
        try context.principal.require(.answerConversations)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let input = try await request.decodeJSON(as: TagsRequest.self, context: context)
        _ = try await self.writer.setTags(input.tags, of: id, in: context.organizationID, by: Self.actor(context))
        return try await self.response(id, context)
    }

    /// One action on up to 100 tickets; each succeeds or fails on its own.
    func bulk(_ request: Request, context: AgentContext) async throws -> BulkResponse {
        try context.principal.require(.answerConversations)
        let input = try await request.decodeJSON(as: BulkRequest.self, context: context)
        guard (1...100).contains(input.ids.count) else {
            throw ValidationError(field: "ids", message: "ids must list 1 to 100 tickets.")
        }
        let ids = try input.ids.map { text in
            guard let id = Ticket.ID(text) else {
                throw ValidationError(field: "ids", message: "\(text) is not a ticket id.")
            }
            return id
        }
        let organization = context.organizationID
        let actor = Self.actor(context)
        let writer = self.writer
        let work: @Sendable (Ticket.ID) async throws -> Void
        switch input.action {
        case "status":
            let status = try Self.status(input.status ?? "")
            work = { id in
                try await self.writer.apply(.changeStatus(status), to: id, in: organization, by: actor)
            }
        case "assign":
            let agent = try await self.agent(input.agentId, context)
            work = { id in
                try await self.writer.apply(.assign(agent), to: id, in: organization, by: actor)
            }
        case "priority":
            let priority = try Self.priority(input.priority ?? "")
            work = { _ = try await writer.setPriority(priority, of: $0, in: organization, by: actor) }
        case "tags":
            let tags = try Validate.tags(input.tags ?? [])
            work = { _ = try await writer.setTags(tags, of: $0, in: organization, by: actor) }
        default:
            throw ValidationError(field: "action", message: "action must be status, assign, priority or tags.")
        }
        var results: [BulkResponse.Result] = []
        for id in ids {
            do {
                try await work(id)
                results.append(.init(id: id.description, ok: true))
            } catch {
                results.append(.init(id: id.description, ok: false, error: "\(error)"))
            }
        }
        return BulkResponse(results: results)
    }

    func policies(_ request: Request, context: AgentContext) async throws -> PoliciesBody {
        try context.principal.require(.answerConversations)
        return PoliciesBody(policies: try await self.tickets.policies(in: context.organizationID))
    }

    func setPolicies(_ request: Request, context: AgentContext) async throws -> PoliciesBody {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: PoliciesBody.self, context: context)
        return PoliciesBody(policies: try await self.tickets.setPolicies(input.policies, in: context.organizationID))
    }

    func businessHours(_ request: Request, context: AgentContext) async throws -> BusinessHoursBody {
        try context.principal.require(.answerConversations)
        return BusinessHoursBody(try await self.tickets.calendar(in: context.organizationID))
    }

    func setBusinessHours(_ request: Request, context: AgentContext) async throws -> BusinessHoursBody {
        try context.principal.require(.manageSettings)
        let input = try await request.decodeJSON(as: BusinessHoursBody.self, context: context)
        return BusinessHoursBody(try await self.tickets.setCalendar(try input.calendar(), in: context.organizationID))
    }

    func agent(_ text: String?, _ context: AgentContext) async throws -> Agent.ID? {
        guard let text else { return nil }
        guard let id = Agent.ID(text) else {
            throw ValidationError(field: "agentId", message: "agentId is not an agent id.")
        }
        let agent = try await self.agents.find(id, in: context.organizationID)
        guard agent.isActive else { throw ValidationError(field: "agentId", message: "That agent is deactivated.") }
        return id
    }

    static func actor(_ context: AgentContext) -> TicketActor {
        context.principal.agent.map { .agent($0.id) } ?? .apiKey
    }

    static func status(_ text: String) throws -> TicketStatus {
        guard let status = TicketStatus(rawValue: text) else {
            throw ValidationError(
                field: "status",
                message: "status must be open, pending, in_progress, waiting_on_customer, resolved or closed.")
        }
        return status
    }

    static func priority(_ text: String) throws -> TicketPriority {
        guard let priority = TicketPriority(rawValue: text) else {
            throw ValidationError(field: "priority", message: "priority must be low, medium, high or urgent.")
        }
        return priority
    }
}

/// Business hours on the wire: `{"timeZone": "Europe/Paris", "weeklyHours": {"monday":
/// [{"start": "09:00", "end": "17:00"}]}, "holidays": ["2026-12-25"]}`; no hours at all means
/// always open.
struct BusinessHoursBody: ResponseEncodable, Decodable {
    struct Period: Codable {
        var start: String
        var end: String
    }
    var timeZone: String
    var weeklyHours: [String: [Period]]
    var holidays: [String]

    static let days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    init(_ calendar: BusinessCalendar) {
        self.timeZone = calendar.timeZone
        self.weeklyHours = [:]
        for (day, periods) in calendar.weeklyHours where (1...7).contains(day) {
            self.weeklyHours[Self.days[day - 1]] = periods.map {
                Period(start: Self.clock($0.start), end: Self.clock($0.end))
            }
        }
        self.holidays = calendar.holidays.sorted()
    }

    static func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    static func minutes(_ text: String, field: String) throws -> Int {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...24).contains(hours),
            (0...59).contains(minutes), hours * 60 + minutes <= 1440
        else { throw ValidationError(field: field, message: "\(field) must be a time like 09:00 (24:00 at most).") }
        return hours * 60 + minutes
    }

    func calendar() throws -> BusinessCalendar {
        var weekly: [Int: [BusinessCalendar.Period]] = [:]
        for (name, periods) in self.weeklyHours {
            guard let index = Self.days.firstIndex(of: name.lowercased()) else {
                throw ValidationError(field: "weeklyHours", message: "\(name) is not a day of the week.")
            }
            weekly[index + 1] = try periods.map {
                BusinessCalendar.Period(
                    start: try Self.minutes($0.start, field: "weeklyHours.\(name).start"),
                    end: try Self.minutes($0.end, field: "weeklyHours.\(name).end"))
            }
        }
        return BusinessCalendar(timeZone: self.timeZone, weeklyHours: weekly, holidays: Set(self.holidays))
    }
}

/// An identified visitor's own tickets: `/api/v1/tickets`. Internal notes never appear here.
public struct CustomerTicketController: Sendable {
    let tickets: TicketStore
    let chats: ChatStore
    let writer: TicketWriter

    public init(tickets: TicketStore, chats: ChatStore, writer: TicketWriter) {
        self.tickets = tickets
        self.chats = chats
        self.writer = writer
    }

    struct CreateRequest: Decodable {
        var subject: String
        var body: String
        var email: String?
        /// The requester's name, when the visitor has none yet (the offline form).
        var name: String?
    }
    struct ReplyRequest: Decodable {
        var body: String
        var attachments: [String]?
    }
    struct RateRequest: Decodable {
        var stars: Int
        var comment: String?
    }

    func addRoutes(to group: RouterGroup<VisitorContext>) {
        group.get("tickets", use: self.list)
        group.post("tickets", use: self.create)
        group.get("tickets/:ticket", use: self.show)
        group.post("tickets/:ticket/reply", use: self.reply)
        group.post("tickets/:ticket/close", use: self.close)
        group.post("tickets/:ticket/reopen", use: self.reopen)
        group.post("tickets/:ticket/rate", use: self.rate)
    }

    /// The visitor, who must be identified (signed by the site) to see tickets.
    func identified(_ context: VisitorContext) async throws -> Visitor {
        let visitor = try await self.chats.visitor(context.visitor.visitor, in: context.visitor.organization)
        guard visitor.externalID != nil else {
            throw DomainError.forbidden("Tickets are for signed-in users of this site (identify with a userHash).")
        }
        return visitor
    }

    func list(_ request: Request, context: VisitorContext) async throws -> PageResponse<TicketResponse> {
        let visitor = try await self.identified(context)
        var filter = TicketStore.Filter()
        filter.visitor = visitor.id
        let page = try await self.tickets.list(
            in: context.visitor.organization, filter: filter, page: try request.pageRequest())
        return PageResponse(page) { TicketResponse($0, forAgents: false) }
    }

    /// The offline form: an identified visitor, or anyone who gives an email.
    func create(_ request: Request, context: VisitorContext) async throws -> EditedResponse<TicketResponse> {
        let input = try await request.decodeJSON(as: CreateRequest.self, context: context)
        let visitor = try await self.chats.visitor(context.visitor.visitor, in: context.visitor.organization)
        guard let email = input.email ?? visitor.email else {
            throw ValidationError(field: "email", message: "email is required so the team can answer.")
        }
        let ticket = try await self.writer.create(
            .init(
                requesterEmail: email,
                requesterName: try visitor.name
                    ?? input.name.map { try Validate.text($0, field: "name", max: 120, allowEmpty: true) }.flatMap {
                        $0.isEmpty ? nil : $0
                    },
                visitorID: visitor.id, subject: input.subject,
                body: input.body, priority: nil), in: context.visitor.organization)
        let messages = try await self.tickets.messages(
            of: ticket.id, in: context.visitor.organization, includeInternal: false)
        return EditedResponse(status: .created, response: TicketResponse(ticket, messages: messages, forAgents: false))
    }

    func show(_ request: Request, context: VisitorContext) async throws -> TicketResponse {
        let visitor = try await self.identified(context)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let ticket = try await self.tickets.ticket(id, in: context.visitor.organization)
        guard ticket.visitorID == visitor.id else { throw DomainError.notFound(entity: "ticket") }
        let messages = try await self.tickets.messages(of: id, in: context.visitor.organization, includeInternal: false)
        return TicketResponse(ticket, messages: messages, forAgents: false)
    }

    func reply(_ request: Request, context: VisitorContext) async throws -> EditedResponse<TicketResponse> {
        let input = try await request.decodeJSON(as: ReplyRequest.self, context: context)
        return EditedResponse(
            status: .created,
            response: try await self.change(
                .customerReply, context,
                message: .init(
                    role: .customer, body: input.body,
                    attachments: try TicketController.attachmentIDs(input.attachments))))
    }

    func close(_ request: Request, context: VisitorContext) async throws -> TicketResponse {
        try await self.change(.customerClose, context)
    }

    func reopen(_ request: Request, context: VisitorContext) async throws -> TicketResponse {
        try await self.change(.customerReopen, context)
    }

    func rate(_ request: Request, context: VisitorContext) async throws -> TicketResponse {
        let input = try await request.decodeJSON(as: RateRequest.self, context: context)
        return try await self.change(.rate(stars: input.stars, comment: input.comment), context)
    }

    func change(_ event: TicketEvent, _ context: VisitorContext, message: TicketStore.NewMessage? = nil) async throws
        -> TicketResponse
    {
        let visitor = try await self.identified(context)
        let id = try context.id("ticket", as: Ticket.ID.self, entity: "ticket")
        let organization = context.visitor.organization
        let change = try await self.writer.apply(
            event, to: id, in: organization, message: message, visitor: visitor.id, by: .customer)
        let messages = try await self.tickets.messages(of: id, in: context.visitor.organization, includeInternal: false)
        return TicketResponse(change.ticket, messages: messages, forAgents: false)
    }
}
