import ArgumentParser

/// `saliencyd`: explains what a CNN classifier looks at, live.
@main
struct Saliencyd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saliencyd",
        abstract: "Signed gradient saliency maps for CNN classifiers.",
        discussion: "Computes the positive, negative, active and inactive maps of Llorente et al., "
            + "\"A matter of attitude\" (arXiv:2309.12913).",
        subcommands: [ExplainCommand.self, EvalCommand.self, BenchCommand.self, ModelCommand.self, DemoCommand.self])
}
