// Byte counts as every message, page and progress bar shows them: units of 1024 ("MB" is 1 048 576 bytes), the
// largest unit with a whole part, at most one decimal.
public enum ByteCount {
    /// "900 bytes", "512 KB", "20 MB", "1.5 GB".
    public static func readable(_ count: Int) -> String { readable(Double(count)) }

    public static func readable(_ count: Double) -> String {
        let units: [(String, Double)] = [("TB", 1_099_511_627_776), ("GB", 1_073_741_824), ("MB", 1_048_576), ("KB", 1024)]
        for (unit, size) in units where count >= size {
            let value = (count / size * 10).rounded() / 10
            return (value == value.rounded() ? String(Int(value)) : String(value)) + " " + unit
        }
        return "\(Int(count)) byte\(Int(count) == 1 ? "" : "s")"
    }
}
