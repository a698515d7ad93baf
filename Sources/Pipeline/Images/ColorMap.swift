/// Colour maps for rendering saliency maps, from published control points with linear
/// interpolation in sRGB between them.
public enum ColorMap: Sendable, Equatable, CaseIterable {
    /// matplotlib's viridis (sequential, perceptually uniform), for unsigned maps: 0 is dark
    /// purple `#440154`, 1 is yellow `#FDE725`. 33 evenly spaced anchors of matplotlib's
    /// 256-entry table; within 2 levels of it.
    case viridis
    /// ColorBrewer's 11-class RdBu, blue for negative values and red for positive ones (matplotlib's
    /// `RdBu_r`), for signed maps: −1 is `#053061`, 0 the neutral near-white `#F7F7F7`, +1 `#67001F`.
    case redBlue

    /// Whether values are unsigned (`sequential`) or signed around a neutral 0 (`diverging`).
    public enum Kind: Sendable, Equatable { case sequential, diverging }

    public var kind: Kind {
        switch self {
        case .viridis: return .sequential
        case .redBlue: return .diverging
        }
    }

    /// The values the map spans: 0…1 (sequential) or −1…1 (diverging).
    public var domain: ClosedRange<Float> { kind == .sequential ? 0...1 : -1...1 }

    /// The colour of `value` as (R, G, B); values outside ``domain`` are clamped to it, and NaN
    /// is treated as the domain's lower end (sequential) or 0 (diverging).
    public func color(_ value: Float) -> SIMD3<UInt8> {
        let anchors = self.anchors
        let t = (value - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
        let position = (t.isNaN ? (kind == .sequential ? 0 : 0.5) : min(max(t, 0), 1)) * Float(anchors.count - 1)
        let lower = min(Int(position), anchors.count - 2)
        let fraction = position - Float(lower)
        let a = Self.components(anchors[lower]), b = Self.components(anchors[lower + 1])
        let mixed = a + (b - a) * fraction
        return SIMD3(FloatImage.byte(mixed.x), FloatImage.byte(mixed.y), FloatImage.byte(mixed.z))
    }

    private var anchors: [UInt32] {
        switch self {
        case .viridis: return Self.viridisAnchors
        case .redBlue: return Self.redBlueAnchors
        }
    }

    private static func components(_ rgb: UInt32) -> SIMD3<Float> {
        SIMD3(Float(rgb >> 16 & 0xFF), Float(rgb >> 8 & 0xFF), Float(rgb & 0xFF))
    }

    /// matplotlib's viridis (`_cm_listed._viridis_data`, van der Walt and Smith, CC0) sampled at
    /// `i/32`, `i = 0…32`, as `0xRRGGBB`.
    private static let viridisAnchors: [UInt32] = [
        0x440154, 0x470D60, 0x48186A, 0x482374, 0x472D7B, 0x453681, 0x424086, 0x3F4989,
        0x3B528B, 0x375A8D, 0x33638D, 0x2F6A8E, 0x2C728E, 0x297A8E, 0x26818E, 0x23898E,
        0x21908C, 0x1F988B, 0x1F9F88, 0x21A685, 0x28AE80, 0x31B57B, 0x3EBC74, 0x4CC26C,
        0x5DC963, 0x6ECE58, 0x82D34C, 0x96D83F, 0xABDC32, 0xC0DF24, 0xD5E21A, 0xEAE51A,
        0xFDE725,
    ]

    /// ColorBrewer's RdBu (11 classes, Cynthia Brewer, Apache-2.0), from blue to red, as
    /// `0xRRGGBB`, evenly spaced over −1…1.
    private static let redBlueAnchors: [UInt32] = [
        0x053061, 0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7,
        0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B, 0x67001F,
    ]
}
