import ArgumentParser

/// The entry point: pick OpenBLAS's kernels (see ``BLASCoreSelection``), then run the command.
@main
enum Main {
    static func main() {
        BLASCoreSelection.reexecuteIfNeeded()
        Saliencyd.main()
    }
}

/// `saliencyd`: explains what a CNN classifier looks at, live.
struct Saliencyd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saliencyd",
        abstract: "Signed gradient saliency maps for CNN classifiers.",
        discussion: "Computes the positive, negative, active and inactive maps of Llorente et al., "
            + "\"A matter of attitude\" (arXiv:2309.12913).",
        subcommands: [ServeCommand.self, SendCommand.self, TapCommand.self, ExplainCommand.self, EvalCommand.self, BenchCommand.self, ModelCommand.self, DemoCommand.self])
}
