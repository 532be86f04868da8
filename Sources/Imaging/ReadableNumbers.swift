// Numbers as every message, page, report and progress bar shows them: byte counts in units of 1024 ("MB" is
// 1 048 576 bytes) and fractions as percentages, with one decimal or whole.
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

/// A fraction (0.871) as a percentage: with one decimal ("87.1%"), or whole ("87%").
public enum Percent {
    public static func text(_ fraction: Double) -> String {
        String(format: "%.1f%%", fraction * 100)
    }

    /// A fraction read from an edited results file may be anything: beyond Int's range (or NaN) it is written as
    /// Swift prints it, since `Int(_:)` would trap.
    public static func whole(_ fraction: Double) -> String {
        let percent = (fraction * 100).rounded()
        return abs(percent) < 1e15 ? "\(Int(percent))%" : "\(percent)%"
    }
}
