import Hummingbird
import Foundation
public import ParleyStore

/// Probes and metrics for operators: `/healthz`, `/readyz`, `/metrics`.
public struct OperationsController: Sendable {
    let stores: Stores
    let metrics: @Sendable () -> String

    public init(stores: Stores, metrics: @escaping @Sendable () -> String) {
        self.stores = stores
        self.metrics = metrics
    }

    func addRoutes(to router: Router<ParleyRequestContext>) {
        router.get("healthz", use: self.health)
        router.get("readyz", use: self.ready)
        router.get("metrics", use: self.prometheus)
    }

    /// The process is up (no dependencies checked, so it is cheap).
    func health(_ request: Request, context: ParleyRequestContext) -> StatusResponse {
        StatusResponse(status: "ok")
    }

    /// The database answers; 503 when it does not.
    func ready(_ request: Request, context: ParleyRequestContext) async throws -> EditedResponse<StatusResponse> {
        do {
            try await self.stores.ping()
            return EditedResponse(status: .ok, response: StatusResponse(status: "ready"))
        } catch {
            context.logger.warning("Database not ready", metadata: ["parley.error": "\(error)"])
            return EditedResponse(status: .serviceUnavailable, response: StatusResponse(status: "database unavailable"))
        }
    }

    func prometheus(_ request: Request, context: ParleyRequestContext) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: self.metrics()))
        )
    }
}

/// Serves the OpenAPI document that describes every route.
struct OpenAPIController: Sendable {
    let document: ByteBuffer

    init() throws {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json", subdirectory: "Resources")
        else {
            throw CocoaError(.fileNoSuchFile)
        }
        self.document = ByteBuffer(bytes: try Data(contentsOf: url))
    }

    func addRoutes(to group: RouterGroup<ParleyRequestContext>) {
        group.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: self.document))
        }
    }
}
