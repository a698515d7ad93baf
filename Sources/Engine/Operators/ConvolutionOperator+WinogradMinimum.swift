extension ConvolutionOperator {
    /// The sizes from which each pass of a 3×3/stride-1 convolution runs by Winograd.
    ///
    /// Maps from 64 pixels (14×14: 49 tiles per frame) have run both passes by Winograd since
    /// stop 10 (resnet18's Jacobian −29 %, forward −12 %). On 7×7 maps (16 tiles per frame, 8×8
    /// pixels computed for 7×7) the transformed weights are read for few columns; on the Xeon VM
    /// with OpenBLAS's AVX-512 products that made 2×2 tiles slower at one frame (resnet18's
    /// 512-channel layers: 2.5–2.9 ms forward and 2.6–3.3 ms per single-gradient VJP, against
    /// 2.1–2.5 direct). On the Zen 1 VM with the engine's AVX2 products, whose direct method
    /// packs the 9.4 MB of weights on every call while the Winograd weights are packed at load,
    /// the same layers took 2.7–2.8 ms by 2×2 tiles against 7.2–7.3 direct forward and 2.6–2.7
    /// against 8.6–11.2 per single-gradient VJP (`bench --profile`, 2 threads, back to back, the
    /// engine's products at 47–49 GFLOP/s in both; 4.3 ms in a run where they were at 35), and a
    /// stack of three 3×3/1 layers on 7×7 maps ran its forward by Winograd in 0.78 (64
    /// channels), 0.62 (128), 0.39–0.58 (256) and 0.41–0.43 (512) of the direct time.
    public struct WinogradMinimum: Sendable, Equatable {
        /// Map pixels (input and output) from which the forward runs by Winograd: 7×7.
        public var forwardPixels = 49
        /// Map pixels from which the VJP has Winograd weights: 7×7.
        public var inputGradientPixels = 49
        /// Tiles per call (cotangent rows × tiles per map) from which the VJP uses them; below,
        /// it runs by the columns method on the weights themselves. 16 (one frame on a 7×7 map):
        /// see above.
        public var inputGradientTiles = 16
        /// Map pixels below which the VJP needs ``smallMapChannels``: 8×8.
        public var largeMapPixels = 64
        /// Input and output channels from which a map smaller than ``largeMapPixels`` has its VJP
        /// by Winograd. A 3×3/1 layer on 7×7 maps alone (C → C, batch 1 and 16) measured its
        /// Jacobian VJP faster by Winograd at 256 channels (3.4–3.8 ms against 3.6–4.6 direct)
        /// and at resnet18's 512, no faster at 128 and slower at 32 and 64 (0.83 against 0.48–0.54
        /// ms at 64, batch 1): with few channels the transforms and the 8×8 overhang cost more
        /// than the GEMMs save. On the Zen 1 VM, 64 and 128 channels measured the same either way
        /// (three layers, Jacobian 4.4–4.7 ms at 64; 8.4–14.1 against 9.8–14.1 at 128), so this
        /// stays.
        public var smallMapChannels = 256
        /// Tiles per call (cotangent rows × 4×4 tiles per map) from which a VJP on a map whose
        /// VJP takes 4×4 tiles (``ConvolutionOperator/largeTileMinimumSide``) does; below, it
        /// takes 2×2 tiles. resnet18's 256-channel layers on 14×14 maps (16 tiles of 4×4, 49 of
        /// 2×2) read 2.25 times the weights by 4×4 tiles for few columns: one thread, CPU time,
        /// four alternating runs, one cotangent row took 2.0–2.5 ms per layer by 4×4 tiles and
        /// 1.6–2.1 by 2×2; two rows (batch 2) 1.2–1.6 by 4×4 and 1.5–1.9 by 2×2, and the
        /// Jacobian's ten rows 7.0–9.4 against 9.6–11.3 (two threads). On 28×28 maps (49 tiles
        /// of 4×4) one row took 1.2–1.6 ms by 4×4 tiles and 1.7–2.3 by 2×2.
        public var largeTileTiles = 32
        public init(forwardPixels: Int = 49, inputGradientPixels: Int = 49, inputGradientTiles: Int = 16,
                    largeMapPixels: Int = 64, smallMapChannels: Int = 256, largeTileTiles: Int = 32) {
            self.forwardPixels = forwardPixels
            self.inputGradientPixels = inputGradientPixels
            self.inputGradientTiles = inputGradientTiles
            self.largeMapPixels = largeMapPixels
            self.smallMapChannels = smallMapChannels
            self.largeTileTiles = largeTileTiles
        }
        /// Winograd on maps of any size, for any number of rows and channels, and 4×4 tiles for
        /// any number of rows where the map takes them (tests).
        public static let always = WinogradMinimum(forwardPixels: 1, inputGradientPixels: 1, inputGradientTiles: 1, largeMapPixels: 1,
                                                   smallMapChannels: 1, largeTileTiles: 1)
    }
}
