import Testing

/// Expects `actual` to match `expected` element by element within `atol + rtol·|expected|`,
/// reporting the caller's line and the worst element (index, expected, actual).
func expectClose<A: BinaryFloatingPoint, E: BinaryFloatingPoint>(
    _ actual: [A], _ expected: [E], rtol: Double = 1e-5, atol: Double = 1e-6,
    _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    let a = actual.map { Double($0) }, e = expected.map { Double($0) }
    expectClose(a, e, rtol: rtol, atol: atol, comment(),
                sourceLocation: sourceLocation)
}

/// Expects 8-bit samples to differ by at most `tolerance` levels, reporting the caller's line
/// and the worst element.
func expectClose(_ actual: [UInt8], _ expected: [UInt8], tolerance: Int,
                 _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(actual.map(Double.init), expected.map(Double.init), rtol: 0, atol: Double(tolerance), comment(),
                sourceLocation: sourceLocation)
}

/// The largest `|actual − expected|` over two equally long sample arrays (for reporting).
func maxDifference(_ actual: [UInt8], _ expected: [UInt8]) -> Int {
    zip(actual, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
}

private func expectClose(_ a: [Double], _ e: [Double], rtol: Double, atol: Double, _ comment: String,
                         sourceLocation: SourceLocation) {
    guard a.count == e.count else {
        Issue.record(Comment(rawValue: "\(comment) count \(a.count) ≠ expected \(e.count)"), sourceLocation: sourceLocation)
        return
    }
    var worst: (index: Int, excess: Double)? = nil
    for i in a.indices {
        let allowed = atol + rtol * abs(e[i])
        let error = abs(a[i] - e[i])
        if !(error <= allowed), error - allowed > (worst?.excess ?? -1) { worst = (i, error - allowed) }
    }
    if let worst {
        let i = worst.index
        let message = "\(comment) element \(i): expected \(e[i]), got \(a[i]) (|Δ| = \(abs(a[i] - e[i])), rtol \(rtol), atol \(atol))"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}
