import Testing
@testable import Pipeline

@Suite struct ImageTests {
    @Test func grayscaleMatchesPILConvertL() throws {
        let photo = try ImageFixtures.image("photo.png")
        #expect(photo.grayscale() == (try ImageFixtures.expected("photo.gray.u8", channels: 1)))
    }

    @Test func grayscaleWeighsRGBByBT601() {
        // (19595·R + 38470·G + 7471·B + 2¹⁵) >> 16, worked by hand.
        let rgb = Image(width: 5, height: 1, channels: 3,
                        pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 20, 30])
        #expect(rgb.grayscale().pixels == [76, 150, 29, 255, 18])
    }

    @Test func grayToRGBRepeatsTheSampleAndConvertsBack() {
        let gray = Image(width: 3, height: 2, channels: 1, pixels: [0, 1, 127, 128, 254, 255])
        let rgb = gray.rgb()
        #expect(rgb.channels == 3)
        #expect(rgb.pixels == [0, 0, 0, 1, 1, 1, 127, 127, 127, 128, 128, 128, 254, 254, 254, 255, 255, 255])
        #expect(rgb.grayscale() == gray)
        #expect(gray.grayscale() == gray)
        #expect(rgb.rgb() == rgb)
    }

    @Test func swappingRedAndBlueTurnsBGRIntoRGB() {
        let bgr = Image(width: 2, height: 1, channels: 3, pixels: [1, 2, 3, 4, 5, 6])
        #expect(bgr.swappingRedAndBlue().pixels == [3, 2, 1, 6, 5, 4])
        #expect(bgr.swappingRedAndBlue().swappingRedAndBlue() == bgr)
    }

    @Test func floatImageRoundsAndClampsTo8Bits() {
        let floats = FloatImage(width: 7, height: 1, channels: 1, pixels: [-3, 0.49, 0.5, 127.5, 254.6, 300, .nan])
        #expect(floats.quantized().pixels == [0, 0, 1, 128, 255, 255, 0])
        let image = Image(width: 2, height: 1, channels: 1, pixels: [7, 250])
        #expect(FloatImage(image).pixels == [7, 250])
        #expect(FloatImage(image).quantized() == image)
    }
}
