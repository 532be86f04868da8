// Heavy work (decoding, inference, analyses) runs below the threads that accept connections and answer health
// probes, so that an overloaded server still refuses quickly and still says it is alive.
#if canImport(Glibc)
import Glibc
#endif

public enum WorkPriority {
    /// The nice value of work threads (the event-loop threads keep 0).
    public static let work: Int32 = 5

    /// Lowers the calling thread's priority. On Linux nice is per thread, and threads it starts (oneDNN's
    /// OpenMP workers) inherit it. Best effort: elsewhere, or when refused, nothing changes.
    public static func lowerCurrentThread() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, work)
        #endif
    }
}
