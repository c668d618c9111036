public import Hummingbird
public import Logging
import ParleyCore
import ParleyHTTP
public import ParleyStore
import ServiceLifecycle

/// Builds Parley as a Hummingbird application: the database engine (opened from the
/// configuration, or the one given), the stores, the routes and the background services.
///
/// Pending migrations and first start run before the server accepts connections. Pass an
/// engine to embed Parley beside an engine you run yourself (tests do); then it is not added as a
/// service here.
public func buildApplication(
    _ configuration: ParleyConfiguration,
    logger: Logger = Logger(label: "parley"),
    database: (any DatabaseEngine)? = nil,
    output: @escaping @Sendable (String) -> Void = { print($0) }
) async throws -> some ApplicationProtocol {
    let engine: any DatabaseEngine
    if let database {
        engine = database
    } else {
        engine = try await Databases.open(configuration.databaseURL, logger: logger)
    }
    let stores = Stores(engine: engine, hasher: PasswordHasher(cost: configuration.bcryptCost))
    let registry = ParleyMetrics.bootstrap()
    let router = try buildRouter(
        HTTPDependencies(stores: stores, baseURL: configuration.baseURL, metrics: { registry.emitToString() }))
    let started = StartupGate()
    let jobRunner = JobRunner(
        jobs: stores.jobs, handlers: [Maintenance.kind: Maintenance.handler(stores)], ready: started,
        logger: logger)

    var services: [any Service] = []
    if database == nil { services.append(engine) }
    services.append(jobRunner)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Parley"),
        services: services,
        logger: logger
    )
    app.beforeServerStarts {
        if configuration.autoMigrate {
            try await Migrator.migrate(engine, logger: logger)
        }
        try await FirstStart.run(stores: stores, configuration: configuration, output: output)
        try await Maintenance.schedule(stores)
        started.open()
        logger.info(
            "Parley is listening",
            metadata: ["parley.url": "\(configuration.baseURL)", "parley.database": "\(configuration.databaseURL)"])
    }
    return app
}
