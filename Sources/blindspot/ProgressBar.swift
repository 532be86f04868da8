// A progress display on standard error for long jobs (downloads, evaluations): bar, percentage, amounts, rate and ETA.
// On a terminal it redraws one line in place; elsewhere (logs, CI) it prints a line every few seconds or at each quarter.
// It does not know what is counted: a CountFormat names the unit.
import Foundation
import Imaging

/// How amounts of one unit read: `12.3 MB`, `420 images`.
struct CountFormat: Sendable {
    let format: @Sendable (Double) -> String

    /// Units of 1024, as every message of Blindspot counts bytes.
    static let bytes = CountFormat { ByteCount.readable($0) }

    /// Whole things such as `images`; fractional amounts (rates) keep one decimal.
    static func items(_ noun: String) -> CountFormat {
        CountFormat { amount in
            amount == amount.rounded() ? "\(Int64(amount)) \(noun)" : String(format: "%.1f ", amount) + noun
        }
    }
}

final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let countFormat: CountFormat
    private let isTerminal: Bool
    /// Guards every `var` below: updates may come from any thread.
    private let lock = NSLock()
    /// When counting began: rates and ETAs leave out time spent waiting at zero (connecting, running pip).
    private var countingStart = ContinuousClock.now
    private var completed: Int64 = 0
    private var total: Int64?
    private var lastWrite: ContinuousClock.Instant?
    private var lastWrittenCompleted: Int64?
    private var lastQuarter = 0
    private var finished = false

    private static let terminalInterval = Duration.milliseconds(100)
    private static let logInterval = Duration.seconds(5)
    private static let barWidth = 30

    init(label: String, format: CountFormat, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.countFormat = format
        self.isTerminal = isTerminal
    }

    /// Records progress; draws when enough time has passed or (off a terminal) a new quarter is reached.
    func update(completed: Int64, total: Int64?) {
        lock.withLock {
            guard !finished else { return }
            if completed == 0 { countingStart = .now }
            self.completed = completed
            self.total = total
            if shouldWrite(now: .now) { writeLine() }
        }
    }

    /// Prints `message` on a line of its own, above the bar on a terminal.
    func note(_ message: String) {
        lock.withLock {
            Self.writeToStandardError(isTerminal ? "\r\u{1B}[K\(message)\n" : "\(message)\n")
            if isTerminal, lastWrite != nil { writeLine() }
        }
    }

    /// Draws the final state and ends the line; later updates are ignored.
    func finish() {
        lock.withLock {
            guard !finished else { return }
            finished = true
            if isTerminal {
                writeLine()
                Self.writeToStandardError("\n")
            } else if lastWrittenCompleted != completed {
                writeLine()
            }
        }
    }

    private func shouldWrite(now: ContinuousClock.Instant) -> Bool {
        guard let lastWrite else { return true }
        if isTerminal { return now - lastWrite >= Self.terminalInterval }
        if let total, total > 0, Int(completed * 4 / total) > lastQuarter { return true }
        return now - lastWrite >= Self.logInterval
    }

    private func writeLine() {
        let now = ContinuousClock.now
        lastWrite = now
        lastWrittenCompleted = completed
        if let total, total > 0 { lastQuarter = Int(completed * 4 / total) }
        let line = render(elapsed: now - countingStart)
        Self.writeToStandardError(isTerminal ? "\r\(line)\u{1B}[K" : "\(line)\n")
    }

    private func render(elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(completed) / seconds : 0
        var parts = [label]
        if let total, total > 0 {
            let fraction = min(1, Double(completed) / Double(total))
            let filled = Int(fraction * Double(Self.barWidth))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: "-", count: Self.barWidth - filled) + "]")
            parts.append(String(format: "%3d%%", Int(fraction * 100)))
            parts.append("\(countFormat.format(Double(completed))) / \(countFormat.format(Double(total)))")
        } else {
            parts.append(countFormat.format(Double(completed)))
        }
        if rate > 0 {
            parts.append("\(countFormat.format(rate))/s")
            if let total, total > completed {
                parts.append("ETA " + Self.clock(seconds: Double(total - completed) / rate))
            }
        }
        return parts.joined(separator: "  ")
    }

    /// `m:ss`, or `h:mm:ss` from an hour on.
    private static func clock(seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        let (hours, minutes, remainder) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, remainder)
            : String(format: "%d:%02d", minutes, remainder)
    }

    private static func writeToStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
