import CTurboJPEG
import CZeroMQ
import Foundation
import Testing
@testable import Pipeline

/// Proves the pipeline's C libraries (Debian's libzmq and libturbojpeg) link and work.
@Suite struct LibraryLinkTests {
    @Test func zeroMQReportsItsVersion() {
        let version = ZeroMQContext.version.split(separator: ".").compactMap { Int($0) }
        #expect(version.count == 3)
        #expect(version[0] == 4)
    }

    @Test func zeroMQMovesAMessageOverInproc() throws {
        let context = zmq_ctx_new()!
        defer { zmq_ctx_term(context) }
        let push = zmq_socket(context, ZMQ_PUSH)!, pull = zmq_socket(context, ZMQ_PULL)!
        var linger: Int32 = 0
        zmq_setsockopt(push, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        zmq_setsockopt(pull, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        defer { zmq_close(push); zmq_close(pull) }
        #expect(zmq_bind(pull, "inproc://link-test") == 0)
        #expect(zmq_connect(push, "inproc://link-test") == 0)
        let payload = Array("frame".utf8)
        #expect(zmq_send(push, payload, payload.count, 0) == Int32(payload.count))
        var buffer = [UInt8](repeating: 0, count: 16)
        let received = zmq_recv(pull, &buffer, buffer.count, 0)
        #expect(received == Int32(payload.count))
        #expect(Array(buffer[0..<payload.count]) == payload)
    }

    @Test func turboJPEGRoundTripsAnImage() throws {
        // A 16×8 grey gradient, compressed and decompressed at quality 100.
        let width: Int32 = 16, height: Int32 = 8
        var pixels = [UInt8](repeating: 0, count: Int(width * height))
        for i in pixels.indices { pixels[i] = UInt8(i % Int(width) * 16) }
        let compressor = tjInitCompress()!
        defer { tjDestroy(compressor) }
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = tjCompress2(compressor, pixels, width, 0, height, Int32(TJPF_GRAY.rawValue),
                                 &jpeg, &size, Int32(TJSAMP_GRAY.rawValue), 100, 0)
        #expect(status == 0)
        defer { tjFree(jpeg) }
        #expect(size > 100)
        #expect(jpeg![0] == 0xFF && jpeg![1] == 0xD8)

        let decompressor = tjInitDecompress()!
        defer { tjDestroy(decompressor) }
        var decoded = [UInt8](repeating: 0, count: pixels.count)
        #expect(tjDecompress2(decompressor, jpeg, size, &decoded, width, 0, height, Int32(TJPF_GRAY.rawValue), 0) == 0)
        let worst = zip(decoded, pixels).map { abs(Int($0) - Int($1)) }.max()!
        #expect(worst <= 2)
    }
}
