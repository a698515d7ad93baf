import Testing

/// Expects `actual` to match `expected` element by element within `atol + rtol·|expected|`,
/// reporting the caller's line and the worst element (index, expected, actual).
func expectClose<A: BinaryFloatingPoint, E: BinaryFloatingPoint>(
    _ actual: some Collection<A>, _ expected: some Collection<E>, rtol: Double = 1e-5, atol: Double = 1e-6,
    _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    let a = actual.map(Double.init), e = expected.map(Double.init)
    guard a.count == e.count else {
        Issue.record(Comment(rawValue: "\(comment()) count \(a.count) ≠ expected \(e.count)"), sourceLocation: sourceLocation)
        return
    }
    var worst: (index: Int, excess: Double)? = nil
    var violations = 0
    for i in a.indices {
        let allowed = atol + rtol * abs(e[i])
        let error = abs(a[i] - e[i])
        if !(error <= allowed) { violations += 1 }
        if !(error <= allowed), error - allowed > (worst?.excess ?? -1) { worst = (i, error - allowed) }
    }
    if let worst {
        let i = worst.index
        let message = "\(comment()) element \(i): expected \(e[i]), got \(a[i]) (|Δ| = \(abs(a[i] - e[i])), rtol \(rtol), atol \(atol)); \(violations) of \(a.count) elements out of tolerance"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}

/// Like ``expectClose(_:_:rtol:atol:_:sourceLocation:)`` with the tolerance relative to the
/// largest magnitude in `expected` — the right test for gradients whose entries span decades.
func expectCloseRelativeToMax<A: BinaryFloatingPoint, E: BinaryFloatingPoint>(
    _ actual: some Collection<A>, _ expected: some Collection<E>, tolerance: Double, floor: Double = 1e-9,
    _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    let scale = expected.map { abs(Double($0)) }.max() ?? 0
    expectClose(actual, expected, rtol: 0, atol: max(tolerance * scale, floor), comment(), sourceLocation: sourceLocation)
}
