// This process's peak resident memory as Linux records it (VmHWM in /proc/self/status). For benchmarks; nil
// where /proc is absent.
import Foundation

public enum ResidentMemory {
    /// The most memory this process has had resident since it started (exec), in bytes.
    public static func peakBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else { return nil }
        return kilobytes * 1024
    }
}
