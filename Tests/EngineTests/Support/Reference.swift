import Foundation
@testable import Engine

/// Direct double-precision implementations of the operators, written from their definitions
/// (nested loops over outputs, no im2col, no BLAS) — the oracle the engine is checked against.
enum Reference {
    static func convolution(_ x: [Double], _ shape: TensorShape, _ op: ConvolutionOperator) -> [Double] {
        let (channels, height, width) = shape.channelsHeightWidth!
        let g = try! op.window.geometry(inputHeight: height, inputWidth: width)
        let filters = op.weights.shape[0], perGroup = op.weights.shape[1]
        let kh = op.weights.shape[2], kw = op.weights.shape[3]
        let filtersPerGroup = filters / op.groups
        precondition(perGroup * op.groups == channels)
        var y = [Double](repeating: 0, count: filters * g.outputPlane)
        for m in 0..<filters {
            let group = m / filtersPerGroup
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    var sum = Double(op.bias?[m] ?? 0)
                    for c in 0..<perGroup {
                        let inputChannel = group * perGroup + c
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                                let iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                                guard ih >= 0, ih < height, iw >= 0, iw < width else { continue }
                                let weight = Double(op.weights.values[((m * perGroup + c) * kh + i) * kw + j])
                                sum += weight * x[(inputChannel * height + ih) * width + iw]
                            }
                        }
                    }
                    y[(m * g.outputHeight + oh) * g.outputWidth + ow] = sum
                }
            }
        }
        return y
    }

    /// Max or average pooling; `divisor` gives the averaging divisor from the counts of window
    /// cells inside the input and inside the padded input.
    static func pool(_ x: [Double], _ shape: TensorShape, _ window: SpatialWindow, max: Bool,
                     countIncludePad: Bool = false) -> [Double] {
        let (channels, height, width) = shape.channelsHeightWidth!
        let g = try! window.geometry(inputHeight: height, inputWidth: width)
        var y: [Double] = []
        for c in 0..<channels {
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    var best = -Double.infinity, sum = 0.0, inside = 0, padded = 0
                    for i in 0..<g.kernelHeight {
                        for j in 0..<g.kernelWidth {
                            let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                            let iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                            if ih >= -g.padTop, ih < height + g.padBottom, iw >= -g.padLeft, iw < width + g.padRight {
                                padded += 1
                            }
                            guard ih >= 0, ih < height, iw >= 0, iw < width else { continue }
                            let v = x[(c * height + ih) * width + iw]
                            best = Swift.max(best, v)
                            sum += v
                            inside += 1
                        }
                    }
                    y.append(max ? best : sum / Double(countIncludePad ? padded : inside))
                }
            }
        }
        return y
    }

    static func spatialMean(_ x: [Double], _ shape: TensorShape) -> [Double] {
        let plane = shape[1] * shape[2]
        return (0..<shape[0]).map { c in x[(c * plane)..<((c + 1) * plane)].reduce(0, +) / Double(plane) }
    }

    static func broadcast(_ a: [Double], _ aShape: TensorShape, _ b: [Double], _ bShape: TensorShape,
                          _ combine: (Double, Double) -> Double) -> (values: [Double], shape: TensorShape) {
        let rank = Swift.max(aShape.rank, bShape.rank)
        func padded(_ s: TensorShape) -> [Int] { [Int](repeating: 1, count: rank - s.rank) + s.dimensions }
        let pa = padded(aShape), pb = padded(bShape)
        let out = zip(pa, pb).map { Swift.max($0, $1) }
        let outShape = TensorShape(out)
        var result: [Double] = []
        for flat in 0..<outShape.elementCount {
            var rest = flat, ia = 0, ib = 0, sa = 1, sb = 1
            for axis in stride(from: rank - 1, through: 0, by: -1) {
                let index = rest % out[axis]
                rest /= out[axis]
                ia += (pa[axis] == 1 ? 0 : index) * sa
                ib += (pb[axis] == 1 ? 0 : index) * sb
                sa *= pa[axis]
                sb *= pb[axis]
            }
            result.append(combine(a[ia], b[ib]))
        }
        return (result, outShape)
    }

    static func gemm(_ x: [Double], _ op: GemmOperator) -> [Double] {
        let b = op.weights
        let (features, outputs) = op.transposeWeights ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        return (0..<outputs).map { g in
            var sum = 0.0
            for f in 0..<features {
                let w = op.transposeWeights ? b.values[g * features + f] : b.values[f * outputs + g]
                sum += x[f] * Double(w)
            }
            let c = op.bias.map { Double($0.values[$0.values.count == 1 ? 0 : g]) } ?? 0
            return Double(op.alpha) * sum + Double(op.beta) * c
        }
    }

    static func softmax(_ x: [Double]) -> [Double] {
        let m = x.max()!
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
