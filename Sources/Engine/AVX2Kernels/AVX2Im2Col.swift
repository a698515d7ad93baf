import VectorKernels

/// The column-stride-2 runs of im2col and col2im (`VectorKernels`' `Im2ColKernels`), inlined
/// here and so compiled for this target's instruction set. Same contracts.
public enum AVX2Im2Col {
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
