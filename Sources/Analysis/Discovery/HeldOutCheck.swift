// A slice's numbers on a half with percentile-bootstrap intervals: the error rate, and the lift over the half's
// error rate, both from the same resamples of the half's images (seeded, so a run is repeatable).
import Engine
import Foundation

struct HeldOutCheck {
    /// Bootstrap resamples per interval.
    static let resamples = 2000

    let errors: [Bool]
    let seed: UInt64

    /// The numbers of the slice whose members (by position in the half) are `members`, with intervals of two-sided
    /// `confidence`.
    func numbers(_ members: [Bool], confidence: Double) -> Slice.Numbers {
        let count = errors.count
        let size = members.count { $0 }
        let overall = Self.rate(errors.count { $0 }, count)
        let rate = Self.rate(zip(members, errors).count { $0 && $1 }, size)
        let lift = overall > 0 ? rate / overall : 0
        guard size > 0, count > 0 else {
            return Slice.Numbers(size: size, errorRate: rate, errorRateCI: [0, 1], lift: lift, liftCI: [0, 0])
        }
        var random = SplitMix64(seed: seed)
        var rates: [Double] = []
        var lifts: [Double] = []
        rates.reserveCapacity(Self.resamples)
        lifts.reserveCapacity(Self.resamples)
        for _ in 0..<Self.resamples {
            var (inSlice, wrongInSlice, wrong) = (0, 0, 0)
            for _ in 0..<count {
                let index = Int(random.next() % UInt64(count))
                if errors[index] { wrong += 1 }
                if members[index] {
                    inSlice += 1
                    if errors[index] { wrongInSlice += 1 }
                }
            }
            // A resample without a member says nothing for the slice: counted as no error (conservative), not skipped,
            // so that a slice of one or two images cannot look certain.
            let resampledRate = Self.rate(wrongInSlice, inSlice)
            rates.append(resampledRate)
            let resampledOverall = Self.rate(wrong, count)
            lifts.append(resampledOverall > 0 ? resampledRate / resampledOverall : (resampledRate > 0 ? .infinity : 1))
        }
        let tail = (1 - confidence) / 2
        return Slice.Numbers(size: size, errorRate: rate, errorRateCI: Self.interval(rates, tail), lift: lift, liftCI: Self.interval(lifts, tail))
    }

    static func rate(_ part: Int, _ whole: Int) -> Double {
        whole == 0 ? 0 : Double(part) / Double(whole)
    }

    /// The `tail` and `1 − tail` quantiles of `values` (nearest rank); [0, 0] when there are none.
    static func interval(_ values: [Double], _ tail: Double) -> [Double] {
        guard !values.isEmpty else { return [0, 0] }
        let sorted = values.sorted()
        func quantile(_ fraction: Double) -> Double {
            sorted[min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.down))))]
        }
        return [quantile(tail), quantile(1 - tail)]
    }
}
