extension ConvolutionOperator {
    /// The sizes from which each pass of a 3×3/stride-1 convolution runs by Winograd.
    ///
    /// With few tiles per GEMM the transformed weights (16/9 of the weights' bytes with 2×2
    /// tiles) are read for too few columns: on resnet18's 512-channel 7×7 maps (16 tiles per
    /// frame) 2×2 tiles measured 2.5–2.9 ms per layer forward and 2.6–3.3 ms per single-gradient
    /// VJP against 2.1–2.5 direct, while the Jacobian's VJP (10 cotangents, 160 tiles) took
    /// 12.2–13.9 ms against 14.2–22.9 direct. Maps from 64 pixels (14×14: 49 tiles per frame)
    /// have run both passes by Winograd since stop 10 (resnet18's Jacobian −29 %, forward −12 %).
    public struct WinogradMinimum: Sendable, Equatable {
        /// Map pixels (input and output) from which the forward runs by Winograd: 8×8.
        public var forwardPixels = 64
        /// Map pixels from which the VJP has Winograd weights: 7×7.
        public var inputGradientPixels = 49
        /// Tiles per call (cotangent rows × tiles per map) from which the VJP uses them; below,
        /// it runs by the columns method on the weights themselves.
        public var inputGradientTiles = 48
        /// Input and output channels from which a map smaller than ``forwardPixels`` has its VJP
        /// by Winograd. A 3×3/1 layer on 7×7 maps alone (C → C, batch 1 and 16) measured its
        /// Jacobian VJP faster by Winograd at 256 channels (3.4–3.8 ms against 3.6–4.6 direct)
        /// and at resnet18's 512, no faster at 128 and slower at 32 and 64 (0.83 against 0.48–0.54
        /// ms at 64, batch 1): with few channels the transforms and the 8×8 overhang cost more
        /// than the GEMMs save.
        public var smallMapChannels = 256
        public init(forwardPixels: Int = 64, inputGradientPixels: Int = 49, inputGradientTiles: Int = 48,
                    smallMapChannels: Int = 256) {
            self.forwardPixels = forwardPixels
            self.inputGradientPixels = inputGradientPixels
            self.inputGradientTiles = inputGradientTiles
            self.smallMapChannels = smallMapChannels
        }
        /// Winograd on maps of any size, for any number of rows and channels (tests).
        public static let always = WinogradMinimum(forwardPixels: 1, inputGradientPixels: 1, inputGradientTiles: 1,
                                                   smallMapChannels: 1)
    }
}
