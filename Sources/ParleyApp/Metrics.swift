import Metrics
import Prometheus
import Synchronization

/// The process's metrics registry. swift-metrics is bootstrapped once per process; every
/// application built in the same process (tests build many) shares it.
enum ParleyMetrics {
    private static let registry = Mutex<PrometheusCollectorRegistry?>(nil)

    static func bootstrap() -> PrometheusCollectorRegistry {
        self.registry.withLock { stored in
            if let stored { return stored }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            stored = registry
            return registry
        }
    }
}
