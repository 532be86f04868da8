// A safe unpickler for the subset of pickle a PyTorch state_dict uses, written from scratch.
// It builds values only: globals resolve through the torch allow-list, nothing is imported or run, and every
// length, index and depth is bounded so a hostile pickle ends in a thrown error, never a crash or huge allocation.

/// One unpickled object, the heap holding its containers, and where its pickle ended.
struct Unpickled {
    let root: PickleValue
    let heap: PickleHeap
    let endOffset: Int
}

struct Unpickler {
    /// Far above what any real state_dict needs (EfficientNet-Lite0: stack < 20, marks < 5, memo 2,651).
    private enum Limits {
        static let stackDepth = 100_000
        static let markDepth = 100
        static let memoEntries = 1_000_000
        static let globalNameLength = 256
    }

    private var reader: ByteReader
    private var heap = PickleHeap()
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var opcodeOffset = 0

    /// Unpickles the one pickle that starts at `offset` in `bytes`.
    static func unpickle(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws -> Unpickled {
        var unpickler = Unpickler(reader: ByteReader(bytes, offset: offset))
        let root = try unpickler.run()
        return Unpickled(root: root, heap: unpickler.heap, endOffset: unpickler.reader.offset)
    }

    private init(reader: ByteReader) {
        self.reader = reader
    }

    /// How truncation errors name the opcode being read.
    private static func location(_ offset: Int) -> String { "the pickle opcode at byte \(offset)" }

    private mutating func run() throws -> PickleValue {
        while true {
            opcodeOffset = reader.offset
            let code = try reader.readByte("a pickle (no STOP opcode)")
            guard let opcode = PickleOpcode(rawValue: code) else {
                throw WeightsError.unsupportedOpcode(code: code, offset: opcodeOffset)
            }
            if let result = try execute(opcode) {
                return result
            }
        }
    }

    /// Runs one opcode; returns the pickled object when the opcode is STOP.
    private mutating func execute(_ opcode: PickleOpcode) throws -> PickleValue? {
        let offset = opcodeOffset
        switch opcode {
        case .stop:
            return try pop()
        case .proto:
            let version = try reader.readByte(Unpickler.location(offset))
            guard version <= 5 else { throw WeightsError.malformedPickle("unknown pickle protocol \(version)") }
        case .frame:
            _ = try reader.readLength(as: UInt64.self, Unpickler.location(offset))
        case .mark:
            guard marks.count < Limits.markDepth else {
                throw WeightsError.pickleLimitExceeded("more than \(Limits.markDepth) nested marks")
            }
            marks.append(stack.count)
        case .global:
            let module = try readLine()
            let name = try readLine()
            try push(.global(TorchGlobal(module: module, name: name)))
        case .stackGlobal:
            let name = try pop()
            let module = try pop()
            guard case let .string(moduleName) = module, case let .string(globalName) = name else {
                throw WeightsError.malformedPickle("STACK_GLOBAL needs two strings at byte \(opcodeOffset)")
            }
            try push(.global(TorchGlobal(module: moduleName, name: globalName)))
        case .binaryPersistentID:
            let identity = try pop()
            try push(.storage(StorageReference(persistentID: identity, heap: heap)))
        case .reduce:
            let arguments = try pop()
            let callable = try pop()
            guard case let .global(global) = callable, case .tuple = arguments, let items = heap.items(of: arguments) else {
                throw WeightsError.malformedPickle("REDUCE of \(callable.kindName) with \(arguments.kindName) at byte \(opcodeOffset)")
            }
            try push(global.call(with: items, heap: &heap))
        case .build:
            let state = try pop()
            let object = try top()
            // OrderedDict keeps instance attributes (a state_dict's `_metadata`) this way; they are not needed.
            guard case .dictionary = object, state == .none || heap.dictionary(state) != nil else {
                throw WeightsError.malformedPickle("BUILD of \(object.kindName) with \(state.kindName) at byte \(opcodeOffset)")
            }
        case .emptyDictionary:
            try push(heap.makeDictionary())
        case .emptyList:
            try push(heap.makeList())
        case .emptyTuple:
            try push(heap.makeTuple([]))
        case .tuple:
            try push(heap.makeTuple(popToMark()))
        case .tuple1, .tuple2, .tuple3:
            let count = Int(opcode.rawValue - PickleOpcode.tuple1.rawValue) + 1
            try push(heap.makeTuple(pop(count)))
        case .setItem:
            let value = try pop()
            let key = try pop()
            try setItems([key, value])
        case .setItems:
            try setItems(popToMark())
        case .append:
            try append([pop()])
        case .appends:
            try append(popToMark())
        case .binaryInteger:
            try push(.integer(Int(reader.readInteger(as: Int32.self, Unpickler.location(offset)))))
        case .binaryInteger1:
            try push(.integer(Int(reader.readByte(Unpickler.location(offset)))))
        case .binaryInteger2:
            try push(.integer(Int(reader.readInteger(as: UInt16.self, Unpickler.location(offset)))))
        case .long1:
            try push(.integer(readLong()))
        case .binaryFloat:
            try push(.float(Double(bitPattern: UInt64(bigEndian: reader.read(8, Unpickler.location(offset)).loadUnaligned(as: UInt64.self)))))
        case .none:
            try push(.none)
        case .newTrue:
            try push(.bool(true))
        case .newFalse:
            try push(.bool(false))
        case .binaryUnicode:
            try push(readString(length: reader.readLength(as: UInt32.self, Unpickler.location(offset))))
        case .shortBinaryUnicode, .shortBinaryString:
            try push(readString(length: reader.readLength(as: UInt8.self, Unpickler.location(offset))))
        case .binaryUnicode8:
            try push(readString(length: reader.readLength(as: UInt64.self, Unpickler.location(offset))))
        case .binaryString:
            let length = try reader.readInteger(as: Int32.self, Unpickler.location(offset))
            guard length >= 0 else { throw WeightsError.malformedPickle("negative string length at byte \(opcodeOffset)") }
            try push(readString(length: Int(length)))
        case .binaryPut:
            try remember(at: Int(reader.readByte(Unpickler.location(offset))))
        case .longBinaryPut:
            try remember(at: Int(reader.readInteger(as: UInt32.self, Unpickler.location(offset))))
        case .memoize:
            try remember(at: memo.count)
        case .binaryGet:
            try recall(Int(reader.readByte(Unpickler.location(offset))))
        case .longBinaryGet:
            try recall(Int(reader.readInteger(as: UInt32.self, Unpickler.location(offset))))
        }
        return nil
    }

    // MARK: Stack

    private mutating func push(_ value: PickleValue) throws {
        guard stack.count < Limits.stackDepth else {
            throw WeightsError.pickleLimitExceeded("more than \(Limits.stackDepth) values on the stack")
        }
        stack.append(value)
    }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else {
            throw WeightsError.malformedPickle("stack underflow at byte \(opcodeOffset)")
        }
        return value
    }

    private mutating func pop(_ count: Int) throws -> [PickleValue] {
        guard stack.count - (marks.last ?? 0) >= count else {
            throw WeightsError.malformedPickle("stack underflow at byte \(opcodeOffset)")
        }
        defer { stack.removeLast(count) }
        return Array(stack.suffix(count))
    }

    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw WeightsError.malformedPickle("stack underflow at byte \(opcodeOffset)")
        }
        return value
    }

    /// The values pushed since the last MARK, which is removed.
    private mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else {
            throw WeightsError.malformedPickle("no MARK before the opcode at byte \(opcodeOffset)")
        }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    // MARK: Containers

    private mutating func setItems(_ keysAndValues: [PickleValue]) throws {
        let target = try top()
        guard case let .dictionary(index) = target, keysAndValues.count.isMultiple(of: 2) else {
            throw WeightsError.malformedPickle("SETITEM(S) on \(target.kindName) at byte \(opcodeOffset)")
        }
        for pairStart in stride(from: 0, to: keysAndValues.count, by: 2) {
            heap.set(keysAndValues[pairStart + 1], for: keysAndValues[pairStart], inDictionary: index)
        }
    }

    private mutating func append(_ items: [PickleValue]) throws {
        let target = try top()
        guard case let .list(index) = target else {
            throw WeightsError.malformedPickle("APPEND(S) on \(target.kindName) at byte \(opcodeOffset)")
        }
        heap.append(items, toList: index)
    }

    // MARK: Memo

    private mutating func remember(at index: Int) throws {
        guard memo[index] != nil || memo.count < Limits.memoEntries else {
            throw WeightsError.pickleLimitExceeded("more than \(Limits.memoEntries) memo entries")
        }
        memo[index] = try top()
    }

    private mutating func recall(_ index: Int) throws {
        guard let value = memo[index] else {
            throw WeightsError.malformedPickle("memo entry \(index) read before it was written, at byte \(opcodeOffset)")
        }
        try push(value)
    }

    // MARK: Operands

    private mutating func readString(length: Int) throws -> PickleValue {
        let offset = opcodeOffset
        let bytes = try reader.read(length, Unpickler.location(offset))
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw WeightsError.malformedPickle("a string that is not UTF-8 at byte \(opcodeOffset)")
        }
        return .string(string)
    }

    /// A newline-terminated operand of GLOBAL, at most `Limits.globalNameLength` bytes.
    private mutating func readLine() throws -> String {
        let offset = opcodeOffset
        var bytes: [UInt8] = []
        while true {
            let byte = try reader.readByte(Unpickler.location(offset))
            if byte == UInt8(ascii: "\n") { break }
            guard bytes.count < Limits.globalNameLength else {
                throw WeightsError.pickleLimitExceeded("a GLOBAL name longer than \(Limits.globalNameLength) bytes")
            }
            bytes.append(byte)
        }
        guard let line = String(validating: bytes, as: UTF8.self) else {
            throw WeightsError.malformedPickle("a GLOBAL name that is not UTF-8 at byte \(opcodeOffset)")
        }
        return line
    }

    /// LONG1: a little-endian two's complement integer of up to 8 bytes (wider ones do not fit an Int).
    private mutating func readLong() throws -> Int {
        let offset = opcodeOffset
        let length = Int(try reader.readByte(Unpickler.location(offset)))
        guard length <= 8 else {
            throw WeightsError.pickleLimitExceeded("a \(length)-byte integer at byte \(opcodeOffset)")
        }
        let bytes = try reader.read(length, Unpickler.location(offset))
        var value: UInt64 = 0
        for (position, byte) in bytes.enumerated() {
            value |= UInt64(byte) << (8 * UInt64(position))
        }
        if length > 0, length < 8, bytes[length - 1] & 0x80 != 0 {
            value |= UInt64.max << (8 * UInt64(length))  // sign-extend
        }
        return Int(Int64(bitPattern: value))
    }
}
