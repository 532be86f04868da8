// The pickle opcodes the safe unpickler understands: those torch.save writes for a state_dict (protocols 2 to 5).
// Any byte not listed here is rejected; the names follow Python's pickletools.

enum PickleOpcode: UInt8 {
    case proto = 0x80            // protocol version
    case frame = 0x95            // protocol 4 framing: 8-byte frame length, ignored
    case stop = 0x2E             // '.' end of pickle
    case mark = 0x28             // '('
    case global = 0x63           // 'c' module\nname\n
    case stackGlobal = 0x93      // module and name from the stack
    case binaryPersistentID = 0x51  // 'Q' BINPERSID
    case reduce = 0x52           // 'R'
    case build = 0x62            // 'b'
    case emptyDictionary = 0x7D  // '}'
    case emptyList = 0x5D        // ']'
    case emptyTuple = 0x29       // ')'
    case tuple = 0x74            // 't'
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case setItem = 0x73          // 's'
    case setItems = 0x75         // 'u'
    case append = 0x61           // 'a'
    case appends = 0x65          // 'e'
    case binaryInteger = 0x4A    // 'J' BININT, 4-byte signed
    case binaryInteger1 = 0x4B   // 'K' BININT1, 1-byte unsigned
    case binaryInteger2 = 0x4D   // 'M' BININT2, 2-byte unsigned
    case long1 = 0x8A            // 1-byte length, little-endian two's complement
    case binaryFloat = 0x47      // 'G' 8-byte big-endian double
    case none = 0x4E             // 'N'
    case newTrue = 0x88
    case newFalse = 0x89
    case binaryUnicode = 0x58        // 'X' 4-byte length, UTF-8
    case shortBinaryUnicode = 0x8C   // 1-byte length
    case binaryUnicode8 = 0x8D       // 8-byte length
    case binaryString = 0x54         // 'T' 4-byte signed length (Python 2 str)
    case shortBinaryString = 0x55    // 'U' 1-byte length
    case binaryPut = 0x71        // 'q' memo index, 1 byte
    case longBinaryPut = 0x72    // 'r' memo index, 4 bytes
    case memoize = 0x94          // memo index = memo size
    case binaryGet = 0x68        // 'h'
    case longBinaryGet = 0x6A    // 'j'
}
