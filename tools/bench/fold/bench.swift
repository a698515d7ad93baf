// Times Im2Col.fold of two revisions in one process, alternating (see fold.sh).
// (name, channels, height, width, kernel, stride, pad): the stride-2 convolutions of torchvision's
// resnet18 whose input-gradient goes through the column matrix, and a stride-1 control.
let shapes: [(String, Int, Int, Int, Int, Int, Int)] = [
    ("resnet18 conv1 7×7/2, 3 ch 224×224", 3, 224, 224, 7, 2, 3),
    ("3×3/2, 64 ch 56×56", 64, 56, 56, 3, 2, 1),
    ("3×3/2, 128 ch 28×28", 128, 28, 28, 3, 2, 1),
    ("1×1/2, 64 ch 56×56 (unpaired tap)", 64, 56, 56, 1, 2, 0),
    ("3×3/1, 64 ch 56×56 (control: plain loop in both)", 64, 56, 56, 3, 1, 1),
]
for (name, channels, h, w, k, s, p) in shapes {
    let window = SpatialWindow(kernel: k, stride: s, padding: p)
    let g = try! window.geometry(inputHeight: h, inputWidth: w)
    let rows = channels * k * k, positions = g.outputHeight * g.outputWidth
    let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * positions)
    for i in 0..<(rows * positions) { columns[i] = Float(i % 977) * 0.001 - 0.3 }
    let a = UnsafeMutablePointer<Float>.allocate(capacity: channels * h * w)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: channels * h * w)
    a.initialize(repeating: 0, count: channels * h * w); b.initialize(repeating: 0, count: channels * h * w)
    OldIm2Col.fold(columns, channels: channels, geometry: g, addingInto: a)
    NewIm2Col.fold(columns, channels: channels, geometry: g, addingInto: b)
    for i in 0..<(channels * h * w) where !(a[i] == b[i]) { fatalError("\(name): mismatch at \(i): \(a[i]) vs \(b[i])") }
    compareAlternately(name, divisor: 1000, unit: "µs",
                       old: { OldIm2Col.fold(columns, channels: channels, geometry: g, addingInto: a) },
                       new: { NewIm2Col.fold(columns, channels: channels, geometry: g, addingInto: b) })
}
