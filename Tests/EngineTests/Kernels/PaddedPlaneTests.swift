import Testing
@testable import Engine

/// ``PaddedPlane``'s fill and fold against their definition, element by element: padded element
/// `(r, x)` holds source `(r − top, x − left)` or the padding, at `offset(row: r, column: x)`.
/// One, two (the split path) and three phases; padding on every side, none, and a cropped source
/// (negative `top`/`left`, fewer rows than the source); narrow and odd widths.
struct PaddedPlaneTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var rows: Int, phases: Int, phaseWidth: Int, top: Int, left: Int, height: Int, width: Int
        var testDescription: String {
            "\(phases) phase(s) of \(phaseWidth), \(rows) rows, top \(top), left \(left), source \(height)×\(width)"
        }
        var plane: PaddedPlane { PaddedPlane(rows: rows, phases: phases, phaseWidth: phaseWidth, top: top, left: left) }
    }

    static let cases: [Case] = [
        Case(rows: 9, phases: 1, phaseWidth: 21, top: 1, left: 1, height: 7, width: 7),
        Case(rows: 12, phases: 1, phaseWidth: 40, top: 2, left: 2, height: 8, width: 19),
        Case(rows: 5, phases: 1, phaseWidth: 6, top: 0, left: 0, height: 5, width: 6),
        Case(rows: 4, phases: 1, phaseWidth: 5, top: -1, left: -2, height: 7, width: 9),
        Case(rows: 11, phases: 2, phaseWidth: 24, top: 1, left: 1, height: 9, width: 37),
        Case(rows: 7, phases: 2, phaseWidth: 9, top: 2, left: 3, height: 3, width: 10),
        Case(rows: 6, phases: 2, phaseWidth: 8, top: -2, left: -1, height: 9, width: 20),
        Case(rows: 8, phases: 3, phaseWidth: 7, top: 1, left: 2, height: 6, width: 13),
    ]

    private static func random(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
    }

    /// The padded plane by definition.
    private static func expectedFill(_ c: Case, source: [Float], padding: Float) -> [Float] {
        let plane = c.plane
        var expected = [Float](repeating: .nan, count: plane.count)
        for r in 0..<c.rows {
            for x in 0..<plane.rowStride {
                let (h, w) = (r - c.top, x - c.left)
                let inside = h >= 0 && h < c.height && w >= 0 && w < c.width
                expected[plane.offset(row: r, column: x)] = inside ? source[h * c.width + w] : padding
            }
        }
        return expected
    }

    @Test(arguments: cases)
    func fillMatchesItsDefinition(_ c: Case) {
        let source = Self.random(c.height * c.width, seed: 71)
        for padding in [Float(0), -.infinity] {
            var plane = [Float](repeating: .nan, count: c.plane.count)
            c.plane.fill(&plane, from: source, height: c.height, width: c.width, padding: padding)
            #expect(plane == Self.expectedFill(c, source: source, padding: padding), "padding \(padding)")
        }
    }

    /// A second fill of the same scratch with `paddingWritten` gives the second source's plane,
    /// and leaves the rows outside the source (and with one phase, the padding columns) untouched.
    @Test(arguments: cases)
    func fillOverWrittenPaddingWritesTheSource(_ c: Case) {
        let first = Self.random(c.height * c.width, seed: 72), second = Self.random(c.height * c.width, seed: 73)
        var plane = [Float](repeating: .nan, count: c.plane.count)
        c.plane.fill(&plane, from: first, height: c.height, width: c.width, padding: 0.5)
        c.plane.fill(&plane, from: second, height: c.height, width: c.width, padding: 0.5, paddingWritten: true)
        #expect(plane == Self.expectedFill(c, source: second, padding: 0.5))

        let sentinel: Float = 7
        var marked = [Float](repeating: sentinel, count: c.plane.count)
        c.plane.fill(&marked, from: second, height: c.height, width: c.width, padding: 0.5, paddingWritten: true)
        let expected = Self.expectedFill(c, source: second, padding: 0.5)
        let sourceRows = c.plane.sourceRows(height: c.height)
        for r in 0..<c.rows {
            for x in 0..<c.plane.rowStride {
                let index = c.plane.offset(row: r, column: x), w = x - c.left
                let holdsSource = sourceRows.contains(r) && w >= 0 && w < c.width
                // Two phases or more write whole source rows, padding columns included.
                let written = holdsSource || (c.phases > 1 && sourceRows.contains(r))
                #expect(marked[index] == (written ? expected[index] : sentinel), "row \(r), column \(x)")
            }
        }
    }

    /// Fold adds each source element's padded cell onto the destination; padding cells add nothing.
    @Test(arguments: cases)
    func foldIsTheAdjointOfFill(_ c: Case) {
        let plane = Self.random(c.plane.count, seed: 74), previous = Self.random(c.height * c.width, seed: 75)
        var destination = previous
        c.plane.fold(plane, onto: &destination, height: c.height, width: c.width)
        var expected = previous
        for h in 0..<c.height {
            for w in 0..<c.width {
                let (r, x) = (h + c.top, w + c.left)
                guard r >= 0, r < c.rows, x >= 0, x < c.plane.rowStride else { continue }
                expected[h * c.width + w] += plane[c.plane.offset(row: r, column: x)]
            }
        }
        #expect(destination == expected)
    }
}
