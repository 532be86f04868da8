// Who may moderate: whoever presents the admin token, as a Bearer header or through a session cookie derived from it,
// compared in constant time. Forms carry a CSRF token bound to the session (the login form a double-submit one); API
// changes authenticated by the cookie alone need X-CSRF-Token.
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

public struct AdminAccess: Sendable {
    /// The key all admin values derive from (the SHA-256 of the token), nil when moderation is off.
    private let keyBytes: Data?
    private let expectedToken: Data?
    static let cookieName = "blindspot_admin"
    static let loginCookieName = "blindspot_login"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    /// `token` nil or empty: no one is admin (moderation is off and says how to turn it on).
    public init(token: String?) {
        let token = token?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        keyBytes = token.isEmpty ? nil : Data(SHA256.hash(data: Data(token.utf8)))
        expectedToken = keyBytes.map { Self.mac(Data(token.utf8), key: SymmetricKey(data: $0)) }
    }

    private var key: SymmetricKey? { keyBytes.map { SymmetricKey(data: $0) } }

    public var isConfigured: Bool { key != nil }

    /// Whether `candidate` is the admin token (constant time).
    func accepts(token candidate: String) -> Bool {
        guard let key, let expectedToken else { return false }
        return Self.constantTimeEqual(Self.mac(Data(candidate.utf8), key: key), expectedToken)
    }

    /// The value of the session cookie an admin gets after logging in.
    var sessionValue: String? { key.map { Self.hex(Self.mac(Data("session".utf8), key: $0)) } }

    /// The CSRF token every admin form carries.
    var csrfToken: String? { key.map { Self.hex(Self.mac(Data("csrf".utf8), key: $0)) } }

    func validCSRF(_ candidate: String?) -> Bool {
        guard let candidate, let csrfToken else { return false }
        return Self.constantTimeEqual(Data(candidate.utf8), Data(csrfToken.utf8))
    }

    /// A fresh login-form token: 32 random bytes in hex, sent both as the login cookie and in the form.
    static func newLoginToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex(Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }))
    }

    /// Whether a login form's token is the one its page set as a cookie (a page of another site cannot read it).
    static func validLoginToken(_ request: Request, formToken: String?) -> Bool {
        guard let formToken, formToken.utf8.count == 64, let cookie = request.cookies[loginCookieName]?.value else { return false }
        return constantTimeEqual(Data(formToken.utf8), Data(cookie.utf8))
    }

    private static func bearerToken(_ request: Request) -> String? {
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else { return nil }
        return String(authorization.dropFirst("bearer ".count))
    }

    /// Bearer token or session cookie.
    func isAdmin(_ request: Request) -> Bool {
        if let token = Self.bearerToken(request) {
            return accepts(token: token)
        }
        guard let session = sessionValue, let cookie = request.cookies[Self.cookieName]?.value else { return false }
        return Self.constantTimeEqual(Data(cookie.utf8), Data(session.utf8))
    }

    /// Refuses non-admins as RFC 9110 and RFC 6750 say: 401 with a `WWW-Authenticate: Bearer` challenge when the
    /// request has no valid credentials (none, or a wrong token or session), 403 when moderation is off, since no
    /// credentials could help then.
    func require(_ request: Request) throws {
        guard isConfigured else {
            throw APIError(status: .forbidden, code: "admin_disabled",
                           message: "moderation is off: start the server with BLINDSPOT_ADMIN_TOKEN set or --admin-token-file FILE")
        }
        guard isAdmin(request) else {
            let presented = request.headers[.authorization] != nil || request.cookies[Self.cookieName] != nil
            let challenge = presented ? #"Bearer realm="blindspot", error="invalid_token""# : #"Bearer realm="blindspot""#
            throw APIError(status: .unauthorized, code: presented ? "invalid_token" : "unauthorized",
                           message: presented ? "that admin token is not valid" : "this needs the admin token (Authorization: Bearer TOKEN)",
                           headers: [.wwwAuthenticate: challenge])
        }
    }

    /// `require`, and for a change authenticated by the session cookie alone (a browser's), the session's CSRF token
    /// in X-CSRF-Token: a cookie is sent whoever made the request, a header only by this site's own pages.
    func requireToChange(_ request: Request) throws {
        try require(request)
        guard Self.bearerToken(request) != nil || validCSRF(request.headers[Self.csrfHeader]) else { throw Self.badCSRF }
    }

    static var badCSRF: APIError {
        APIError(status: .forbidden, code: "bad_csrf_token", message: "this form has expired or did not come from this site; reload the page and try again")
    }

    private static func mac(_ data: Data, key: SymmetricKey) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: data, using: key))
    }

    private static func hex(_ data: Data) -> String {
        data.map { String(format: "%02x", $0) }.joined()
    }

    static func constantTimeEqual(_ left: Data, _ right: Data) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}

/// Refuses state-changing requests that a browser sends on behalf of another site: an Origin header naming
/// another origin (or "null"), or Sec-Fetch-Site: cross-site. Clients that send neither (curl, scripts) pass.
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if [.post, .put, .patch, .delete].contains(request.method) {
            if request.headers[HTTPField.Name("Sec-Fetch-Site")!]?.lowercased() == "cross-site" { throw Self.refusal }
            if let origin = request.headers[.origin] {
                let host = URLComponents(string: origin).flatMap { components in
                    components.host.map { host in components.port.map { "\(host):\($0)" } ?? host }
                }
                guard let host, let authority = request.head.authority, host.lowercased() == authority.lowercased() else { throw Self.refusal }
            }
        }
        return try await next(request, context)
    }

    static var refusal: APIError {
        APIError(status: .forbidden, code: "cross_site_request", message: "a request from another site cannot change anything here")
    }
}
