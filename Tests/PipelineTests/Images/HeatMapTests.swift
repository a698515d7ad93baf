import Testing
@testable import Pipeline

@Suite struct HeatMapTests {
    @Test func unsignedMapsAreMinMaxNormalised() {
        expectClose(HeatMap.normalized([2, 4, 6, 3], for: .sequential), [0, 0.5, 1, 0.25] as [Float])
        expectClose(HeatMap.normalized([-1, 1], for: .sequential), [0, 1] as [Float])
    }

    /// `PAPER.md`: a map whose max equals its min normalises to all zeros.
    @Test func constantMapsNormaliseToZero() {
        #expect(HeatMap.normalized([3, 3, 3], for: .sequential) == [0, 0, 0])
        #expect(HeatMap.normalized([0, 0], for: .sequential) == [0, 0])
        #expect(HeatMap.normalized([0, 0], for: .diverging) == [0, 0])
    }

    @Test func signedMapsAreScaledByTheirLargestMagnitude() {
        expectClose(HeatMap.normalized([-2, 0, 1, 0.5], for: .diverging), [-1, 0, 0.5, 0.25] as [Float])
        expectClose(HeatMap.normalized([0, 4, 2], for: .diverging), [0, 1, 0.5] as [Float])
    }

    @Test func nonFiniteValuesAreIgnoredAndNeutral() {
        expectClose(HeatMap.normalized([.nan, 2, .infinity, 4], for: .sequential), [0, 0, 0, 1] as [Float])
        expectClose(HeatMap.normalized([-.infinity, -2, 1], for: .diverging), [0, -1, 0.5] as [Float])
    }

    @Test func renderColoursEveryPixel() {
        let map = HeatMap.render([0, 5, 10, 2.5, 7.5, 10], width: 3, height: 2)
        #expect(map.width == 3 && map.height == 2 && map.channels == 3)
        let colors = [0, 0.5, 1, 0.25, 0.75, 1].map { ColorMap.viridis.color(Float($0)) }
        #expect(map.pixels == colors.flatMap { [$0.x, $0.y, $0.z] })
        #expect(HeatMap.render([4, 4], width: 2, height: 1).pixels == [68, 1, 84, 68, 1, 84])
    }

    @Test func signedRenderKeepsZeroNeutral() {
        let map = HeatMap.render([-3, 0, 1.5], width: 3, height: 1, colorMap: .redBlue)
        #expect(map.pixels == [5, 48, 97, 247, 247, 247] + [ColorMap.redBlue.color(0.5)].flatMap { [$0.x, $0.y, $0.z] })
    }

    @Test func overlayBlendsOverTheInputInRGB() {
        let heat = Image(width: 2, height: 1, channels: 3, pixels: [200, 0, 50, 10, 20, 30])
        let gray = Image(width: 2, height: 1, channels: 1, pixels: [100, 0])
        #expect(HeatMap.overlay(heat, on: gray).pixels == [150, 50, 75, 5, 10, 15])
        #expect(HeatMap.overlay(heat, on: gray, alpha: 0) == gray.rgb())
        #expect(HeatMap.overlay(heat, on: gray, alpha: 1) == heat)
        #expect(HeatMap.overlay(heat, on: gray, alpha: 0.25).pixels == [125, 75, 88, 3, 5, 8])
    }

    @Test func overlayResizesTheInputToTheMap() throws {
        let photo = try ImageFixtures.image("photo.jpg")
        let heat = HeatMap.render((0..<(32 * 24)).map(Float.init), width: 32, height: 24)
        let shown = HeatMap.overlay(heat, on: photo, alpha: 0)
        #expect(shown == ImageResizer.resize(photo, width: 32, height: 24))
        let blended = HeatMap.overlay(heat, on: photo)
        #expect(blended.width == 32 && blended.height == 24 && blended.channels == 3)
    }
}
