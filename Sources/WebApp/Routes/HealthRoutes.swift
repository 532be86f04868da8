// Liveness, readiness and metrics: /healthz answers as long as the process serves HTTP, /readyz only once a
// model is loaded and warmed up (and says why not), /metrics in Prometheus' text format.
import Core
import Models
import Prometheus
import Hummingbird

struct HealthRoutes: Sendable {
    let dependencies: WebDependencies

    struct Readiness: Encodable {
        struct ModelState: Encodable {
            let name: String
            let state: String
            let reason: String?
        }
        let status: String
        let models: [ModelState]
    }

    func register(on router: Router<WebRequestContext>) {
        router.get("/healthz") { _, _ in JSONBody(["status": "alive"]) }
        router.get("/readyz") { _, _ in
            let ready = dependencies.models.isReady
            return JSONBody(Readiness(status: ready ? "ready" : "not ready", models: states()), status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: dependencies.metrics.registry.emitToBuffer())))
        }
    }

    private func states() -> [Readiness.ModelState] {
        dependencies.models.statuses().compactMap { status in
            switch status.state {
            case .ready: return .init(name: status.model.name, state: "ready", reason: nil)
            case .loading: return .init(name: status.model.name, state: "loading", reason: nil)
            case .failed(let reason): return .init(name: status.model.name, state: "failed", reason: reason)
            case .notPresent: return nil
            }
        }
    }
}
