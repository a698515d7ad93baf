import CZlib
import Foundation

/// Decompression of gzip files (datasets ship as `.gz`), through zlib.
enum Gzip {
    struct Error: Swift.Error, CustomStringConvertible {
        var description: String
    }

    /// The decompressed bytes of `data` if it starts with the gzip signature, else `data` itself.
    static func decompressIfNeeded(_ data: Data, source: String) throws(Error) -> Data {
        guard data.count >= 2, data[data.startIndex] == 0x1F, data[data.startIndex + 1] == 0x8B else { return data }
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Error(description: "\(source): zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var input = [UInt8](data)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        let failure: String? = input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else { return "corrupt gzip data (zlib status \(status))" }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                if status == Z_STREAM_END { return nil }
                if stream.avail_in == 0 && stream.avail_out != 0 { return "the gzip data is truncated" }
            }
        }
        if let failure { throw Error(description: "\(source): \(failure)") }
        return output
    }
}
