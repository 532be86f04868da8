// The readable API description at /api: every endpoint with a curl example and what it answers.
// The machine-readable contract is /openapi.json; this page is for people.
struct APIPage {
    /// Where this server is reached, for the examples ("http://127.0.0.1:8080").
    let origin: String

    private struct Endpoint {
        let method: String
        let path: String
        let summary: String
        let example: String
        let answer: String
    }

    private var endpoints: [Endpoint] {
        [
            Endpoint(method: "GET", path: "/api/v1/models", summary: "Every model Blindspot knows, whether this server offers it, and which one answers by default.",
                     example: "curl \(origin)/api/v1/models",
                     answer: #"[{"name": "efficientnet_lite0", "inputSize": 224, "available": true, "default": true, "source": "efficientnet-lite0-57934424.pth"}]"#),
            Endpoint(method: "POST", path: "/api/v1/classify?model=NAME&top=K&expected=CLASSES",
                     summary: "Classifies one image sent as the body (Content-Type image/jpeg, image/png, image/webp or image/gif) or as the multipart field image. model defaults to the default model, top to 5 (at most 1000). expected (optional) is a comma-separated list of class indices, WordNet ids or exact names; the answer then gives the best-ranked of them.",
                     example: "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' '\(origin)/api/v1/classify?top=5&expected=sports%20car'\n# or as a form:\ncurl -F image=@photo.jpg '\(origin)/api/v1/classify?model=efficientnet_lite0'",
                     answer: #"{"model": "efficientnet_lite0", "predictions": [{"index": 409, "label": "analog clock", "probability": 0.48}, …], "timing": {"decodeMs": 3.1, "queueMs": 0.2, "inferenceMs": 8.4, "totalMs": 12.6}, "image": {"sha256": "…", "width": 500, "height": 375}, "batchSize": 1, "expected": {"index": 817, "label": "sports car", "probability": 0.0012, "rank": 41}}"#),
            Endpoint(method: "POST", path: "/api/v1/blindspots",
                     summary: "Reports a blind spot: a multipart form with the image, the class it should have been given (index, WordNet id or exact name), and optionally a note, a category (an existing slug, or the title of a new one) and your name. Every model present judges it at once. New reports are pending: reachable at their link, listed once an admin approves them. The same image reported again with the same class answers 200 and counts a confirmation.",
                     example: "curl -F image=@car.png -F expected='sports car' -F note='upside down' -F category=upside-down-cars \(origin)/api/v1/blindspots",
                     answer: #"{"id": 12, "status": "pending", "url": "/blindspots/12", "imageURL": "/api/v1/blindspots/12/image", "expected": {"index": 817, "label": "sports car"}, "category": "upside-down-cars", "confirmations": 1, "verdicts": [{"model": "efficientnet_lite0", "weightsDigest": "…", "predictions": […], "expectedRank": 37, "holds": true, …}], …}"#),
            Endpoint(method: "GET", path: "/api/v1/blindspots?category=&expected=&model=&q=&page=",
                     summary: "Approved reports, newest first, 24 a page. model lists the reports whose blind spot still holds for that model; q searches notes, classes and categories. With the admin token, status=pending or rejected lists the others.",
                     example: "curl '\(origin)/api/v1/blindspots?model=efficientnet_lite0&q=car'",
                     answer: #"{"reports": [{"id": 12, …}], "total": 1, "page": 1, "pageSize": 24}"#),
            Endpoint(method: "GET", path: "/api/v1/blindspots/ID and /api/v1/blindspots/ID/image",
                     summary: "One report, whatever its status, with what each model present says now; and its image, re-encoded as PNG.",
                     example: "curl \(origin)/api/v1/blindspots/12", answer: #"{"id": 12, "current": [{"model": "efficientnet_lite0", "expectedRank": 37, "holds": true, …}], …}"#),
            Endpoint(method: "PATCH / DELETE", path: "/api/v1/blindspots/ID",
                     summary: "Moderation, with the admin token: set the status to approved, rejected or pending, or delete the report (204).",
                     example: "curl -X PATCH -H \"Authorization: Bearer $BLINDSPOT_ADMIN_TOKEN\" -d '{\"status\": \"approved\"}' \(origin)/api/v1/blindspots/12",
                     answer: #"{"id": 12, "status": "approved", …}"#),
            Endpoint(method: "GET", path: "/api/v1/categories", summary: "The catalog's categories: the post's eight once imported, and those reporters created.",
                     example: "curl \(origin)/api/v1/categories", answer: #"[{"slug": "upside-down-cars", "title": "Upside down cars", "finding": "…"}]"#),
            Endpoint(method: "GET", path: "/api/v1/examples", summary: "The post's examples this server has: category, finding, expected classes, what the post's Inception v3 answered, and their links.",
                     example: "curl \(origin)/api/v1/examples",
                     answer: #"[{"id": 1, "category": "upside-down-cars", "title": "Upside down cars", "imageAvailable": true, "imageURL": "/examples/1/image", "pageURL": "/examples/1", …}]"#),
            Endpoint(method: "GET", path: "/healthz", summary: "Liveness: answers while the process serves HTTP.",
                     example: "curl \(origin)/healthz", answer: #"{"status": "alive"}"#),
            Endpoint(method: "GET", path: "/readyz", summary: "Readiness: 200 once a model is loaded and warmed up, 503 before, with each model's state and, for a failed load, the reason; and whether the catalog takes reports (ready, full, read_only, failing, or unavailable when it could not be opened at start), with the reason.",
                     example: "curl -i \(origin)/readyz",
                     answer: #"{"status": "ready", "models": [{"name": "efficientnet_lite0", "state": "ready"}], "catalog": {"state": "ready"}}"#),
            Endpoint(method: "GET", path: "/metrics", summary: "Prometheus metrics: requests by route and status, request latency, and per model the queue depth, batch sizes and inference time.",
                     example: "curl \(origin)/metrics", answer: "blindspot_batch_size_images_bucket{model=\"efficientnet_lite0\",le=\"1.0\"} 12 …"),
        ]
    }

    private static let errors: [(status: Int, code: String, meaning: String)] = [
        (400, "invalid_image, invalid_form, missing_image, missing_expected, bad_parameter, note_too_long, invalid_json, json_too_deep, bad_status",
         "the image cannot be decoded, or the request is malformed (a form field other than the image over 64 KB, JSON nested over 16 deep)"),
        (401, "unauthorized, invalid_token", "moderation without the admin token, or with a wrong one (with WWW-Authenticate: Bearer)"),
        (403, "admin_only, admin_disabled, cross_site_request, bad_csrf_token",
         "a status only admins list, moderation on a server without an admin token, a state-changing request sent from another site, or a form or cookie-authenticated change without its CSRF token"),
        (404, "unknown_model, not_found", "no such model, report or page"),
        (405, "method_not_allowed", "the path does not answer that method; the Allow header lists those it does"),
        (409, "model_not_present", "a known model whose weights this server does not have (fetch them with blindspot models fetch NAME)"),
        (413, "too_large", "the body is over the server's limit"),
        (415, "unsupported_type", "not a JPEG, PNG, WebP or GIF (judged from the bytes), or no image Content-Type"),
        (422, "too_many_pixels, decode_too_slow, unknown_label, invalid_report",
         "the image is over the pixel limit (checked before decoding) or took over the decode time limit, a class is not one of the 1000, or a report breaks a rule (category name, name length)"),
        (500, "storage_failed", "the catalog's storage failed for an unknown reason (the server's log says which)"),
        (503, "overloaded, model_loading", "the model's queue is full or it is still loading; the Retry-After header says when to try again"),
        (503, "storage_read_only, storage_busy, database_unavailable", "the catalog's storage is read-only, its database stayed locked through the server's retries, or cannot be reached; nothing was stored; Retry-After says when to try again"),
        (503, "catalog_unavailable", "the catalog could not be opened when the server started; everything else works"),
        (507, "insufficient_storage", "the catalog's disk is full; nothing was stored"),
    ]

    func render() -> String {
        let sections = endpoints.map { endpoint in
            """
            <section class="endpoint">
            <h2><code>\(HTML.escape(endpoint.method)) \(HTML.escape(endpoint.path))</code></h2>
            <p>\(HTML.escape(endpoint.summary))</p>
            <pre><code>\(HTML.escape(endpoint.example))</code></pre>
            <p>Answer:</p>
            <pre><code>\(HTML.escape(endpoint.answer))</code></pre>
            </section>
            """
        }.joined(separator: "\n")
        let errorRows = Self.errors.map {
            "<tr><td>\($0.status)</td><td><code>\(HTML.escape($0.code))</code></td><td>\(HTML.escape($0.meaning))</td></tr>"
        }.joined(separator: "\n")
        let body = """
        <article class="api-doc">
        <h1>Blindspot API</h1>
        <p>JSON over HTTP. The machine-readable contract is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).
        Every error is <code>{"error": {"code": "…", "message": "…"}}</code> with one of these statuses:</p>
        <table class="errors"><thead><tr><th scope="col">Status</th><th scope="col">Codes</th><th scope="col">When</th></tr></thead>
        <tbody>
        \(errorRows)
        </tbody></table>
        \(sections)
        </article>
        """
        return HTML.document(title: "Blindspot API", body: body)
    }
}
