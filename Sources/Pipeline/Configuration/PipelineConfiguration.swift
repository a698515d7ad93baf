import Engine

/// Everything the pipeline needs besides the model: sources, workers, output, limits.
public struct PipelineConfiguration: Sendable, Equatable {
    public var sources: [SourceConfiguration]
    public var workers: WorkerConfiguration
    public var output: OutputConfiguration
    public var limits: IngestLimits

    public init(sources: [SourceConfiguration] = [SourceConfiguration()], workers: WorkerConfiguration = WorkerConfiguration(),
                output: OutputConfiguration = OutputConfiguration(), limits: IngestLimits = IngestLimits()) {
        self.sources = sources
        self.workers = workers
        self.output = output
        self.limits = limits
    }
}

/// The compute pool.
public struct WorkerConfiguration: Sendable, Equatable {
    /// Worker threads, each with its own engine workspace (default: the number of cores).
    public var count: Int
    /// Threads of each worker's own engine thread team (default 1): they share a batch's
    /// convolution blocks, masks and pooling, as `saliencyd bench --threads` does.
    public var threads: Int
    /// OpenBLAS threads (OpenBLAS has one pool for the process; default 1, so that workers and
    /// their thread teams, not BLAS, use the cores).
    public var blasThreads: Int
    /// The most frames one worker computes as one batch (default 8).
    public var maxBatch: Int
    /// How long a worker holding fewer than `maxBatch` frames waits for more (default 0).
    public var maxBatchDelay: Duration
    /// Testing aid: extra time each batch takes, to make a worker deliberately slow.
    public var artificialDelay: Duration
    /// Testing aid: after this many batches, one worker stops making progress (a wedged worker).
    public var wedgeAfterBatches: Int?

    public init(count: Int = Self.coreCount, threads: Int = 1, blasThreads: Int = 1, maxBatch: Int = 8, maxBatchDelay: Duration = .zero,
                artificialDelay: Duration = .zero, wedgeAfterBatches: Int? = nil) {
        self.count = count
        self.threads = threads
        self.blasThreads = blasThreads
        self.maxBatch = maxBatch
        self.maxBatchDelay = maxBatchDelay
        self.artificialDelay = artificialDelay
        self.wedgeAfterBatches = wedgeAfterBatches
    }

    /// Online cores (`sysconf(_SC_NPROCESSORS_ONLN)`).
    public static var coreCount: Int { max(1, sysconfCores()) }
}

/// Where and how the maps are published.
public struct OutputConfiguration: Sendable, Equatable {
    /// Bound by the output socket (default `tcp://127.0.0.1:5560`).
    public var endpoint: String
    /// `.pub` (default) or `.push`.
    public var socketType: ZeroMQSocketType
    /// `ZMQ_SNDHWM` (default 1000): messages queued per subscriber before PUB drops for it.
    public var sendHighWaterMark: Int
    /// Topics are `<prefix><source>` and `<prefix>error/<source>` (default `saliency/`).
    public var topicPrefix: String
    /// The maps each message carries, in this order (default the paper's four and vanilla).
    public var maps: [SaliencyMethod]
    public var encoding: MapEncoding
    /// How long closing waits to deliver the last messages (default 1000 ms).
    public var lingerMilliseconds: Int

    public init(endpoint: String = "tcp://127.0.0.1:5560", socketType: ZeroMQSocketType = .pub, sendHighWaterMark: Int = 1000,
                topicPrefix: String = "saliency/", maps: [SaliencyMethod] = [.vanilla, .positive, .negative, .active, .inactive],
                encoding: MapEncoding = .f32, lingerMilliseconds: Int = 1000) {
        self.endpoint = endpoint
        self.socketType = socketType
        self.sendHighWaterMark = sendHighWaterMark
        self.topicPrefix = topicPrefix
        self.maps = maps
        self.encoding = encoding
        self.lingerMilliseconds = lingerMilliseconds
    }
}
