#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The parts of the engine's blocked matrix products (`AVX512GEMM`, `AVX2GEMM`) that do not
// depend on the register block: the per-thread packing buffers, `C ← beta·C` before the product,
// and writing an edge tile back. `@inlinable`, so each kernel target compiles the loops for its
// own instruction set.

/// Where a blocked product's kernels read `op(B)` (`AVX512GEMM` and `AVX2GEMM` alike): packed
/// panels (`width·kc` floats each, steps `width` apart), or `B` itself from a column block's
/// first column, steps `ldb` apart. ``readsInPlace(transposed:ldb:)`` chooses: `B` not
/// transposed and its rows at most ``widestInPlaceStride`` floats apart — a Winograd position's
/// `V_ξ` (`C` rows of one block's tiles) or a band's im2col columns, just written and in cache,
/// which packing copied once more (with the limit raised from 1024 to take the im2col bands too,
/// the resnet18 stem's forward went 1.40–1.78 → 1.22–1.63 ms, seven alternating rounds). A
/// convolution VJP's `dY` rows, a whole map apart, are still packed.
public enum GEMMOperandB {
    case packed(UnsafeMutablePointer<Float>)
    case inPlace(UnsafePointer<Float>, ldb: Int)

    /// The widest row stride of `B` read in place, in floats (16 KiB).
    public static let widestInPlaceStride = 4096

    @inlinable
    public static func readsInPlace(transposed: Bool, ldb: Int) -> Bool { !transposed && ldb <= widestInPlaceStride }
}

/// One thread's packing buffers for a blocked GEMM: a block of packed `op(A)` panels, a block of
/// packed `op(B)` panels, and one register tile for the edges.
public final class GEMMPackingBuffers {
    public let a: UnsafeMutablePointer<Float>
    public let b: UnsafeMutablePointer<Float>
    public let tile: UnsafeMutablePointer<Float>

    init(_ sizes: GEMMPackingBufferSizes) {
        a = .allocate(capacity: sizes.a)
        b = .allocate(capacity: sizes.b)
        tile = .allocate(capacity: sizes.tile)
    }

    deinit {
        a.deallocate()
        b.deallocate()
        tile.deallocate()
    }
}

/// The floats each of a GEMM's ``GEMMPackingBuffers`` holds.
public struct GEMMPackingBufferSizes: Sendable {
    public var a: Int
    public var b: Int
    public var tile: Int

    public init(a: Int, b: Int, tile: Int) {
        self.a = a
        self.b = b
        self.tile = tile
    }
}

/// ``GEMMPackingBuffers`` kept per thread: made on a thread's first product and released when
/// the thread ends. One instance per GEMM implementation (each has its own sizes).
public struct PerThreadPackingBuffers: Sendable {
    private let key: pthread_key_t
    private let sizes: GEMMPackingBufferSizes

    public init(_ sizes: GEMMPackingBufferSizes) {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<GEMMPackingBuffers>.fromOpaque(pointer).release() }
        }
        self.key = key
        self.sizes = sizes
    }

    /// The calling thread's buffers.
    public var current: GEMMPackingBuffers {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<GEMMPackingBuffers>.fromOpaque(pointer).takeUnretainedValue()
        }
        let buffers = GEMMPackingBuffers(sizes)
        pthread_setspecific(key, Unmanaged.passRetained(buffers).toOpaque())
        return buffers
    }
}

/// What a blocked GEMM does to `C` (`m×n` row-major, `ldc`) around its packed products.
public enum GEMMOutput {
    /// Brings `C` to `beta·C` for the blocked product to add to, and says whether a product
    /// remains: with `k = 0` or `alpha = 0` the result is `beta·C` alone (zeros for `beta = 0`,
    /// whatever `C` held). With `beta = 0` or `1` nothing is written here: the product's first
    /// depth slice stores (`beta = 0`) or every slice adds (`beta = 1`).
    @inlinable
    public static func prepare(_ c: UnsafeMutablePointer<Float>, rows m: Int, columns n: Int, ldc: Int,
                               depth k: Int, alpha: Float, beta: Float) -> Bool {
        guard m > 0, n > 0 else { return false }
        guard k > 0, alpha != 0 else {
            if beta != 1 { scale(c, rows: m, columns: n, ldc: ldc, by: beta) }
            return false
        }
        if beta != 0 && beta != 1 { scale(c, rows: m, columns: n, ldc: ldc, by: beta) }
        return true
    }

    /// `C ← beta · C` (zeros when `beta = 0`, whatever `C` held).
    @inlinable
    public static func scale(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int, by beta: Float) {
        for r in 0..<rows {
            let row = c + r * ldc
            if beta == 0 {
                row.update(repeating: 0, count: columns)
            } else {
                for x in 0..<columns { row[x] *= beta }
            }
        }
    }

    /// The valid `rows×columns` corner of an edge tile (`tileStride` floats per row) stored
    /// into, or added onto, `C` at `c`.
    @inlinable
    public static func writeEdgeTile(_ tile: UnsafePointer<Float>, tileStride: Int, rows: Int, columns: Int,
                                     into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        for r in 0..<rows {
            let target = c + r * ldc
            let source = tile + r * tileStride
            if accumulate {
                for x in 0..<columns { target[x] += source[x] }
            } else {
                for x in 0..<columns { target[x] = source[x] }
            }
        }
    }
}
