// Storage faults for real, sorted by cause: a full disk and a read-only file system (small tmpfs mounts; root only)
// and a SQLite lock held by another connection. Each fault fails as its StorageFault, and what was stored before
// stays whole.
import Catalog
import Foundation
import GRDB
import Imaging
import TestSupport
import Testing

@Suite(.serialized) struct StorageFaultTests {
    /// A PNG of seeded noise: a new image (and SHA-256) for every seed.
    static func noisePNG(_ seed: UInt64, side: Int = 64) throws -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        let pixels = (0..<side * side * 3).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        return try RGBImage(width: side, height: side, pixels: pixels).pngData()
    }

    static func fault(of error: any Error) -> StorageFault? {
        if case .storage(let fault, _)? = error as? CatalogError { return fault }
        return nil
    }

    @Test(.enabled(if: ScratchMount.isPossible, ScratchMount.needsRoot)) func aFullDiskFailsAsFullAndKeepsWhatWasStored() async throws {
        let mount = try #require(ScratchMount.make(megabytes: 4), "a tmpfs can be mounted")
        defer { mount.unmount() }
        let store = try SQLiteCatalogStore(path: mount.directory.appendingPathComponent("catalog.sqlite").path)
        let vault = try ImageVault(directory: mount.directory.appendingPathComponent("images"))
        let first = try await store.add(Samples.report(1, note: "stored before the disk filled")).report
        let filler = try mount.fill()

        do {
            _ = try vault.store(try Self.noisePNG(1), decoder: ImageDecoder())
            Issue.record("the vault stored an image on a full disk")
        } catch {
            #expect(Self.fault(of: error) == .full, "\(error)")
        }
        do {
            _ = try await store.add(Samples.report(2, verdicts: [Samples.verdict("efficientnet_lite0", rank: 3)]))
            Issue.record("the store added a report on a full disk")
        } catch {
            #expect(Self.fault(of: error) == .full, "\(error)")
        }
        #expect(try await store.report(id: first.id) == first)
        #expect(try await store.allReports().count == 1)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: vault.directory.path).filter { $0.hasSuffix(".partial") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")

        try FileManager.default.removeItem(at: filler)
        let stored = try vault.store(try Self.noisePNG(1), decoder: ImageDecoder())
        #expect(vault.containsFiles(sha256: stored.sha256))
        let second = try await store.add(Samples.report(2)).report
        #expect(try await store.allReports().map(\.id) == [first.id, second.id])
        #expect(try await store.integrityCheck() == "ok")
        try await store.close()
    }

    @Test(.enabled(if: ScratchMount.isPossible, ScratchMount.needsRoot)) func aReadOnlyFileSystemFailsAsReadOnlyAndKeepsWhatWasStored() async throws {
        let mount = try #require(ScratchMount.make(megabytes: 4), "a tmpfs can be mounted")
        defer { mount.unmount() }
        let path = mount.directory.appendingPathComponent("catalog.sqlite").path
        let images = mount.directory.appendingPathComponent("images")
        var store = try SQLiteCatalogStore(path: path)
        let first = try await store.add(Samples.report(1)).report
        _ = try ImageVault(directory: images).store(try Self.noisePNG(1), decoder: ImageDecoder())
        // A file system with files open for writing cannot be made read-only: close first, as a restart would.
        try await store.close()
        try mount.remount(readOnly: true)

        let vault = try ImageVault(directory: images)
        do {
            _ = try vault.store(try Self.noisePNG(2), decoder: ImageDecoder())
            Issue.record("the vault stored an image on a read-only file system")
        } catch {
            #expect(Self.fault(of: error) == .readOnly, "\(error)")
        }
        // SQLite may open the file for reading; then the first write fails instead.
        do {
            let readOnly = try SQLiteCatalogStore(path: path)
            do {
                _ = try await readOnly.add(Samples.report(2))
                Issue.record("the store added a report on a read-only file system")
            } catch {
                #expect(Self.fault(of: error) == .readOnly, "\(error)")
            }
            try await readOnly.close()
        } catch {
            #expect(Self.fault(of: error) == .readOnly, "\(error)")
        }

        try mount.remount(readOnly: false)
        store = try SQLiteCatalogStore(path: path)
        #expect(try await store.allReports() == [first])
        _ = try await store.add(Samples.report(2))
        #expect(try await store.integrityCheck() == "ok")
        try await store.close()
    }

    /// Another connection holding the write lock, released after `seconds`.
    static func holdWriteLock(on path: String, for seconds: Double) async throws -> Task<Void, any Error> {
        var configuration = GRDB.Configuration()
        configuration.allowsUnsafeTransactions = true  // the transaction stays open between two accesses
        let holder = try DatabaseQueue(path: path, configuration: configuration)
        try await holder.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
        return Task {
            try await Task.sleep(for: .seconds(seconds))
            try await holder.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
            try holder.close()
        }
    }

    @Test func aLockHeldBeyondTheBusyTimeoutIsWaitedOutByRetrying() async throws {
        let (_, path) = try Stores.temporarySQLite()
        // 0.2 s of SQLite's own waiting per attempt, four attempts with pauses between: the lock (0.6 s) outlasts the
        // first attempt, not all of them.
        let store = try SQLiteCatalogStore(path: path, busyTimeout: 0.2, attempts: 4)
        let release = try await Self.holdWriteLock(on: path, for: 0.6)
        let started = ContinuousClock.now
        let added = try await store.add(Samples.report(1)).report
        let waited = ContinuousClock.now - started
        #expect(waited > .milliseconds(400), "the add waited \(waited): the lock was not held")
        try await release.value
        #expect(try await store.report(id: added.id) == added)
        try await store.close()
    }

    @Test func aLockHeldThroughEveryRetryFailsAsBusyNotAsAnError() async throws {
        let (_, path) = try Stores.temporarySQLite()
        let store = try SQLiteCatalogStore(path: path, busyTimeout: 0.1, attempts: 3)
        let release = try await Self.holdWriteLock(on: path, for: 3)
        do {
            _ = try await store.add(Samples.report(1))
            Issue.record("the add went through a held write lock")
        } catch {
            #expect(Self.fault(of: error) == .busy, "\(error)")
        }
        try await release.value
        _ = try await store.add(Samples.report(1))
        #expect(try await store.allReports().count == 1)
        try await store.close()
    }

    @Test func faultsOfFileOperationsFollowTheirErrno() {
        #expect(StorageFault(errno: ENOSPC) == .full && StorageFault(errno: EDQUOT) == .full)
        #expect(StorageFault(errno: EROFS) == .readOnly && StorageFault(errno: EACCES) == .readOnly)
        #expect(StorageFault(errno: EIO) == .failed)
        for fault in StorageFault.allCases {
            #expect(!fault.summary.contains("/"), "\(fault): \(fault.summary)")
        }
    }
}
