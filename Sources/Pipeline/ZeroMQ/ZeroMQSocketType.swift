import CZeroMQ

/// The ZeroMQ socket patterns saliencyd speaks (`zmq_socket(3)`).
public enum ZeroMQSocketType: String, Sendable, CaseIterable, Codable {
    case pub, sub, push, pull, req, rep

    var rawType: Int32 {
        switch self {
        case .pub: return ZMQ_PUB
        case .sub: return ZMQ_SUB
        case .push: return ZMQ_PUSH
        case .pull: return ZMQ_PULL
        case .req: return ZMQ_REQ
        case .rep: return ZMQ_REP
        }
    }

    /// Whether a socket of this type binds by default in saliencyd's roles: a REP hub and a PULL
    /// collector bind (as imagezmq's hub does); a SUB connects to its publishers.
    public var bindsByDefault: Bool { self != .sub && self != .req }
}
