import Engine
import Testing
@testable import Daemon

/// The one parser behind `--methods`, `serve --maps` and `output.maps`.
@Suite struct MethodListTests {
    @Test func namesParseInTheirOrderInAnyCase() throws {
        #expect(try MethodList.parse(["active", "Vanilla", "SIGNED"]) == [.active, .vanilla, .signed])
        #expect(try MethodList.parse(commaSeparated: "negative,inactive", option: "--methods") == [.negative, .inactive])
    }

    @Test func refusalsNameTheEntry() {
        #expect(throws: MethodList.Problem.unknown("gradcam")) { try MethodList.parse(["vanilla", "gradcam"]) }
        #expect(throws: MethodList.Problem.repeated("Active")) { try MethodList.parse(["active", "Active"]) }
        #expect(throws: MethodList.Problem.empty) { try MethodList.parse([]) }
        #expect(MethodList.Problem.unknown("x").description == "'x' is not a map (choose from vanilla, positive, negative, active, inactive, signed)")
    }

    @Test func commandLineRefusalsNameTheOption() {
        for (list, reason) in [("vanilla,,active", "'' is not a map"), ("", "name at least one map"),
                               ("positive,positive", "'positive' is listed twice")] {
            do {
                _ = try MethodList.parse(commaSeparated: list, option: "--methods")
                Issue.record("'\(list)' was accepted")
            } catch {
                #expect(error.message.hasPrefix("--methods: \(reason)"), "\(list): \(error.message)")
            }
        }
    }
}
