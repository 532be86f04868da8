// A `postgres://` URL read the way libpq reads it (user, password, host or socket folder, port, database, sslmode),
// and turned into PostgresNIO's configurations; messages show it without its password.
import Foundation
import PostgresNIO

/// Where a `postgres://` URL points, and how to reach it.
struct ConnectionTarget {
    enum SSLMode: String { case disable, allow, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full" }

    let host: String
    let port: Int
    let socketDirectory: String?
    let username: String
    let password: String?
    let database: String?
    let sslMode: SSLMode

    init(url: String) throws {
        func invalid(_ why: String) -> CatalogError {
            CatalogError.invalid("'\(Self.redacted(url))' is not a PostgreSQL URL (postgres://user:password@host:port/database): \(why)")
        }
        guard let components = URLComponents(string: url) else { throw invalid("it does not parse") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        // URLComponents' user, password, host and path come percent-decoded already.
        guard let username = components.user ?? query["user"], !username.isEmpty else {
            throw invalid("it names no user")
        }
        self.username = username
        password = components.password ?? query["password"]
        let port = components.port ?? query["port"].flatMap { Int($0) } ?? 5432
        guard (1...65535).contains(port) else { throw invalid("\(port) is not a port") }
        self.port = port
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? query["dbname"] : path
        let queryHost = query["host"]
        if let queryHost, queryHost.hasPrefix("/") {
            socketDirectory = queryHost
        } else {
            socketDirectory = nil
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? queryHost ?? "localhost"
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard let mode = SSLMode(rawValue: query["sslmode"] ?? "prefer") else { throw invalid("sslmode must be disable, prefer, require, verify-ca or verify-full") }
        sslMode = mode
    }

    var displayAddress: String { socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } ?? "\(host):\(port)" }

    /// libpq's meaning: prefer and require encrypt without checking the certificate, verify-ca and verify-full check it.
    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: break
        default: configuration.certificateVerification = .none
        }
        return configuration
    }

    func connectionConfiguration(startup: [(String, String)]) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch sslMode {
            case .disable: tls = .disable
            case .allow, .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.additionalStartupParameters = startup
        return configuration
    }

    func clientConfiguration() throws -> PostgresClient.Configuration {
        if let socketDirectory {
            return .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        }
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case .disable: tls = .disable
        case .allow, .prefer: tls = .prefer(tlsConfiguration)
        case .require, .verifyCA, .verifyFull: tls = .require(tlsConfiguration)
        }
        return .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
