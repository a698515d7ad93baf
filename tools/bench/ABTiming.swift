// The alternating timer of the in-process A/B benchmarks (see ab-common.sh).
import Foundation

/// Times `old` and `new` alternately, `rounds` times each, and prints the median time of each
/// (nanoseconds ÷ `divisor`, in `unit`) and the median, 10th and 90th percentile of the paired
/// new/old ratios.
func compareAlternately(_ name: String, rounds: Int = 41, divisor: Double, unit: String,
                        old: () -> Void, new: () -> Void) {
    func elapsed(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / divisor
    }
    var ratios: [Double] = [], oldTimes: [Double] = [], newTimes: [Double] = []
    for _ in 0..<rounds {
        let x = elapsed(old), y = elapsed(new)
        oldTimes.append(x); newTimes.append(y); ratios.append(y / x)
    }
    ratios.sort(); oldTimes.sort(); newTimes.sort()
    func percentile(_ p: Int) -> Double { ratios[(rounds - 1) * p / 100] }
    print("\(name): old \(String(format: "%.0f", oldTimes[rounds / 2])) \(unit), new \(String(format: "%.0f", newTimes[rounds / 2])) \(unit), "
          + "new/old median \(String(format: "%.2f", percentile(50))) (p10 \(String(format: "%.2f", percentile(10))), "
          + "p90 \(String(format: "%.2f", percentile(90))))")
}
