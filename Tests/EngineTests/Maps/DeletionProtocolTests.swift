import Testing
@testable import Engine

@Suite struct DeletionProtocolTests {
    @Test func rankRoundsHalfToEvenLikePython() {
        // round(0.5·5) = round(2.5) = 2, round(0.3·5) = round(1.5) = 2, round(0.7·5) = round(3.5) = 4.
        #expect(DeletionProtocol.rank(percentage: 0.5, pixels: 5) == 2)
        #expect(DeletionProtocol.rank(percentage: 0.3, pixels: 5) == 2)
        #expect(DeletionProtocol.rank(percentage: 0.7, pixels: 5) == 4)
        // The 28×28 ranks: 0.03·784 = 23.52 → 24, 0.05·784 = 39.2 → 39, 0.07·784 = 54.88 → 55.
        #expect(DeletionProtocol.percentages.map { DeletionProtocol.rank(percentage: $0, pixels: 784) }
                == [0, 24, 39, 55, 78, 157, 235, 314, 392, 470, 549, 627, 706])
    }

    /// Ties at the threshold are not selected (strictly above), zero-valued pixels never are.
    @Test func selectionIsStrictAndSkipsZeros() {
        let map: [Float] = [0.9, 0.5, 0.5, 0.5, 0.1, 0, 0, 0, 0, 0]
        // p = 0: rank 0, threshold 0.9 → nothing above it.
        #expect(DeletionProtocol.selection(map: map, percentage: 0) == [Bool](repeating: false, count: 10))
        // p = 0.2: rank 2 → threshold 0.5; only 0.9 is above (the three 0.5s tie).
        #expect(DeletionProtocol.selection(map: map, percentage: 0.2) == [true] + [Bool](repeating: false, count: 9))
        // p = 0.5: rank 5 → threshold 0; 0.9, 0.5 ×3 and 0.1 are above; zeros are not.
        #expect(DeletionProtocol.selection(map: map, percentage: 0.5) == [true, true, true, true, true, false, false, false, false, false])
        // An all-zero map selects nothing at any percentage.
        #expect(DeletionProtocol.selection(map: [0, 0, 0, 0], percentage: 0.9) == [false, false, false, false])
        // Negative values (a signed map) are never above a zero threshold but are non-zero.
        #expect(DeletionProtocol.selection(map: [-1, 2, 0, -3], percentage: 0.5) == [false, true, false, false])
    }

    @Test func substitutionSetsEveryChannel() {
        let image: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]  // 2 channels × 3 pixels
        let result = DeletionProtocol.substitute(image, channels: 2, selection: [false, true, false], value: 1)
        #expect(result == [0.1, 1, 0.3, 0.4, 1, 0.6])
    }

    @Test func areaIsTheTrapezoidRule() {
        let ones = [Double](repeating: 1, count: DeletionProtocol.percentages.count)
        #expect(abs(DeletionProtocol.area(ones) - 0.9) < 1e-12)
        // A curve falling linearly from 1 at p = 0 to 0 at p = 0.9: area 0.45.
        let linear = DeletionProtocol.percentages.map { 1 - $0 / 0.9 }
        #expect(abs(DeletionProtocol.area(linear) - 0.45) < 1e-12)
        // Hand-computed: 1 until 0.1, then 0: (0.1 − 0) · 1 + (0.2 − 0.1) · 0.5 = 0.15.
        let step = DeletionProtocol.percentages.map { $0 <= 0.1 ? 1.0 : 0.0 }
        #expect(abs(DeletionProtocol.area(step) - 0.15) < 1e-12)
    }
}
