// Times PaddedPlane.fill of two revisions in one process, alternating (see fill.sh).
// (name, height, width, stride, pad, kernel)
let shapes: [(String, Int, Int, Int, Int, Int)] = [("14 wide s2 (bundled pool, mobilenet 14→7)", 14, 14, 2, 1, 3),
    ("16 wide s2", 16, 16, 2, 1, 3), ("28 wide s2", 28, 28, 2, 1, 3), ("112 wide s2", 112, 112, 2, 1, 3), ("56 wide s1", 56, 56, 1, 1, 3)]
for (name, h, w, s, p, k) in shapes {
    let oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1
    let rows = (oh - 1) * s + k, phaseWidth = (ow + 7) / 8 * 8 + (k - 1) / s
    let old = OldPlane(rows: rows, phases: s, phaseWidth: phaseWidth, top: p, left: p)
    let new = NewPlane(rows: rows, phases: s, phaseWidth: phaseWidth, top: p, left: p)
    let planes = max(1, 200_000 / (h * w))
    let src = UnsafeMutablePointer<Float>.allocate(capacity: planes * h * w)
    for i in 0..<(planes * h * w) { src[i] = Float(i % 977) }
    let a = UnsafeMutablePointer<Float>.allocate(capacity: old.count), b = UnsafeMutablePointer<Float>.allocate(capacity: new.count)
    for q in 0..<planes {
        old.fill(a, from: src + q * h * w, height: h, width: w, padding: -.infinity)
        new.fill(b, from: src + q * h * w, height: h, width: w, padding: -.infinity)
        for i in 0..<old.count where !(a[i] == b[i]) { fatalError("\(name): mismatch at \(i)") }
    }
    compareAlternately(name, divisor: Double(planes), unit: "ns/plane",
                       old: { for q in 0..<planes { old.fill(a, from: src + q * h * w, height: h, width: w, padding: -.infinity) } },
                       new: { for q in 0..<planes { new.fill(b, from: src + q * h * w, height: h, width: w, padding: -.infinity) } })
}
