// The catalog over HTTP: filing reports (the demo's FLAG), listing and reading them, their images, and
// moderation through the API (admin token) and through the pages (session cookie + CSRF token). Handlers parse,
// check, call CatalogService or the store, and render.
import Catalog
import Curation
import Foundation
import Hummingbird
import Inference
import Models

struct CatalogRoutes: Sendable {
    let configuration: WebConfiguration
    let dependencies: WebDependencies
    var catalog: CatalogService { dependencies.catalog }
    var admin: AdminAccess { dependencies.admin }

    func register(on router: Router<WebRequestContext>) {
        router.post("/api/v1/blindspots") { request, context in try await file(request, context: context) }
        router.get("/api/v1/blindspots") { request, _ in
            let isAdmin = admin.isAdmin(request)
            let page = try await catalog.store.list(try query(request, isAdmin: isAdmin))
            let categories = try await catalog.store.categories()
            return JSONBody(ReportListView(reports: page.reports.map { ReportView($0, categories: categories) }, total: page.total,
                                           page: page.page, pageSize: page.pageSize))
        }
        router.get("/api/v1/blindspots/:id") { _, context in JSONBody(try await view(try await current(try report(context)))) }
        router.get("/api/v1/blindspots/:id/image") { _, context in try await image(of: try await report(context)) }
        router.patch("/api/v1/blindspots/:id") { request, context in
            try admin.requireToChange(request)
            let expected = "{\"status\": \"approved\"}, \"rejected\" or \"pending\""
            let change = try await RequestBodies(configuration).json(StatusChange.self, from: request, expected: expected)
            guard let status = ReportStatus(rawValue: change.status) else { throw APIError.badRequest("send \(expected)", code: "bad_status") }
            guard let report = try await catalog.store.setStatus(status, of: try id(context)) else { throw notFound(try id(context)) }
            return JSONBody(try await view(report))
        }
        router.delete("/api/v1/blindspots/:id") { request, context in
            try admin.requireToChange(request)
            guard try await catalog.delete(id: try id(context)) != nil else { throw notFound(try id(context)) }
            return Response(status: .noContent)
        }
        router.get("/api/v1/categories") { _, _ in JSONBody(try await catalog.store.categories()) }

        router.get("/blindspots") { request, _ in
            let isAdmin = admin.isAdmin(request)
            let query = try query(request, isAdmin: isAdmin)
            let page = try await catalog.store.list(query)
            let categories = try await catalog.store.categories()
            return HTMLBody(ReportListPage(reports: page.reports.map { ReportView($0, categories: categories) }, total: page.total, query: query,
                                           categories: categories, models: dependencies.models.readySchedulers().map(\.classifier.model.name),
                                           labels: dependencies.labels, isAdmin: isAdmin).render())
        }
        router.get("/blindspots/:id") { request, context in
            let isAdmin = admin.isAdmin(request)
            let report = try await view(try await current(try report(context)))
            return HTMLBody(ReportDetailPage(report: report, isAdmin: isAdmin, csrfToken: isAdmin ? admin.csrfToken : nil,
                                          message: request.uri.queryParameters.get("done")).render())
        }
        router.get("/admin") { request, context in try await adminPage(request, context: context, message: request.uri.queryParameters.get("done")) }
        router.post("/admin/login") { request, context in
            let form = try await urlEncodedForm(request)
            guard AdminAccess.validLoginToken(request, formToken: form["csrf"]) else { throw AdminAccess.badCSRF }
            guard admin.accepts(token: form["token"] ?? "") else {
                var response = try await adminPage(request, context: context, message: admin.isConfigured ? "That token is not the admin token." : nil)
                response.status = .unauthorized
                return response
            }
            var response = Response.redirect(to: "/admin", type: .normal)
            response.setCookie(Cookie(name: AdminAccess.cookieName, value: admin.sessionValue ?? "", path: "/", secure: false, httpOnly: true,
                                      sameSite: .strict))
            return response
        }
        router.post("/admin/logout") { request, _ in
            let form = try await urlEncodedForm(request)
            guard admin.validCSRF(form["csrf"]) else { throw AdminAccess.badCSRF }
            var response = Response.redirect(to: "/", type: .normal)
            response.setCookie(Cookie(name: AdminAccess.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        router.post("/admin/blindspots/:id") { request, context in
            try admin.require(request)
            let form = try await urlEncodedForm(request)
            guard admin.validCSRF(form["csrf"]) else { throw AdminAccess.badCSRF }
            let id = try id(context)
            let done: String
            switch form["action"] {
            case "approve", "reject", "pending":
                let status: ReportStatus = form["action"] == "approve" ? .approved : form["action"] == "reject" ? .rejected : .pending
                guard try await catalog.store.setStatus(status, of: id) != nil else { throw notFound(id) }
                done = "Report \(id) is \(status.rawValue)."
            case "delete":
                guard try await catalog.delete(id: id) != nil else { throw notFound(id) }
                done = "Report \(id) is deleted."
            default:
                throw APIError.badRequest("the action must be approve, reject, pending or delete", code: "bad_action")
            }
            let target = form["return"].flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") ? $0 : nil } ?? "/admin"
            let back = form["action"] == "delete" && target.hasPrefix("/blindspots/") ? "/admin" : target
            let separator = back.contains("?") ? "&" : "?"
            return Response.redirect(to: back + separator + "done=" + (done.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""), type: .normal)
        }
    }

    private struct StatusChange: Decodable {
        let status: String
    }

    /// A report filed through the API or the demo's FLAG: 201 when new, 200 when it confirmed an existing one.
    private func file(_ request: Request, context: WebRequestContext) async throws -> Response {
        let upload = try await RequestBodies(configuration).upload(request)
        guard let form = upload.form else {
            throw APIError.unsupportedMediaType(request.headers[.contentType])
        }
        guard let expectedText = form["expected"]?.text?.trimmingCharacters(in: .whitespacesAndNewlines), !expectedText.isEmpty else {
            throw APIError.badRequest("say which class the image should have been given in the field 'expected'", code: "missing_expected")
        }
        let expected = try dependencies.labels.require(expectedText)
        let note = (form["note"]?.text ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        guard note.unicodeScalars.count <= CatalogLimits.noteLength else {
            throw APIError.badRequest("the note is \(note.unicodeScalars.count) characters; the limit is \(CatalogLimits.noteLength)", code: "note_too_long")
        }
        let rawCategory = form["category"]?.text ?? ""
        guard rawCategory.unicodeScalars.count <= CatalogLimits.categoryTitleLength else {
            throw APIError.badRequest("the category is \(rawCategory.unicodeScalars.count) characters; the limit is \(CatalogLimits.categoryTitleLength)",
                                      code: "bad_parameter")
        }
        let categoryText = rawCategory.trimmingCharacters(in: .whitespacesAndNewlines)
        let known = try await catalog.store.categories()
        let category: CategoryChoice? = categoryText.isEmpty ? nil
            : known.contains { $0.slug == categoryText } ? .existing(slug: categoryText) : .new(title: categoryText)
        let (report, merged) = try await catalog.report(image: upload.image, expected: expected, note: note, category: category,
                                                        reporter: form["reporter"]?.text)
        var response = try JSONBody(try await view(report), status: merged ? .ok : .created).response(from: request, context: context)
        response.headers[.location] = "/api/v1/blindspots/\(report.id)"
        return response
    }

    private func query(_ request: Request, isAdmin: Bool) throws -> ReportQuery {
        let parameters = QueryParameters(request)
        var status: ReportStatus = .approved
        if let wanted = parameters["status"] {
            guard let parsed = ReportStatus(rawValue: wanted) else { throw APIError.badRequest("status is pending, approved or rejected", code: "bad_parameter") }
            guard isAdmin || parsed == .approved else {
                throw APIError(status: .forbidden, code: "admin_only", message: "only admins list \(wanted) reports")
            }
            status = parsed
        }
        let expected = try parameters["expected"].map(dependencies.labels.require)
        return ReportQuery(category: parameters["category"], expected: expected, model: parameters["model"], status: status, text: parameters["q"],
                           page: try parameters.integer("page", default: 1, range: 1...100_000))
    }

    private func id(_ context: WebRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init), id > 0 else { throw APIError.notFound("there is no such report") }
        return id
    }

    private func report(_ context: WebRequestContext) async throws -> FiledReport {
        let id = try id(context)
        guard let report = try await catalog.store.report(id: id) else { throw notFound(id) }
        return report
    }

    /// The report with a verdict from every model present now (a failure to judge it leaves it as it was).
    private func current(_ report: FiledReport) async -> FiledReport {
        (try? await catalog.current(report)) ?? report
    }

    private func view(_ report: FiledReport) async throws -> ReportView {
        ReportView(report, categories: try await catalog.store.categories())
    }

    private func image(of report: FiledReport) async throws -> Response {
        guard let data = try await catalog.images.display(sha256: report.image.sha256) else {
            throw APIError(status: .internalServerError, code: "image_missing", message: "the image of report \(report.id) is missing from the catalog")
        }
        return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "public, max-age=86400, immutable"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func adminPage(_ request: Request, context: WebRequestContext, message: String?) async throws -> Response {
        let isAdmin = admin.isAdmin(request)
        var pending: [ReportView] = []
        if isAdmin {
            let categories = try await catalog.store.categories()
            pending = try await catalog.store.list(ReportQuery(status: .pending, pageSize: 200)).reports.reversed().map { ReportView($0, categories: categories) }
        }
        // Before logging in, the form gets a random token that is also set as a cookie only this site's pages see.
        let loginToken = isAdmin || !admin.isConfigured ? nil : AdminAccess.newLoginToken()
        var response = try HTMLBody(AdminPage(adminConfigured: admin.isConfigured, isAdmin: isAdmin, pending: pending,
                                              csrfToken: isAdmin ? admin.csrfToken : loginToken, message: message).render())
            .response(from: request, context: context)
        if let loginToken {
            response.setCookie(Cookie(name: AdminAccess.loginCookieName, value: loginToken, path: "/admin", secure: false, httpOnly: true,
                                      sameSite: .strict))
        }
        return response
    }

    private func urlEncodedForm(_ request: Request) async throws -> [String: String] {
        URLEncodedFields.decode(String(decoding: try await RequestBodies(configuration).collect(request, limit: 16_384), as: UTF8.self))
    }

    private func notFound(_ id: Int64) -> APIError {
        APIError.notFound("there is no report \(id)")
    }
}
