/// Runs the paper's deletion evaluation (``DeletionProtocol``) over images, batching frames
/// through the engine: one forward + backward pass per batch of originals for the maps, then
/// the perturbed copies in batches of forward passes.
public final class DeletionEvaluator {
    public let model: CompiledModel
    public let preprocessing: Preprocessing
    public let methods: [SaliencyMethod]
    /// Substitute values in `[0, 1]` image space (the paper's black 0 and white 1).
    public let substitutes: [Float]
    public let percentages: [Double]

    /// Images evaluated so far.
    public private(set) var imageCount = 0
    /// Images whose prediction equalled the label given with them, and how many had labels.
    public private(set) var correctCount = 0
    public private(set) var labelledCount = 0
    /// `unchanged[s][m][p]`: images whose prediction survived deletion at percentage `p` with
    /// method `m`'s map and substitute `s`.
    private var unchanged: [[[Int]]]

    private let frames: Workspace
    private let variants: Workspace
    private let frame: Int
    private var queue: [Float]
    private var queueKeys: [(substitute: Int, method: Int, percentage: Int, expected: Int)] = []

    public init(model: CompiledModel, preprocessing: Preprocessing, methods: [SaliencyMethod], substitutes: [Float],
                batch: Int = 16, variantBatch: Int = 128, percentages: [Double] = DeletionProtocol.percentages) {
        self.model = model
        self.preprocessing = preprocessing
        self.methods = methods
        self.substitutes = substitutes
        self.percentages = percentages
        let needsJacobian = methods.contains(where: \.needsJacobian)
        frames = Workspace(model: model, maxBatch: batch, maxCotangents: needsJacobian ? model.classCount : 1)
        variants = Workspace(model: model, maxBatch: variantBatch, maxCotangents: 1)
        frame = model.inputCount
        queue = []
        queue.reserveCapacity(variantBatch * model.inputCount)
        unchanged = substitutes.map { _ in methods.map { _ in [Int](repeating: 0, count: percentages.count) } }
    }

    /// Evaluates `count` images, `images` holding them as `C×H×W` planes in `[0, 1]` (before
    /// mean/std normalisation, which the evaluator applies).
    public func add(images: [Float], count: Int, labels: [Int]? = nil) throws(EngineError) {
        precondition(images.count == count * frame, "DeletionEvaluator: \(images.count) values for \(count) images")
        let channels = model.inputShape[0]
        var start = 0
        while start < count {
            let batch = min(frames.maxBatch, count - start)
            var normalised = Array(images[(start * frame)..<((start + batch) * frame)])
            preprocessing.normalise(&normalised, channels: channels, frames: batch)
            try frames.forward(normalised, batch: batch)
            try frames.backward(methods.contains(where: \.needsJacobian) ? .allClasses : .predictedClass)
            for b in 0..<batch {
                let expected = frames.predictedClass(frame: b)
                if let labels {
                    labelledCount += 1
                    if labels[start + b] == expected { correctCount += 1 }
                }
                let original = Array(images[((start + b) * frame)..<((start + b + 1) * frame)])
                for (m, method) in methods.enumerated() {
                    guard let map = SaliencyMaps.compute(method, workspace: frames, frame: b) else { continue }
                    let sorted = map.sorted(by: >)
                    for (p, percentage) in percentages.enumerated() {
                        let threshold = DeletionProtocol.threshold(sortedDescending: sorted, percentage: percentage)
                        let selection = map.map { $0 > threshold && $0 != 0 }
                        for (s, value) in substitutes.enumerated() {
                            // Nothing selected: the image is unchanged, and so is its prediction.
                            guard selection.contains(true) else {
                                unchanged[s][m][p] += 1
                                continue
                            }
                            var variant = DeletionProtocol.substitute(original, channels: channels, selection: selection, value: value)
                            preprocessing.normalise(&variant, channels: channels)
                            queue += variant
                            queueKeys.append((s, m, p, expected))
                            if queueKeys.count == variants.maxBatch { try flush() }
                        }
                    }
                }
            }
            start += batch
        }
        try flush()
        imageCount += count
    }

    private func flush() throws(EngineError) {
        guard !queueKeys.isEmpty else { return }
        try variants.forward(queue, batch: queueKeys.count)
        for (index, key) in queueKeys.enumerated() where variants.predictedClass(frame: index) == key.expected {
            unchanged[key.substitute][key.method][key.percentage] += 1
        }
        queue.removeAll(keepingCapacity: true)
        queueKeys.removeAll(keepingCapacity: true)
    }

    /// The allegiance curve (share of unchanged predictions per percentage).
    public func curve(method: SaliencyMethod, substitute: Float) -> [Double] {
        guard let m = methods.firstIndex(of: method), let s = substitutes.firstIndex(of: substitute), imageCount > 0 else { return [] }
        return unchanged[s][m].map { Double($0) / Double(imageCount) }
    }

    /// The area under ``curve(method:substitute:)`` by the trapezoid rule.
    public func area(method: SaliencyMethod, substitute: Float) -> Double {
        DeletionProtocol.area(curve(method: method, substitute: substitute), percentages: percentages)
    }
}

extension Preprocessing {
    /// Normalises `frames` consecutive `C×H×W` images in place.
    public func normalise(_ images: inout [Float], channels: Int, frames: Int) {
        let count = images.count / max(frames, 1)
        for f in 0..<frames {
            var image = Array(images[(f * count)..<((f + 1) * count)])
            normalise(&image, channels: channels)
            images.replaceSubrange((f * count)..<((f + 1) * count), with: image)
        }
    }
}
