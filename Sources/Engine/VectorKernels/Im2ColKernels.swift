/// The column-stride-2 runs of the engine's im2col and col2im (`Im2Col`: resnet's stem and its
/// strided 3×3 layers), for one column-matrix row or one pair of kernel taps over a band of output
/// rows. `@inlinable`, so that `AVX512Im2Col` and `AVX2Im2Col` compile them for their
/// instruction sets (the even/odd splits and interleaves as whole-register permutes) and
/// ``PortableIm2Col`` for baseline x86-64 (where each is several 4-lane shuffles).
public enum Im2ColKernels {
    @inlinable @inline(__always)
    static func load<V: SIMD>(_: V.Type, _ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inlinable @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// `destination[k] = 0` for `k < count`.
    @inlinable @inline(__always)
    static func zero(_ destination: UnsafeMutablePointer<Float>, count: Int) {
        for k in 0..<max(count, 0) { destination[k] = 0 }
    }

    /// `destination[k] = source[2k]` for `k < count`, sixteen at a time from thirty-two
    /// consecutive source values (two vectors' even lanes, one permute; `SIMD32`'s `evenHalf`
    /// compiled to sixteen single-lane inserts), then eight from sixteen. Reads no further than
    /// `source[2·(count − 1)]`, the last value it copies.
    @inlinable @inline(__always)
    public static func copyEvenElements(_ source: UnsafePointer<Float>, count: Int,
                                        into destination: UnsafeMutablePointer<Float>) {
        var k = 0
        // Thirty-two values end at source[2k + 31] ≤ source[2·(count − 1)] while k + 17 ≤ count.
        while k + 17 <= count {
            let a = load(SIMD16<Float>.self, source + 2 * k), b = load(SIMD16<Float>.self, source + 2 * k + 16)
            let evens = SIMD16<Float>(a[0], a[2], a[4], a[6], a[8], a[10], a[12], a[14],
                                      b[0], b[2], b[4], b[6], b[8], b[10], b[12], b[14])
            store(evens, destination + k)
            k += 16
        }
        // Sixteen end at source[2k + 15] ≤ source[2·(count − 1)] while k + 9 ≤ count.
        while k + 9 <= count {
            store(load(SIMD16<Float>.self, source + 2 * k).evenHalf, destination + k)
            k += 8
        }
        while k < count {
            destination[k] = source[2 * k]
            k += 1
        }
    }

    /// im2col of one column-matrix row (one tap of one channel) at column stride 2 for `rows`
    /// output rows of `width` columns: row `r` of `destination` (rows `width` apart) is 0 when
    /// `r` is outside `validRows` or `valid` is empty, else 0 before `valid`, the even elements
    /// of source row `r` (`source + r·sourceRowStep`, which holds column `valid.lowerBound`'s
    /// pixel first; read only for valid rows) in `valid`, and 0 after.
    @inlinable @inline(__always)
    public static func unfoldStride2(_ source: UnsafePointer<Float>, sourceRowStep: Int, rows: Int, validRows: Range<Int>,
                                     valid: Range<Int>, width: Int, into destination: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = destination + r * width
            guard validRows.contains(r), !valid.isEmpty else {
                zero(row, count: width)
                continue
            }
            zero(row, count: valid.lowerBound)
            copyEvenElements(source + r * sourceRowStep, count: valid.count, into: row + valid.lowerBound)
            zero(row + valid.upperBound, count: width - valid.upperBound)
        }
    }

    /// `destination[2k] += even[k]`, `destination[2k + 1] += odd[k]` for `k < count`, eight
    /// pairs at a time.
    @inlinable @inline(__always)
    static func addPairs(_ even: UnsafePointer<Float>, _ odd: UnsafePointer<Float>,
                         into destination: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        while k + 8 <= count {
            let a = load(SIMD8<Float>.self, even + k), b = load(SIMD8<Float>.self, odd + k)
            let pairs = SIMD16<Float>(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3],
                                      a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
            store(load(SIMD16<Float>.self, destination + 2 * k) + pairs, destination + 2 * k)
            k += 8
        }
        while k < count {
            destination[2 * k] += even[k]
            destination[2 * k + 1] += odd[k]
            k += 1
        }
    }

    /// `destination[2k] += even[k]` for `k < count`, eight at a time: sixteen consecutive
    /// destination values take `even[k…k+7]` interleaved with zeros. Like
    /// ``copyEvenElements(_:count:into:)`` it reaches no further than `destination[2·(count − 1)]`:
    /// the odd values it stores back (unchanged, but −0 becomes +0) lie between even ones of the
    /// same run, in the caller's row, which no other thread writes meanwhile.
    @inlinable @inline(__always)
    static func addEvenElements(_ even: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        while k + 9 <= count {
            let a = load(SIMD8<Float>.self, even + k)
            let spread = SIMD16<Float>(a[0], 0, a[1], 0, a[2], 0, a[3], 0, a[4], 0, a[5], 0, a[6], 0, a[7], 0)
            store(load(SIMD16<Float>.self, destination + 2 * k) + spread, destination + 2 * k)
            k += 8
        }
        while k < count {
            destination[2 * k] += even[k]
            k += 1
        }
    }

    /// col2im of taps `j` and `j + 1` of one kernel row at column stride 2 (column dilation 1)
    /// over `rows` output rows: row `r` adds tap `j`'s column row `first + r·sourceRowStep` onto
    /// the even elements `2k` (`k` in `firstRange`) of `line + r·lineStep` and tap `j + 1`'s
    /// `second + r·sourceRowStep` onto the odd elements `2k + 1` (`k` in `secondRange`, empty
    /// for a last odd tap alone). `line` is the input row's pixel `−padLeft + j`, so `2k` is
    /// output column `k`'s pixel for tap `j`. Tap `j + 1` reads one pixel further right: it starts
    /// and ends no later than tap `j`, so both reach `firstRange.lowerBound ..<
    /// secondRange.upperBound`, only tap `j + 1` is left of it and only tap `j` right of it.
    /// Each pixel receives tap `j`'s term before tap `j + 1`'s, as in one pass per tap.
    @inlinable @inline(__always)
    public static func foldStride2(first: UnsafePointer<Float>, second: UnsafePointer<Float>, sourceRowStep: Int,
                                   firstRange: Range<Int>, secondRange: Range<Int>, rows: Int,
                                   into line: UnsafeMutablePointer<Float>, lineStep: Int) {
        let both = firstRange.lowerBound..<max(firstRange.lowerBound, secondRange.upperBound)
        let leftEnd = min(secondRange.upperBound, firstRange.lowerBound)
        for r in 0..<rows {
            let target = line + r * lineStep
            let firstRow = first + r * sourceRowStep, secondRow = second + r * sourceRowStep
            for k in secondRange.lowerBound..<max(secondRange.lowerBound, leftEnd) { target[2 * k + 1] += secondRow[k] }
            addPairs(firstRow + both.lowerBound, secondRow + both.lowerBound, into: target + 2 * both.lowerBound,
                     count: both.count)
            addEvenElements(firstRow + both.upperBound, into: target + 2 * both.upperBound,
                            count: firstRange.upperBound - both.upperBound)
        }
    }
}

/// ``Im2ColKernels``' entries compiled for baseline x86-64 (this target's instruction set).
public enum PortableIm2Col {
    @inline(never)
    public static func unfoldStride2(_ source: UnsafePointer<Float>, sourceRowStep: Int, rows: Int, validRows: Range<Int>,
                                     valid: Range<Int>, width: Int, into destination: UnsafeMutablePointer<Float>) {
        Im2ColKernels.unfoldStride2(source, sourceRowStep: sourceRowStep, rows: rows, validRows: validRows, valid: valid,
                                    width: width, into: destination)
    }

    @inline(never)
    public static func foldStride2(first: UnsafePointer<Float>, second: UnsafePointer<Float>, sourceRowStep: Int,
                                   firstRange: Range<Int>, secondRange: Range<Int>, rows: Int,
                                   into line: UnsafeMutablePointer<Float>, lineStep: Int) {
        Im2ColKernels.foldStride2(first: first, second: second, sourceRowStep: sourceRowStep, firstRange: firstRange,
                                  secondRange: secondRange, rows: rows, into: line, lineStep: lineStep)
    }
}
