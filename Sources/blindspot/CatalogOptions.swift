// Where the catalog lives, for `serve` and `catalog`: the data directory (images, and the SQLite file by default)
// and an optional PostgreSQL URL shared by several servers.
import ArgumentParser
import Catalog
import Foundation
import Imaging

struct CatalogOptions: ParsableArguments {
    @Option(help: "Directory for the catalog's images and, by default, its SQLite database (default: $BLINDSPOT_DATA, else ~/.local/share/blindspot).")
    var data: String?

    @Option(help: "postgres://user[:password]@host:port/database to keep the catalog in PostgreSQL (several servers can share it); default: DATA/catalog.sqlite.")
    var database: String?

    var dataDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let data { return URL(fileURLWithPath: data) }
        if let data = environment["BLINDSPOT_DATA"], !data.isEmpty { return URL(fileURLWithPath: data) }
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")
        return URL(fileURLWithPath: base + "/blindspot")
    }

    func validate() throws {
        if data?.isEmpty == true { throw ValidationError("--data needs a directory") }
        if let database, !(database.hasPrefix("postgres://") || database.hasPrefix("postgresql://")) {
            throw ValidationError("--database takes a postgres:// URL (the default is a SQLite file in the data directory)")
        }
    }

    /// Runs `body` with the store and where the images are, and closes the store whether `body` succeeds or not.
    func withCatalog<T>(_ body: (_ store: any CatalogStore, _ images: any ImageStore, _ description: String) async throws -> T) async throws -> T {
        let (store, images, description) = try await open()
        do {
            let result = try await body(store, images, description)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// The store and where the images are: PostgreSQL keeps them itself (so `--data` holds nothing that must survive),
    /// SQLite beside it in DATA/images. The caller closes the store.
    func open() async throws -> (store: any CatalogStore, images: any ImageStore, description: String) {
        let directory = dataDirectory
        if let database {
            let store = try await PostgresCatalogStore.connect(url: database)
            return (store, store, "PostgreSQL \(Self.withoutPassword(database))")
        }
        let images = try ImageVault(directory: directory.appendingPathComponent("images"))
        let path = directory.appendingPathComponent("catalog.sqlite").path
        return (try SQLiteCatalogStore(path: path), images, path)
    }

    /// `open()` for a server, which keeps serving the rest when the catalog cannot be opened: then a store that
    /// answers every call with why (UnavailableCatalogStore), and that error, for the log.
    func openForServing() async throws -> (store: any CatalogStore, images: any ImageStore, description: String, failure: CatalogError?) {
        do {
            let (store, images, description) = try await open()
            return (store, images, description, nil)
        } catch let error as CatalogError {
            guard case .storage(let fault, let detail) = error else { throw error }
            let store = UnavailableCatalogStore(fault: fault, detail: detail)
            return (store, ImageVault(unopenedAt: dataDirectory.appendingPathComponent("images")), "unavailable", error)
        }
    }

    /// The URL with any password replaced, for printing.
    static func withoutPassword(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
