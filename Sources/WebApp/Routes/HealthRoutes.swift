// Liveness, readiness and metrics: /healthz answers as long as the process serves HTTP, /readyz only once a
// model is loaded and warmed up (and says why not, and whether the catalog takes reports), /metrics in Prometheus'
// text format.
import Catalog
import Curation
import Hummingbird
import Inference
import Models
import Prometheus

struct HealthRoutes: Sendable {
    let dependencies: WebDependencies

    struct Readiness: Encodable {
        struct ModelState: Encodable {
            let name: String
            let state: String
            let reason: String?
        }
        struct CatalogState: Encodable {
            let state: String
            let reason: String?
        }
        let status: String
        let models: [ModelState]
        let catalog: CatalogState
    }

    func register(on router: Router<WebRequestContext>) {
        router.get("/healthz") { _, _ in JSONBody(["status": "alive"]) }
        router.get("/readyz") { _, _ in
            let draining = dependencies.drain.isDraining
            let ready = dependencies.models.isReady && !draining
            // Readiness follows the models: a server whose catalog fails still classifies, and says why the catalog does not work.
            return JSONBody(Readiness(status: draining ? "shutting down" : ready ? "ready" : "not ready", models: states(), catalog: catalogState()),
                            status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            dependencies.metrics.serverState(draining: dependencies.drain.isDraining, inFlight: dependencies.drain.inFlight)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: dependencies.metrics.registry.emitToBuffer())))
        }
    }

    private func catalogState() -> Readiness.CatalogState {
        switch dependencies.catalog.health() {
        case .ready:
            return .init(state: "ready", reason: nil)
        case .degraded(let fault):
            let answer = APIError.storage(fault)
            return .init(state: fault == .full ? "full" : fault == .readOnly ? "read_only" : "failing",
                         reason: "\(fault.summary): new reports get \(answer.status.code) \(answer.code) until it is fixed")
        case .unavailable(let fault):
            return .init(state: "unavailable", reason: APIError(CatalogError.unavailable(fault, detail: "")).message)
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
