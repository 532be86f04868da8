// The readable API description at /api: every operation of /openapi.json, in the document's order, with its
// parameters, a curl example and, where one is written here, what it answers; then the errors. The operations and
// their words come from the document, so that no endpoint can be missing from this page; only the examples are here.
import Foundation

struct APIPage {
    /// Where this server is reached, for the examples ("http://127.0.0.1:8080").
    let origin: String
    /// The OpenAPI document as bundled (Resources/openapi.json).
    let document: Data
    /// The model this server answers with when none is named, as the examples name it (nil: no model is available,
    /// and the examples name the catalog's usual default).
    let defaultModel: String?

    private var exampleModel: String { defaultModel ?? "efficientnet_lite0" }

    /// One operation of the document.
    struct Operation {
        struct Parameter {
            let name: String
            let location: String
            let required: Bool
            let description: String
        }

        let method: String
        let path: String
        let summary: String
        let description: String
        let parameters: [Parameter]
        /// The media types of the request body, if it has one.
        let bodyTypes: [String]

        var key: String { "\(method) \(path)" }
    }

    /// The document's operations in its order; none when it cannot be read (the page then says so).
    static func operations(in document: Data) -> [Operation] {
        guard let root = try? JSONSerialization.jsonObject(with: document) as? [String: Any],
              let paths = root["paths"] as? [String: Any] else { return [] }
        // JSONSerialization forgets the order of keys; the document's own order is where each path first appears.
        let text = String(decoding: document, as: UTF8.self)
        let ordered = paths.keys.sorted { position(of: $0, in: text) < position(of: $1, in: text) }
        let methods = ["get", "post", "put", "patch", "delete"]
        return ordered.flatMap { path -> [Operation] in
            guard let item = paths[path] as? [String: Any] else { return [] }
            return methods.compactMap { method -> Operation? in
                guard let operation = item[method] as? [String: Any] else { return nil }
                let parameters = (operation["parameters"] as? [[String: Any]] ?? []).map { parameter in
                    Operation.Parameter(name: parameter["name"] as? String ?? "", location: parameter["in"] as? String ?? "",
                                        required: parameter["required"] as? Bool ?? false,
                                        description: parameter["description"] as? String ?? "")
                }
                let body = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any]
                return Operation(method: method.uppercased(), path: path, summary: operation["summary"] as? String ?? "",
                                 description: operation["description"] as? String ?? "", parameters: parameters,
                                 bodyTypes: body.map { Array($0.keys).sorted() } ?? [])
            }
        }
    }

    private static func position(of path: String, in text: String) -> String.Index {
        text.range(of: "\"\(path)\":")?.lowerBound ?? text.endIndex
    }

    /// A hand-written example and its answer, for the operations where the generated one would say too little.
    private struct Example {
        let request: String
        let answer: String?
    }

    /// The examples by "METHOD /path"; every other operation gets a generated curl line.
    private var examples: [String: Example] {
        let model = exampleModel
        return [
            "GET /api/v1/models": Example(request: "curl \(origin)/api/v1/models",
                answer: #"[{"name": "\#(model)", "inputSize": 224, "available": true, "default": true, "source": "…"}, …]"#),
            "POST /api/v1/classify": Example(
                request: "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' '\(origin)/api/v1/classify?top=5&expected=sports%20car'\n# or as a form:\ncurl -F image=@photo.jpg '\(origin)/api/v1/classify?model=\(model)'",
                answer: #"{"model": "\#(model)", "predictions": [{"index": 409, "label": "analog clock", "probability": 0.48}, …], "timing": {"decodeMs": 3.1, "queueMs": 0.2, "inferenceMs": 8.4, "totalMs": 12.6}, "image": {"sha256": "…", "width": 500, "height": 375}, "batchSize": 1, "expected": {"index": 817, "label": "sports car", "probability": 0.0012, "rank": 41}}"#),
            "GET /api/v1/classes": Example(request: "curl '\(origin)/api/v1/classes?q=husky&limit=8'",
                answer: #"{"query": "husky", "classes": [{"index": 248, "wordNetID": "n02109961", "label": "Eskimo dog", "matched": "husky"}, {"index": 250, "wordNetID": "n02110185", "label": "Siberian husky", "matched": "Siberian husky"}]}"#),
            "POST /api/v1/probe": Example(
                request: "curl --data-binary @car.png -H 'Content-Type: image/png' '\(origin)/api/v1/probe?model=\(model)&expected=sports%20car'",
                answer: #"{"variants": 121, "models": [{"model": "\#(model)", "originalHit": false, "families": [{"family": "rotate", "firstFlip": null, "firstRescue": {"value": 150, "label": "150°"}, …}, …]}], …}"#),
            "POST /api/v1/explain": Example(
                request: "curl --data-binary @car.png -H 'Content-Type: image/png' -H 'Accept: application/json' '\(origin)/api/v1/explain?model=\(model)&class=sports%20car&method=superpixels'\n# or the heatmap as PNG:\ncurl --data-binary @car.png -H 'Content-Type: image/png' -o heat.png '\(origin)/api/v1/explain?class=sports%20car'",
                answer: #"[{"model": "\#(model)", "class": {"index": 817, "label": "sports car"}, "baseProbability": 0.012, "maxDrop": 0.0004, "scaleMaximum": 0.01, "muted": true, "caption": "Hiding any single part changes 'sports car' (1.2%) by less than 1 point: the largest drop is 0.04 points, so nothing is coloured.", "overlay": "data:image/png;base64,…", …}]"#),
            "POST /api/v1/blindspots": Example(
                request: "curl -F image=@car.png -F expected='sports car' -F note='upside down' -F category=upside-down-cars \(origin)/api/v1/blindspots",
                answer: #"{"id": 12, "status": "pending", "url": "/blindspots/12", "imageURL": "/api/v1/blindspots/12/image", "expected": {"index": 817, "label": "sports car"}, "category": "upside-down-cars", "confirmations": 1, "verdicts": [{"model": "\#(model)", "predictions": […], "expectedRank": 37, "holds": true, …}], …}"#),
            "GET /api/v1/blindspots": Example(request: "curl '\(origin)/api/v1/blindspots?model=\(model)&q=car'",
                answer: #"{"reports": [{"id": 12, …}], "total": 1, "page": 1, "pageSize": 24}"#),
            "GET /api/v1/blindspots/{id}": Example(request: "curl \(origin)/api/v1/blindspots/12",
                answer: #"{"id": 12, "current": [{"model": "\#(model)", "expectedRank": 37, "holds": true, …}], …}"#),
            "PATCH /api/v1/blindspots/{id}": Example(
                request: "curl -X PATCH -H \"Authorization: Bearer $BLINDSPOT_ADMIN_TOKEN\" -d '{\"status\": \"approved\"}' \(origin)/api/v1/blindspots/12",
                answer: #"{"id": 12, "status": "approved", …}"#),
            "GET /api/v1/categories": Example(request: "curl \(origin)/api/v1/categories",
                answer: #"[{"slug": "upside-down-cars", "title": "Upside down cars", "finding": "…"}]"#),
            "GET /api/v1/examples": Example(request: "curl \(origin)/api/v1/examples",
                answer: #"[{"id": 1, "category": "upside-down-cars", "title": "Upside down cars", "imageAvailable": true, "imageURL": "/examples/1/image", "pageURL": "/examples/1", …}]"#),
            "GET /healthz": Example(request: "curl \(origin)/healthz", answer: #"{"status": "alive"}"#),
            "GET /readyz": Example(request: "curl -i \(origin)/readyz",
                answer: #"{"status": "ready", "models": [{"name": "\#(model)", "state": "ready"}], "catalog": {"state": "ready"}}"#),
            "GET /metrics": Example(request: "curl \(origin)/metrics",
                answer: "blindspot_batch_size_images_bucket{model=\"\(model)\",le=\"1.0\"} 12 …"),
        ]
    }

    /// A curl line for an operation without a hand-written example: path parameters filled with 1, an image body
    /// sent as JPEG.
    private func generatedExample(_ operation: Operation) -> String {
        let path = operation.path.replacingOccurrences(of: "{id}", with: "1")
        let method = operation.method == "GET" ? "" : (operation.method == "POST" ? "" : "-X \(operation.method) ")
        if operation.bodyTypes.contains("image/jpeg") {
            return "curl \(method)--data-binary @photo.jpg -H 'Content-Type: image/jpeg' '\(origin)\(path)'"
        }
        if operation.method == "POST", operation.bodyTypes.contains("multipart/form-data") {
            return "curl -F image=@photo.jpg '\(origin)\(path)'"
        }
        return "curl \(method)\(origin)\(path)"
    }

    private static let errors: [(status: Int, codes: [String], meaning: String)] = [
        (400, ["invalid_image", "invalid_form", "missing_image", "missing_expected", "bad_parameter", "note_too_long", "invalid_json", "json_too_deep", "bad_status", "bad_action"],
         "the image cannot be decoded, or the request is malformed (a form field other than the image over 64 KB, JSON nested over 16 deep)"),
        (401, ["unauthorized", "invalid_token"], "moderation without the admin token, or with a wrong one (with WWW-Authenticate: Bearer)"),
        (403, ["admin_only", "admin_disabled", "cross_site_request", "bad_csrf_token"],
         "a status only admins list, moderation on a server without an admin token, a state-changing request sent from another site, or a form or cookie-authenticated change without its CSRF token"),
        (404, ["unknown_model", "not_found"], "no such model, report or page"),
        (405, ["method_not_allowed"], "the path does not answer that method; the Allow header lists those it does"),
        (409, ["model_not_present"], "a known model whose weights this server does not have (fetch them with blindspot models fetch NAME)"),
        (408, ["timeout"], "the request body did not arrive in time"),
        (413, ["too_large"], "the body is over the server's limit"),
        (415, ["unsupported_type"], "not a JPEG, PNG, WebP or GIF (judged from the bytes), or no image Content-Type"),
        (422, ["too_many_pixels", "decode_too_slow", "unknown_label", "invalid_report"],
         "the image is over the pixel limit or took over the decode time limit, a class is not one of the 1000 (the error's suggestions then name the nearest classes), or a report breaks a rule (category name, name length)"),
        (429, ["rate_limited"], "too many requests from one client; Retry-After says when to try again"),
        (500, ["storage_failed", "internal", "transform_failed", "image_missing"],
         "the catalog's storage failed for an unknown reason, or the server failed to answer (its log says which), or a report's image is missing from the catalog"),
        (503, ["overloaded", "model_loading", "model_unavailable", "busy", "shutting_down", "unavailable"],
         "the model's queue or the analyses' queue is full, the model is still loading or failed to load, the server is stopping, or the image library is unavailable; Retry-After says when to try again"),
        (503, ["storage_read_only", "storage_busy", "database_unavailable"], "the catalog's storage is read-only, its database stayed locked through the server's retries, or cannot be reached; nothing was stored; Retry-After says when to try again"),
        (503, ["catalog_unavailable"], "the catalog could not be opened when the server started; everything else works"),
        (507, ["insufficient_storage"], "the catalog's disk is full; nothing was stored"),
    ]

    private func section(_ operation: Operation) -> String {
        let example = examples[operation.key]
        let parameters: String = operation.parameters.isEmpty ? "" : """
            <dl class="parameters">
            \(operation.parameters.map { parameter in
                let required = parameter.required ? " <span class=\"required\">required</span>" : ""
                let description = parameter.description.isEmpty ? "" : HTML.escape(parameter.description)
                return "<dt><code>\(HTML.escape(parameter.name))</code> <span class=\"where\">\(HTML.escape(parameter.location))</span>\(required)</dt><dd>\(description)</dd>"
            }.joined(separator: "\n"))
            </dl>
            """
        let body = operation.bodyTypes.isEmpty ? "" : "<p class=\"body-types\">Body: \(operation.bodyTypes.map { "<code>\(HTML.escape($0))</code>" }.joined(separator: " "))</p>"
        let answer = example?.answer.map { "<p>Answer:</p>\n<pre><code>\(HTML.escape($0))</code></pre>" } ?? ""
        return """
        <section class="endpoint" id="\(HTML.escape(Self.anchor(operation)))">
        <h2><code>\(HTML.escape(operation.method)) \(HTML.escape(operation.path))</code></h2>
        <p class="summary">\(HTML.escape(operation.summary))</p>
        \(operation.description.isEmpty ? "" : "<p>\(HTML.escape(operation.description))</p>")
        \(parameters)
        \(body)
        <pre><code>\(HTML.escape(example?.request ?? generatedExample(operation)))</code></pre>
        \(answer)
        </section>
        """
    }

    private var defaultModelSentence: String {
        guard let defaultModel else { return "No model is available on this server yet." }
        return "Without <code>model</code>, this server answers with <code>\(HTML.escape(defaultModel))</code>."
    }

    private static func anchor(_ operation: Operation) -> String {
        let path = operation.path.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        return "\(operation.method.lowercased())\(path)"
    }

    func render() -> String {
        let operations = Self.operations(in: document)
        let contents: String = operations.map { operation in
            "<li><a href=\"#\(HTML.escape(Self.anchor(operation)))\"><code>\(HTML.escape(operation.method)) \(HTML.escape(operation.path))</code></a> \(HTML.escape(operation.summary))</li>"
        }.joined(separator: "\n")
        let sections: String = operations.map(section).joined(separator: "\n")
        let errorRows: String = Self.errors.map { error in
            let codes = error.codes.map { "<code>\(HTML.escape($0))</code>" }.joined(separator: " ")
            return "<tr><td>\(error.status)</td><td class=\"codes\">\(codes)</td><td>\(HTML.escape(error.meaning))</td></tr>"
        }.joined(separator: "\n")
        let missing = operations.isEmpty ? "<p class=\"notice\">The API document could not be read; see <a href=\"/openapi.json\">/openapi.json</a>.</p>" : ""
        let body = """
        <article class="api-doc">
        <h1>Blindspot API</h1>
        <p>JSON over HTTP. The machine-readable contract is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1); \
        this page shows each of its \(operations.count) operations. \(defaultModelSentence) Errors are listed \
        <a href="#errors">after the endpoints</a>.</p>
        \(missing)
        <nav aria-label="Endpoints"><ul class="endpoint-index">
        \(contents)
        </ul></nav>
        \(sections)
        <section class="api-errors" aria-labelledby="errors">
        <h2 id="errors">Errors</h2>
        <p>Every error is <code>{"error": {"code": "…", "message": "…"}}</code> with one of these statuses:</p>
        <table class="errors"><thead><tr><th scope="col">Status</th><th scope="col">Codes</th><th scope="col">When</th></tr></thead>
        <tbody>
        \(errorRows)
        </tbody></table>
        </section>
        </article>
        """
        return HTML.document(title: "Blindspot API", body: body)
    }
}
