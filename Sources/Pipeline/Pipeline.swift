import CTurboJPEG
import CZeroMQ
import Engine

/// The streaming pipeline (ingest over ZeroMQ, decoding, bounded queues, workers, ordered
/// publishing) is built in a later issue; for now this module proves its C libraries link.
public enum PipelineLibraries {
    /// libzmq's version, `major.minor.patch`.
    public static var zeroMQVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
