// Hostile, truncated and inconsistent inputs: each must end in the specific WeightsError, never a crash,
// a huge allocation or a side effect. The fixtures hostile_* come from make_fixtures.py; the rest are built here.
import Foundation
import Testing
import Weights

@Suite struct HostileInputTests {
    // MARK: Code execution

    @Test func refusesPosixSystemAndRunsNothing() throws {
        let sideEffect = "/tmp/PWNED_FILE"
        try? FileManager.default.removeItem(atPath: sideEffect)
        #expect(throws: WeightsError.forbiddenGlobal("posix.system")) {
            try WeightsFile.load(contentsOf: TestFiles.fixture("hostile_os_system.pth"))
        }
        #expect(!FileManager.default.fileExists(atPath: sideEffect))
    }

    @Test func refusesBuiltinsEvalAndRunsNothing() throws {
        let sideEffect = "/tmp/PWNED_EVAL"
        try? FileManager.default.removeItem(atPath: sideEffect)
        #expect(throws: WeightsError.forbiddenGlobal("builtins.eval")) {
            try WeightsFile.load(contentsOf: TestFiles.fixture("hostile_eval.pt"))
        }
        #expect(!FileManager.default.fileExists(atPath: sideEffect))
    }

    @Test(arguments: [("os", "system"), ("subprocess", "Popen"), ("torch", "load"), ("torch._utils", "_rebuild_qtensor")])
    func refusesGlobalsOutsideTheAllowList(module: String, name: String) {
        var pickle = PickleBuilder()
        pickle.global(module, name)
        pickle.stop()
        #expect(throws: WeightsError.forbiddenGlobal("\(module).\(name)")) {
            try WeightsFile.load(legacyCheckpoint(statePickle: pickle.bytes, storages: []))
        }
    }

    @Test func refusesForbiddenGlobalsThroughStackGlobal() {
        var pickle = PickleBuilder()
        pickle.string("subprocess")
        pickle.string("Popen")
        pickle.opcode(0x93)  // STACK_GLOBAL
        pickle.stop()
        #expect(throws: WeightsError.forbiddenGlobal("subprocess.Popen")) {
            try WeightsFile.load(legacyCheckpoint(statePickle: pickle.bytes, storages: []))
        }
    }

    // MARK: Pickle structure and limits

    /// Loads a legacy checkpoint whose state pickle is PROTO 2 followed by `build`'s opcodes.
    private func loadPickle(_ build: (inout PickleBuilder) -> Void) throws {
        var pickle = PickleBuilder()
        build(&pickle)
        _ = try WeightsFile.load(legacyCheckpoint(statePickle: pickle.bytes, storages: []))
    }

    /// Where the state pickle starts in `legacyCheckpoint`: everything before the empty storage-key list
    /// (PROTO 2, EMPTY_LIST, MARK, APPENDS, STOP: 6 bytes).
    private let stateOffset = legacyCheckpoint(statePickle: [], storages: []).count - 6

    @Test func refusesOpcodesOutsideTheSubset() {
        // INST (0x69) would import and call a class by name.
        #expect(throws: WeightsError.unsupportedOpcode(code: 0x69, offset: stateOffset + 2)) {
            try loadPickle { $0.opcode(0x69, Array("os\nsystem\n".utf8)) }
        }
    }

    @Test func refusesHugeDeclaredStringLengths() {
        for (opcode, length) in [(UInt8(0x58), [UInt8](repeating: 0xFF, count: 4)), (0x8D, [UInt8](repeating: 0xFF, count: 8))] {
            let error = #expect(throws: WeightsError.self) {
                try loadPickle { $0.opcode(opcode, length + [0x41, 0x42]) }
            }
            #expect(error == .truncated(reading: "the pickle opcode at byte \(stateOffset + 2)"))
        }
    }

    @Test func refusesUnwrittenMemoEntries() {
        #expect(throws: WeightsError.malformedPickle("memo entry 4294967295 read before it was written, at byte \(stateOffset + 2)")) {
            try loadPickle { $0.opcode(0x6A, [0xFF, 0xFF, 0xFF, 0xFF]) }
        }
    }

    @Test func refusesStackUnderflow() {
        #expect(throws: WeightsError.malformedPickle("stack underflow at byte \(stateOffset + 2)")) {
            try loadPickle { $0.reduce() }
        }
    }

    @Test func boundsNestingAndStackDepth() {
        #expect(throws: WeightsError.pickleLimitExceeded("more than 100 nested marks")) {
            try loadPickle { pickle in (0...100).forEach { _ in pickle.mark() } }
        }
        #expect(throws: WeightsError.pickleLimitExceeded("more than 100000 values on the stack")) {
            try loadPickle { pickle in (0...100_000).forEach { _ in pickle.none() } }
        }
    }

    @Test func refusesIntegersWiderThan64Bits() {
        #expect(throws: WeightsError.pickleLimitExceeded("a 9-byte integer at byte \(stateOffset + 2)")) {
            try loadPickle { $0.long([UInt8](repeating: 1, count: 9)) }
        }
    }

    @Test func refusesBuildOnAnythingButADictionary() {
        #expect(throws: WeightsError.malformedPickle("BUILD of a list with a dict at byte \(stateOffset + 4)")) {
            try loadPickle { pickle in
                pickle.emptyList()
                pickle.emptyDictionary()
                pickle.build()
            }
        }
    }

    @Test func refusesTopLevelObjectsThatAreNotStateDicts() {
        #expect(throws: WeightsError.notAStateDict("the pickle holds a list, not a dict")) {
            try loadPickle { pickle in
                pickle.emptyList()
                pickle.stop()
            }
        }
        #expect(throws: WeightsError.notAStateDict("the value of epoch is an integer, not a tensor")) {
            try loadPickle { pickle in
                pickle.orderedDictionary { items in
                    items.string("epoch")
                    items.integer(3)
                }
                pickle.stop()
            }
        }
    }

    // MARK: Storages

    /// A legacy checkpoint with one float32 tensor `w` over storage "0".
    private func checkpoint(elementCount: Int32, offset: Int32, size: [Int32], stride: [Int32],
                            storedCount: Int64, storedBytes: [UInt8], viewMetadata: Int32? = nil) -> Data {
        var pickle = PickleBuilder()
        pickle.orderedDictionary { items in
            items.string("w")
            items.tensor(storageKey: "0", elementCount: elementCount, offset: offset, size: size, stride: stride,
                         viewMetadata: viewMetadata)
        }
        pickle.stop()
        return legacyCheckpoint(statePickle: pickle.bytes, storages: [("0", storedCount, storedBytes)])
    }

    @Test func refusesViewsPastTheEndOfTheirStorage() {
        let eight = float32Bytes([Float](repeating: 1, count: 8))
        #expect(throws: WeightsError.storageOutOfBounds(tensor: "w", needed: 14, available: 8)) {
            try WeightsFile.load(checkpoint(elementCount: 8, offset: 10, size: [4], stride: [1], storedCount: 8, storedBytes: eight))
        }
        #expect(throws: WeightsError.storageOutOfBounds(tensor: "w", needed: 11, available: 8)) {
            try WeightsFile.load(checkpoint(elementCount: 8, offset: 0, size: [2, 2], stride: [9, 1], storedCount: 8, storedBytes: eight))
        }
        // Stride 0 reads one element yet would produce 1000: more elements than the storage holds.
        #expect(throws: WeightsError.storageOutOfBounds(tensor: "w", needed: 1000, available: 8)) {
            try WeightsFile.load(checkpoint(elementCount: 8, offset: 0, size: [1000], stride: [0], storedCount: 8, storedBytes: eight))
        }
    }

    @Test func refusesShapesWhoseElementCountOverflows() {
        let error = #expect(throws: WeightsError.self) {
            try WeightsFile.load(checkpoint(elementCount: 8, offset: 0, size: [Int32.max, Int32.max, Int32.max], stride: [1, 1, 1],
                                            storedCount: 8, storedBytes: float32Bytes([Float](repeating: 1, count: 8))))
        }
        guard case .malformedCheckpoint = error else {
            Issue.record("expected malformedCheckpoint, got \(String(describing: error))")
            return
        }
    }

    @Test func refusesStoragesWhoseDataIsMissingOrShort() {
        #expect(throws: WeightsError.malformedCheckpoint("storage 0 holds 7 elements, but the pickle declares 8")) {
            try WeightsFile.load(checkpoint(elementCount: 8, offset: 0, size: [8], stride: [1], storedCount: 7,
                                            storedBytes: float32Bytes([Float](repeating: 1, count: 7))))
        }
        // A huge declared element count must not be allocated: the data simply is not there.
        #expect(throws: WeightsError.truncated(reading: "the 2147483647 elements of storage 0")) {
            try WeightsFile.load(checkpoint(elementCount: Int32.max, offset: 0, size: [8], stride: [1], storedCount: Int64(Int32.max),
                                            storedBytes: float32Bytes([Float](repeating: 1, count: 8))))
        }
    }

    @Test func refusesStorageViews() {
        #expect(throws: WeightsError.malformedCheckpoint("storage 0 is a view into another storage (view_metadata), which is not supported")) {
            try WeightsFile.load(checkpoint(elementCount: 8, offset: 0, size: [8], stride: [1], storedCount: 8,
                                            storedBytes: float32Bytes([Float](repeating: 1, count: 8)), viewMetadata: 0))
        }
    }

    // MARK: Headers and truncation

    @Test func refusesBigEndianLegacyCheckpoints() {
        var pickle = PickleBuilder()
        pickle.emptyDictionary()
        pickle.stop()
        #expect(throws: WeightsError.malformedCheckpoint("the checkpoint was saved on a big-endian machine, which is not supported")) {
            try WeightsFile.load(legacyCheckpoint(statePickle: pickle.bytes, storages: [], littleEndian: false))
        }
    }

    @Test func refusesAWrongLegacyMagicNumber() throws {
        var bytes = try TestFiles.fixtureBytes("tiny_legacy.pth")
        bytes[6] ^= 0xFF
        let error = #expect(throws: WeightsError.self) { try WeightsFile.load(bytes) }
        guard case let .malformedCheckpoint(detail) = error, detail.hasPrefix("the legacy magic number is wrong") else {
            Issue.record("expected a wrong-magic error, got \(String(describing: error))")
            return
        }
    }

    @Test func refusesUnrecognizedFiles() {
        #expect(throws: WeightsError.unrecognizedFormat(leadingBytes: Array("<!DOCTYPE html><".utf8))) {
            try WeightsFile.load(Data("<!DOCTYPE html><html>Not Found</html>".utf8))
        }
        #expect(throws: WeightsError.unrecognizedFormat(leadingBytes: [])) { try WeightsFile.load(Data()) }
        let message = WeightsError.unrecognizedFormat(leadingBytes: Array("<!DO".utf8)).description
        #expect(message == "not a PyTorch or safetensors file: starts with 3c 21 44 4f (\"<!DO\")")
    }

    @Test func reportsUnreadableFiles() {
        let error = #expect(throws: WeightsError.self) {
            try WeightsFile.load(contentsOf: URL(fileURLWithPath: "/nonexistent/weights.pth"))
        }
        guard case let .unreadableFile(path, _) = error else {
            Issue.record("expected unreadableFile, got \(String(describing: error))")
            return
        }
        #expect(path == "/nonexistent/weights.pth")
    }

    @Test(arguments: ["tiny_zip.pt", "tiny_zip64.pt", "tiny_legacy.pth"])
    func reportsTruncationAtEveryCut(_ name: String) throws {
        let whole = try TestFiles.fixtureBytes(name)
        for length in [5, 15, 40, 200, whole.count / 2, whole.count - 30, whole.count - 1] {
            let error = #expect(throws: WeightsError.self, "cut at \(length) of \(whole.count)") {
                try WeightsFile.load(whole.prefix(length))
            }
            guard case .truncated = error else {
                Issue.record("\(name) cut at \(length): expected truncated, got \(String(describing: error))")
                continue
            }
        }
    }
}
