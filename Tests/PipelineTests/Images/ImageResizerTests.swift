import Testing
@testable import Pipeline

@Suite struct ImageResizerTests {
    @Test func sameSizeIsTheIdentity() throws {
        let photo = try ImageFixtures.image("photo.png")
        #expect(ImageResizer.resize(photo, width: 64, height: 48) == photo)
        let floats = FloatImage(photo)
        #expect(ImageResizer.resize(floats, width: 64, height: 48) == floats)
        // The weights for an unchanged axis pick each pixel alone.
        let kernel = ResamplingKernel(inputSize: 5, outputSize: 5)
        for o in 0..<5 {
            #expect(kernel.weights[o * kernel.taps + o - kernel.starts[o]] == 1)
            #expect(kernel.weights[(o * kernel.taps)..<((o + 1) * kernel.taps)].reduce(0, +) == 1)
        }
    }

    @Test(arguments: [(7, 5), (3, 11), (1, 1), (20, 2), (13, 13)])
    func aConstantImageStaysConstant(width: Int, height: Int) {
        let constant = FloatImage(width: 9, height: 6, channels: 3, pixels: [Float](repeating: 0.7, count: 9 * 6 * 3))
        let resized = ImageResizer.resize(constant, width: width, height: height)
        #expect(resized.width == width && resized.height == height && resized.channels == 3)
        expectClose(resized.pixels, [Float](repeating: 0.7, count: width * height * 3), rtol: 1e-6)
        let gray = Image(width: 9, height: 6, channels: 1, pixels: [UInt8](repeating: 200, count: 54))
        #expect(ImageResizer.resize(gray, width: width, height: height).pixels.allSatisfy { $0 == 200 })
    }

    /// 2×2 → 4×4: output centres at (o + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25; the outer ones
    /// fall beyond the edge centres and take the edge value, the inner ones mix 3:1 and 1:3.
    @Test func upscaling2x2To4x4() {
        let image = FloatImage(width: 2, height: 2, channels: 1, pixels: [0, 4,
                                                                             8, 12])
        let resized = ImageResizer.resize(image, width: 4, height: 4)
        expectClose(resized.pixels, [0, 1, 3, 4,
                                     2, 3, 5, 6,
                                     6, 7, 9, 10,
                                     8, 9, 11, 12] as [Float])
    }

    /// 8 → 4: the triangle is widened to radius 2, so each output reads 4 inputs weighted
    /// 1:3:3:1 (distances 1.5, 0.5, 0.5, 1.5); at the edges the weights left are renormalised.
    @Test func shrinkingBy2WeighsFourPixels() {
        let kernel = ResamplingKernel(inputSize: 8, outputSize: 4)
        #expect(kernel.starts == [0, 1, 3, 5])
        #expect(kernel.counts == [3, 4, 4, 3])
        let rows = (0..<4).map { Array(kernel.weights[($0 * kernel.taps)..<($0 * kernel.taps + kernel.counts[$0])]) }
        expectClose(rows[0], [3.0 / 7, 3.0 / 7, 1.0 / 7])
        expectClose(rows[1], [1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8])
        expectClose(rows[2], [1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8])
        expectClose(rows[3], [1.0 / 7, 3.0 / 7, 3.0 / 7])
    }

    /// A 1-pixel checkerboard shrunk by 2 or 4 averages to its mean, 0.5, instead of aliasing
    /// into stripes; only the border rows and columns, whose kernels are cut by the edge and
    /// renormalised, stay within 1/14 of it.
    @Test(arguments: [2, 4])
    func shrinkingACheckerboardAveragesIt(factor: Int) {
        let size = 32
        let board = FloatImage(width: size, height: size, channels: 1,
                               pixels: (0..<(size * size)).map { Float(($0 / size + $0 % size) % 2) })
        let small = size / factor
        let resized = ImageResizer.resize(board, width: small, height: small)
        for y in 0..<small {
            for x in 0..<small {
                let value = resized.pixels[y * small + x]
                if (1..<(small - 1)).contains(x) && (1..<(small - 1)).contains(y) {
                    #expect(abs(value - 0.5) < 1e-6, "(\(x), \(y)) = \(value)")
                } else {
                    #expect(abs(value - 0.5) <= 1.0 / 14 + 1e-6, "(\(x), \(y)) = \(value)")
                }
            }
        }
    }

    /// Against PIL's float resize (mode "F", double-precision weights, no rounding): the
    /// convention is the same to float precision (max |Δ| measured 4.6e-5 on values 0…255).
    @Test(arguments: [(32, 24), (25, 19), (72, 54), (80, 30)])
    func floatResizeMatchesPIL(width: Int, height: Int) throws {
        let gray = FloatImage(try ImageFixtures.image("gray.png"))
        let resized = ImageResizer.resize(gray, width: width, height: height)
        let expected = try ImageFixtures.floats("resized-\(width)x\(height).f32")
        expectClose(resized.pixels, expected, rtol: 0, atol: 1e-4, "\(width)×\(height)")
    }

    /// Against PIL's 8-bit resize: the same fixed-point arithmetic and pass order, so the same
    /// bytes (80×30 runs the vertical pass first).
    @Test(arguments: [(32, 24), (25, 19), (72, 54), (80, 30)])
    func eightBitResizeMatchesPIL(width: Int, height: Int) throws {
        let photo = try ImageFixtures.image("photo.png")
        let resized = ImageResizer.resize(photo, width: width, height: height)
        let expected = try ImageFixtures.bytes("resized-\(width)x\(height).u8")
        expectClose(resized.pixels, expected, tolerance: 0, "\(width)×\(height)")
    }
}
