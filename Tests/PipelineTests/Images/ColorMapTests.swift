import Testing
@testable import Pipeline

@Suite struct ColorMapTests {
    /// matplotlib's `viridis(x)` (its 256-entry table at `int(256·x)`), ×255 rounded.
    @Test(arguments: [(Float(0), SIMD3<UInt8>(68, 1, 84)), (0.25, SIMD3(59, 82, 139)), (0.5, SIMD3(33, 145, 140)),
                      (0.75, SIMD3(94, 201, 98)), (1, SIMD3(253, 231, 37))])
    func viridisMatchesMatplotlib(value: Float, expected: SIMD3<UInt8>) {
        let color = ColorMap.viridis.color(value)
        for c in 0..<3 { #expect(abs(Int(color[c]) - Int(expected[c])) <= 1, "viridis(\(value)) = \(color)") }
    }

    @Test func valuesOutsideTheDomainAreClamped() {
        #expect(ColorMap.viridis.color(-3) == ColorMap.viridis.color(0))
        #expect(ColorMap.viridis.color(7) == ColorMap.viridis.color(1))
        #expect(ColorMap.viridis.color(.nan) == ColorMap.viridis.color(0))
        #expect(ColorMap.redBlue.color(-2) == ColorMap.redBlue.color(-1))
        #expect(ColorMap.redBlue.color(.infinity) == ColorMap.redBlue.color(1))
        #expect(ColorMap.redBlue.color(.nan) == ColorMap.redBlue.color(0))
    }

    /// ColorBrewer RdBu's classes, blue to red, land on −1, −0.2, 0, 0.2, 1.
    @Test func redBlueIsNeutralAtZeroBlueBelowRedAbove() {
        #expect(ColorMap.redBlue.color(0) == SIMD3(247, 247, 247))
        #expect(ColorMap.redBlue.color(-1) == SIMD3(5, 48, 97))
        #expect(ColorMap.redBlue.color(-0.2) == SIMD3(209, 229, 240))
        #expect(ColorMap.redBlue.color(0.2) == SIMD3(253, 219, 199))
        #expect(ColorMap.redBlue.color(1) == SIMD3(103, 0, 31))
        #expect(ColorMap.redBlue.kind == .diverging && ColorMap.redBlue.domain == -1...1)
    }

    /// Viridis brightens steadily; RdBu is brightest at 0 and darkens towards both ends.
    @Test func lightnessOrdersTheValues() {
        func luma(_ c: SIMD3<UInt8>) -> Int { 299 * Int(c.x) + 587 * Int(c.y) + 114 * Int(c.z) }
        let steps = (0...100).map { Float($0) / 100 }
        let viridis = steps.map { luma(ColorMap.viridis.color($0)) }
        #expect(zip(viridis, viridis.dropFirst()).allSatisfy { $0 <= $1 })
        let positive = steps.map { luma(ColorMap.redBlue.color($0)) }, negative = steps.map { luma(ColorMap.redBlue.color(-$0)) }
        #expect(zip(positive, positive.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(zip(negative, negative.dropFirst()).allSatisfy { $0 >= $1 })
    }
}
