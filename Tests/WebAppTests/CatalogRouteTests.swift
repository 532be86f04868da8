// The catalog over HTTP with the real efficientnet_lite0: filing (and merging) reports, what the public and an
// admin may list, moderation by token and by the admin pages' cookie + CSRF token, cross-site refusal, escaping,
// and many reports at once.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WebApp

@Suite(.serialized) struct CatalogRouteTests {
    static func reportForm(_ image: Data, expected: String, note: String = "", category: String = "", reporter: String = "") -> (body: ByteBuffer, contentType: String) {
        var fields: [(name: String, filename: String?, contentType: String?, data: Data)] = [("image", "photo.jpg", "image/jpeg", image),
                                                                                               ("expected", nil, nil, Data(expected.utf8))]
        if !note.isEmpty { fields.append(("note", nil, nil, Data(note.utf8))) }
        if !category.isEmpty { fields.append(("category", nil, nil, Data(category.utf8))) }
        if !reporter.isEmpty { fields.append(("reporter", nil, nil, Data(reporter.utf8))) }
        return Photos.multipart(fields)
    }

    static func file(_ client: any TestClientProtocol, _ form: (body: ByteBuffer, contentType: String), headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: form.contentType]
        headers.append(contentsOf: extra)
        return try await client.execute(uri: "/api/v1/blindspots", method: .post, headers: headers, body: form.body)
    }

    static let bearer: HTTPFields = [.authorization: "Bearer \(TestServer.adminToken)"]

    @Test func aReportIsFiledPendingMergedOnRepeatAndModeratedByTheAdmin() async throws {
        let server = try await TestServer.make(.efficientnetLite0)
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let note = "<script>alert(1)</script> not a fish?"
        try await server.test { client in
            let created = try await Self.file(client, Self.reportForm(photo, expected: "goldfish", note: note, category: "Fish that are not goldfish",
                                                                     reporter: "Ada"))
            #expect(created.status == .created)
            let report = try #require(try created.body.json() as? [String: Any])
            let id = try #require(report["id"] as? Int)
            #expect(created.headers[.location] == "/api/v1/blindspots/\(id)")
            #expect(report["status"] as? String == "pending" && report["note"] as? String == note && report["reporter"] as? String == "Ada")
            #expect((report["expected"] as? [String: Any])?["label"] as? String == "goldfish")
            #expect(report["category"] as? String == "fish-that-are-not-goldfish" && report["categoryTitle"] as? String == "Fish that are not goldfish")
            let verdict = try #require((report["verdicts"] as? [[String: Any]])?.first)
            #expect(verdict["model"] as? String == "efficientnet_lite0" && verdict["holds"] as? Bool == true && verdict["expectedRank"] as? Int == 2)
            #expect((verdict["weightsDigest"] as? String)?.count == 64)

            let again = try await Self.file(client, Self.reportForm(photo, expected: "1"))
            #expect(again.status == .ok)
            #expect((try again.body.json() as? [String: Any])?["confirmations"] as? Int == 2)

            // Pending: reachable by its link, not listed publicly.
            #expect(try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .get).status == .ok)
            let image = try await client.execute(uri: "/api/v1/blindspots/\(id)/image", method: .get)
            #expect(image.status == .ok && image.headers[.contentType] == "image/png")
            let publicList = try #require(try await client.execute(uri: "/api/v1/blindspots", method: .get).body.json() as? [String: Any])
            #expect(publicList["total"] as? Int == 0)
            #expect(try await client.execute(uri: "/api/v1/blindspots?status=pending", method: .get).status == .forbidden)
            let adminList = try await client.execute(uri: "/api/v1/blindspots?status=pending", method: .get, headers: Self.bearer)
            #expect((try adminList.body.json() as? [String: Any])?["total"] as? Int == 1)

            // Moderation needs the token: 401 with a Bearer challenge without it or with a wrong one (RFC 9110, RFC 6750).
            let approve = ByteBuffer(string: #"{"status": "approved"}"#)
            let missing = try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .patch, body: approve)
            #expect(missing.status == .unauthorized && missing.headers[.wwwAuthenticate] == #"Bearer realm="blindspot""#)
            let wrong = try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .patch, headers: [.authorization: "Bearer nope"], body: approve)
            #expect(wrong.status == .unauthorized && wrong.headers[.wwwAuthenticate] == #"Bearer realm="blindspot", error="invalid_token""#)
            #expect(try APITests.error(wrong).code == "invalid_token")
            let deleteWithout = try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .delete)
            #expect(deleteWithout.status == .unauthorized && deleteWithout.headers[.wwwAuthenticate] == #"Bearer realm="blindspot""#)
            let approved = try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .patch, headers: Self.bearer, body: approve)
            #expect(approved.status == .ok)
            #expect((try approved.body.json() as? [String: Any])?["status"] as? String == "approved")
            let listed = try #require(try await client.execute(uri: "/api/v1/blindspots?model=efficientnet_lite0&q=not+a+fish", method: .get).body.json() as? [String: Any])
            #expect(listed["total"] as? Int == 1)
            let categories = try #require(try await client.execute(uri: "/api/v1/categories", method: .get).body.json() as? [[String: Any]])
            #expect(categories.map { $0["slug"] as? String } == ["fish-that-are-not-goldfish"])

            // The pages show the note as text.
            let page = String(buffer: try await client.execute(uri: "/blindspots/\(id)", method: .get).body)
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert(1)"))
            let grid = String(buffer: try await client.execute(uri: "/blindspots", method: .get).body)
            #expect(grid.contains("/blindspots/\(id)"))

            #expect(try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .delete, headers: Self.bearer).status == .noContent)
            #expect(try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/api/v1/blindspots/\(id)/image", method: .get).status == .notFound)
        }
    }

    @Test func badReportsAreRefusedWithTheirReasons() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let cases: [((body: ByteBuffer, contentType: String), HTTPResponse.Status, String)] = [
                (Self.reportForm(photo, expected: "flying car"), .unprocessableContent, "unknown_label"),
                (Self.reportForm(photo, expected: ""), .badRequest, "missing_expected"),
                (Self.reportForm(Data("%PDF-1.4".utf8), expected: "1"), .unsupportedMediaType, "unsupported_type"),
                (Self.reportForm(photo, expected: "1", note: String(repeating: "x", count: 2001)), .badRequest, "note_too_long"),
                (Self.reportForm(photo, expected: "1", category: "!!!"), .unprocessableContent, "invalid_report"),
                (Self.reportForm(photo, expected: "1", reporter: String(repeating: "y", count: 101)), .unprocessableContent, "invalid_report"),
                // Any field but the image is refused past 64 KB while parsing, before its text is looked at.
                (Self.reportForm(photo, expected: "1", note: String(repeating: "z", count: 65 * 1024)), .badRequest, "invalid_form"),
            ]
            for (form, status, code) in cases {
                let response = try await Self.file(client, form)
                #expect(response.status == status, "\(code)")
                #expect(try APITests.error(response).code == code)
            }
            let all = try #require(try await client.execute(uri: "/api/v1/blindspots?status=pending", method: .get, headers: Self.bearer).body.json() as? [String: Any])
            #expect(all["total"] as? Int == 0, "nothing half-filed")
        }
    }

    @Test func statusChangesTakeSmallShallowJSON() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let created = try await Self.file(client, Self.reportForm(photo, expected: "1"))
            let id = try #require((try created.body.json() as? [String: Any])?["id"] as? Int)
            var headers = Self.bearer
            headers[.contentType] = "application/json"
            let nested = String(repeating: "[", count: 17) + String(repeating: "]", count: 17)
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{"status": "approved", "x": \#(nested)}"#, .badRequest, "json_too_deep"),
                (#"{"status": "[[[[[[[[[[[[[[[[[[[[", "x": [[[]]]}"#, .badRequest, "bad_status"),  // brackets in strings do not nest
                (#"{"status": "approved""#, .badRequest, "invalid_json"),
                (#"{"status": "approved", "pad": "\#(String(repeating: "p", count: 17_000))"}"#, .contentTooLarge, "too_large"),
            ]
            for (body, status, code) in cases {
                let response = try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .patch, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == status, "\(code)")
                #expect(try APITests.error(response).code == code)
            }
            let shallow = try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .patch, headers: headers,
                                                   body: ByteBuffer(string: #"{"status": "approved", "x": [[[{"y": [1]}]]]}"#))
            #expect(shallow.status == .ok)
        }
    }

    @Test func crossSiteRequestsAreRefusedAndSameSiteOnesPass() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let form = Self.reportForm(photo, expected: "1")
            for hostile: HTTPFields in [[.origin: "http://evil.example"], [.origin: "null"], [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"]] {
                let refused = try await Self.file(client, form, headers: hostile)
                #expect(refused.status == .forbidden)
                #expect(try APITests.error(refused).code == "cross_site_request")
            }
            let sameSite = try await client.execute(uri: "/api/v1/blindspots", method: .post,
                                                    headers: [.contentType: form.contentType, .origin: "http://localhost"], body: form.body)
            #expect(sameSite.status == .created, "the router test client's host is localhost")
        }
    }

    @Test func theAdminPagesNeedTheTokenTheirCookieAndTheFormToken() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test { client in
            let created = try await Self.file(client, Self.reportForm(photo, expected: "1"))
            let id = try #require((try created.body.json() as? [String: Any])?["id"] as? Int)
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            // The login page sets a random token both as a cookie and in its form; a login needs both (double submit).
            let loginPage = try await client.execute(uri: "/admin", method: .get)
            let loginCookie = try #require(loginPage.headers[.setCookie])
            #expect(loginCookie.hasPrefix("blindspot_login=") && loginCookie.contains("HttpOnly") && loginCookie.contains("SameSite=Strict"))
            let loginToken = try #require(String(buffer: loginPage.body).firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.1)
            #expect(loginCookie.hasPrefix("blindspot_login=\(loginToken)"))
            var loginHeaders = form
            loginHeaders[.cookie] = String(loginCookie.split(separator: ";")[0])
            let forged = try await client.execute(uri: "/admin/login", method: .post, headers: form,
                                                  body: ByteBuffer(string: "token=\(TestServer.adminToken)&csrf=\(loginToken)"))
            #expect(forged.status == .forbidden && forged.headers[.setCookie] == nil, "a login without the page's cookie is refused")
            #expect(try APITests.error(forged).code == "bad_csrf_token")
            let noFormToken = try await client.execute(uri: "/admin/login", method: .post, headers: loginHeaders,
                                                       body: ByteBuffer(string: "token=\(TestServer.adminToken)"))
            #expect(noFormToken.status == .forbidden)
            let wrong = try await client.execute(uri: "/admin/login", method: .post, headers: loginHeaders,
                                                 body: ByteBuffer(string: "token=guess&csrf=\(loginToken)"))
            #expect(wrong.status == .unauthorized && wrong.headers[.setCookie]?.hasPrefix("blindspot_admin") != true)
            let login = try await client.execute(uri: "/admin/login", method: .post, headers: loginHeaders,
                                                 body: ByteBuffer(string: "token=\(TestServer.adminToken)&csrf=\(loginToken)"))
            #expect(login.status == .seeOther)
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            let session: HTTPFields = [.cookie: String(cookie.split(separator: ";")[0])]
            let adminPage = String(buffer: try await client.execute(uri: "/admin", method: .get, headers: session).body)
            #expect(adminPage.contains("/blindspots/\(id)"), "the pending report is in the queue")
            let csrf = try #require(adminPage.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.1)

            var headers = form
            headers.append(contentsOf: session)
            let noToken = try await client.execute(uri: "/admin/blindspots/\(id)", method: .post, headers: headers, body: ByteBuffer(string: "action=approve"))
            #expect(noToken.status == .forbidden)
            #expect(try APITests.error(noToken).code == "bad_csrf_token")
            let noCookie = try await client.execute(uri: "/admin/blindspots/\(id)", method: .post, headers: form,
                                                    body: ByteBuffer(string: "action=approve&csrf=\(csrf)"))
            #expect(noCookie.status == .unauthorized)
            let approved = try await client.execute(uri: "/admin/blindspots/\(id)", method: .post, headers: headers,
                                                    body: ByteBuffer(string: "action=approve&csrf=\(csrf)&return=%2Fblindspots%2F\(id)"))
            #expect(approved.status == .seeOther && approved.headers[.location]?.hasPrefix("/blindspots/\(id)?done=") == true)
            let report = try #require(try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .get).body.json() as? [String: Any])
            #expect(report["status"] as? String == "approved")
            // The API's changes with the session cookie alone (what a browser sends for any site) need the CSRF header.
            var json = session
            json[.contentType] = "application/json"
            let cookieOnly = try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .patch, headers: json,
                                                      body: ByteBuffer(string: #"{"status": "rejected"}"#))
            #expect(cookieOnly.status == .forbidden)
            #expect(try APITests.error(cookieOnly).code == "bad_csrf_token")
            json[HTTPField.Name("X-CSRF-Token")!] = String(csrf)
            let withHeader = try await client.execute(uri: "/api/v1/blindspots/\(id)", method: .patch, headers: json,
                                                      body: ByteBuffer(string: #"{"status": "rejected"}"#))
            #expect(withHeader.status == .ok)
            let offsite = try await client.execute(uri: "/admin/blindspots/\(id)", method: .post, headers: headers,
                                                   body: ByteBuffer(string: "action=delete&csrf=\(csrf)&return=https%3A%2F%2Fevil.example"))
            #expect(offsite.headers[.location]?.hasPrefix("/admin?done=") == true, "redirects stay on this site")
        }
    }

    @Test func thirtyTwoConcurrentReportsAreAllKept() async throws {
        let server = try await TestServer.make()
        _ = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        let photos = Photos.sample(16)
        try await server.test(.live) { client in
            let port = try #require(client.port)
            // 16 photos, each reported twice at once with the same class: 16 reports with 2 confirmations each.
            let requests = (0..<32).map { index in
                let form = Self.reportForm(photos[index % 16], expected: "\(index % 16)")
                return ParallelClient.Request(path: "/api/v1/blindspots", contentType: form.contentType, body: form.body.data)
            }
            let responses = try await ParallelClient.post(requests, port: port)
            #expect(responses.allSatisfy { $0.status == .created || $0.status == .ok }, "\(responses.map(\.status))")
            #expect(responses.filter { $0.status == .created }.count == 16)
            let list = try await client.execute(uri: "/api/v1/blindspots?status=pending", method: .get, headers: Self.bearer)
            let body = try #require(try list.body.json() as? [String: Any])
            #expect(body["total"] as? Int == 16)
            #expect((body["reports"] as? [[String: Any]])?.allSatisfy { $0["confirmations"] as? Int == 2 } == true)
        }
    }

    @Test func deletingAReportWhileItsImageIsReportedAgainKeepsTheNewReportsImage() async throws {
        let server = try await TestServer.make()
        let photo = try #require(Photos.tench, "../shared/imagenet-sample is present (BLINDSPOT_SHARED)")
        try await server.test(.live) { client in
            let port = try #require(client.port)
            for round in 0..<8 {
                let first = try await Self.file(client, Self.reportForm(photo, expected: "\(round * 2)"))
                let id = try #require((try first.body.json() as? [String: Any])?["id"] as? Int)
                async let deleted = client.execute(uri: "/api/v1/blindspots/\(id)", method: .delete, headers: Self.bearer)
                let form = Self.reportForm(photo, expected: "\(round * 2 + 1)")
                let again = try await ParallelClient.post(1, port: port, path: "/api/v1/blindspots", contentType: form.contentType, body: form.body.data)[0]
                #expect(try await deleted.status == .noContent)
                #expect(again.status == .created)
                let newID = try #require((try again.body.json() as? [String: Any])?["id"] as? Int)
                #expect(try await client.execute(uri: "/api/v1/blindspots/\(newID)/image", method: .get).status == .ok, "round \(round)")
                #expect(try await client.execute(uri: "/api/v1/blindspots/\(newID)", method: .delete, headers: Self.bearer).status == .noContent)
            }
        }
    }
}
