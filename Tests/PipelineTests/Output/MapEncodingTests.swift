import Foundation
@testable import Pipeline
import Testing

/// Map encodings, by hand and through the parser a consumer would use.
@Suite struct MapEncodingTests {
    let map: [Float] = [-1, 0, 0.5, 3]

    @Test func float32IsLittleEndianIEEE() {
        let bytes = MapEncoding.f32.encode([1, -2], minimum: -2, maximum: 1)
        #expect(bytes == [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    @Test func float16RoundsToNearest() throws {
        let bytes = MapEncoding.f16.encode([1, -2, 65504], minimum: -2, maximum: 65504)
        #expect(bytes == [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B])
        let back = try MapsMessage.decode(MapEncoding.f16.encode(map, minimum: -1, maximum: 3),
                                          .init(name: "m", dtype: "float16", width: 4, height: 1, min: -1, max: 3))
        #expect(back == map, "these values are exact in float16")
    }

    @Test func uint8ScalesMinToZeroAndMaxTo255() throws {
        let bytes = MapEncoding.u8.encode(map, minimum: -1, maximum: 3)
        #expect(bytes == [0, 64, 96, 255])
        let back = try MapsMessage.decode(bytes, .init(name: "m", dtype: "uint8", width: 4, height: 1, min: -1, max: 3))
        for (restored, original) in zip(back, map) { #expect(abs(restored - original) <= 4 / 255 / 2 + 1e-6) }
        #expect(MapEncoding.u8.encode([2, 2], minimum: 2, maximum: 2) == [0, 0], "a constant map is all zeros")
    }
}
