public import Hummingbird
import Logging
import ParleyCore
public import ParleyStore

/// What the routes need from the rest of the application.
public struct HTTPDependencies: Sendable {
    public var stores: Stores
    /// The public URL, without a trailing slash (`https://support.example.com`).
    public var baseURL: String
    /// Renders the Prometheus text exposition.
    public var metrics: @Sendable () -> String

    public init(stores: Stores, baseURL: String, metrics: @escaping @Sendable () -> String) {
        self.stores = stores
        self.baseURL = baseURL
        self.metrics = metrics
    }
}

/// Builds every route of Parley. Other Hummingbird apps may mount the same controllers.
public func buildRouter(_ dependencies: HTTPDependencies) throws -> Router<ParleyRequestContext> {
    let stores = dependencies.stores
    let router = Router(context: ParleyRequestContext.self)
    router.addMiddleware {
        ErrorMiddleware()
        LogRequestsMiddleware(.debug)
        MetricsMiddleware()
    }
    OperationsController(stores: stores, metrics: dependencies.metrics).addRoutes(to: router)

    let api = router.group("api/v1")
    try OpenAPIController().addRoutes(to: api)
    let auth = AuthController(stores: stores, secureCookies: dependencies.baseURL.hasPrefix("https://"))
    auth.addPublicRoutes(to: api)

    let signedIn = api.group()
        .add(middleware: AuthenticationMiddleware(stores: stores))
        .group(context: AgentContext.self)
    auth.addRoutes(to: signedIn)

    let admin = signedIn.group("admin")
    AgentController(agents: stores.agents).addRoutes(to: admin.group("agents"))
    SiteController(sites: stores.sites, baseURL: dependencies.baseURL)
        .addRoutes(to: admin.group("sites").add(middleware: RequirePermission(.manageSites)))
    APIKeyController(apiKeys: stores.apiKeys)
        .addRoutes(to: admin.group("api-keys").add(middleware: RequirePermission(.manageAPIKeys)))
    return router
}
