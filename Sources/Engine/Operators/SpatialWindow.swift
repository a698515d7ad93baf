/// How a sliding-window operator pads its input (ONNX `pads` / `auto_pad`).
public enum WindowPadding: Sendable, Equatable {
    /// Explicit padding in pixels: ONNX `pads = [top, left, bottom, right]`.
    case explicit(top: Int, left: Int, bottom: Int, right: Int)
    /// `auto_pad = SAME_UPPER`: output `ceil(in / stride)`, the odd pixel of padding at the end.
    case sameUpper
    /// `auto_pad = SAME_LOWER`: output `ceil(in / stride)`, the odd pixel of padding at the start.
    case sameLower

    /// No padding (`auto_pad = VALID`, or `pads` all zero).
    public static let valid = WindowPadding.explicit(top: 0, left: 0, bottom: 0, right: 0)

    /// The same padding on every side.
    public static func symmetric(_ pad: Int) -> WindowPadding {
        .explicit(top: pad, left: pad, bottom: pad, right: pad)
    }
}

/// The attributes shared by convolution and pooling over a `C×H×W` frame: kernel extent, stride,
/// dilation, padding and rounding of the output size.
public struct SpatialWindow: Sendable, Equatable {
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int = 1
    public var strideWidth: Int = 1
    public var dilationHeight: Int = 1
    public var dilationWidth: Int = 1
    public var padding: WindowPadding = .valid
    /// Round the output size up instead of down (pooling's `ceil_mode`); a last window that would
    /// start in the end padding is dropped, as PyTorch and ONNX do.
    public var ceilMode: Bool = false

    public init(kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                dilationHeight: Int = 1, dilationWidth: Int = 1, padding: WindowPadding = .valid,
                ceilMode: Bool = false) {
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.padding = padding
        self.ceilMode = ceilMode
    }

    /// A square window: `kernel×kernel`, one stride, one symmetric padding.
    public init(kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        self.init(kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
                  dilationHeight: dilation, dilationWidth: dilation, padding: .symmetric(padding),
                  ceilMode: ceilMode)
    }

    /// The window resolved against an input's height and width.
    public func geometry(inputHeight: Int, inputWidth: Int) throws(OperatorError) -> WindowGeometry {
        guard kernelHeight > 0, kernelWidth > 0 else {
            throw OperatorError("kernel \(kernelHeight)×\(kernelWidth) must be positive")
        }
        guard strideHeight > 0, strideWidth > 0 else {
            throw OperatorError("strides \(strideHeight)×\(strideWidth) must be positive")
        }
        guard dilationHeight > 0, dilationWidth > 0 else {
            throw OperatorError("dilations \(dilationHeight)×\(dilationWidth) must be positive")
        }
        let vertical = try Self.axis(input: inputHeight, kernel: kernelHeight, stride: strideHeight,
                                     dilation: dilationHeight, padding: padding, leading: \.top, trailing: \.bottom,
                                     ceilMode: ceilMode, name: "height")
        let horizontal = try Self.axis(input: inputWidth, kernel: kernelWidth, stride: strideWidth,
                                       dilation: dilationWidth, padding: padding, leading: \.left, trailing: \.right,
                                       ceilMode: ceilMode, name: "width")
        return WindowGeometry(
            inputHeight: inputHeight, inputWidth: inputWidth,
            outputHeight: vertical.output, outputWidth: horizontal.output,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            strideHeight: strideHeight, strideWidth: strideWidth,
            dilationHeight: dilationHeight, dilationWidth: dilationWidth,
            padTop: vertical.leading, padLeft: horizontal.leading,
            padBottom: vertical.trailing, padRight: horizontal.trailing)
    }

    private struct ExplicitPads { var top = 0, left = 0, bottom = 0, right = 0 }

    private static func axis(input: Int, kernel: Int, stride: Int, dilation: Int, padding: WindowPadding,
                             leading: KeyPath<ExplicitPads, Int>, trailing: KeyPath<ExplicitPads, Int>,
                             ceilMode: Bool, name: String) throws(OperatorError)
        -> (output: Int, leading: Int, trailing: Int) {
        let extent = dilation * (kernel - 1) + 1
        switch padding {
        case let .explicit(top, left, bottom, right):
            let pads = ExplicitPads(top: top, left: left, bottom: bottom, right: right)
            let before = pads[keyPath: leading], after = pads[keyPath: trailing]
            guard before >= 0, after >= 0 else { throw OperatorError("negative padding along \(name)") }
            let span = input + before + after - extent
            guard span >= 0 else {
                throw OperatorError("window extent \(extent) exceeds the padded \(name) \(input + before + after)")
            }
            var output = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
            // The last window must start inside the input or its leading padding.
            if ceilMode && (output - 1) * stride >= input + before { output -= 1 }
            return (output, before, after)
        case .sameUpper, .sameLower:
            let output = (input + stride - 1) / stride
            let total = max(0, (output - 1) * stride + extent - input)
            let small = total / 2, large = total - small
            return padding == .sameUpper ? (output, small, large) : (output, large, small)
        }
    }
}

/// A ``SpatialWindow`` resolved for one input size: every extent and pad as plain integers.
public struct WindowGeometry: Sendable, Equatable {
    public var inputHeight: Int, inputWidth: Int
    public var outputHeight: Int, outputWidth: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var dilationHeight: Int, dilationWidth: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int

    public var inputPlane: Int { inputHeight * inputWidth }
    public var outputPlane: Int { outputHeight * outputWidth }
    public var kernelArea: Int { kernelHeight * kernelWidth }

    /// `true` when the window is the identity map of a 1×1 convolution (im2col can be skipped).
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }

    /// The output columns `ow` whose input column `ow·stride − padLeft + offset` lies inside
    /// `0..<inputWidth`, for a kernel column at `offset` (dilation already applied).
    @inline(__always)
    func validOutputColumns(offset: Int) -> Range<Int> {
        validRange(offset: offset - padLeft, stride: strideWidth, input: inputWidth, output: outputWidth)
    }

    /// The output rows whose input row lies inside `0..<inputHeight`, for a kernel row at `offset`.
    @inline(__always)
    func validOutputRows(offset: Int) -> Range<Int> {
        validRange(offset: offset - padTop, stride: strideHeight, input: inputHeight, output: outputHeight)
    }

    @inline(__always)
    private func validRange(offset: Int, stride: Int, input: Int, output: Int) -> Range<Int> {
        // o·stride + offset ≥ 0  ⇔  o ≥ ceil(−offset / stride);  o·stride + offset < input.
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let lastExclusive = input - offset <= 0 ? 0 : (input - offset - 1) / stride + 1
        let lower = min(first, output), upper = min(max(lastExclusive, lower), output)
        return lower..<upper
    }
}
