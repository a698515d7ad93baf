import Engine
import Foundation

/// An SVG line plot of allegiance curves, one panel per substitute, like the paper's figures.
enum AllegiancePlot {
    static let colours: [SaliencyMethod: String] = [
        .vanilla: "#444444", .positive: "#d62728", .negative: "#1f77b4", .active: "#ff7f0e", .inactive: "#2ca02c",
        .signed: "#9467bd",
    ]

    static func svg(title: String, percentages: [Double], substitutes: [Float], methods: [SaliencyMethod],
                    curve: (SaliencyMethod, Float) -> [Double], area: (SaliencyMethod, Float) -> Double) -> String {
        let panelWidth = 420.0, panelHeight = 300.0, left = 60.0, top = 50.0, gap = 70.0
        let width = left + Double(substitutes.count) * (panelWidth + gap), height = top + panelHeight + 110
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left)" y="24" font-size="15">\(escape(title))</text>

        """
        for (index, substitute) in substitutes.enumerated() {
            let x0 = left + Double(index) * (panelWidth + gap), y0 = top
            func point(_ p: Double, _ a: Double) -> String {
                String(format: "%.1f,%.1f", x0 + p / 0.9 * panelWidth, y0 + (1 - a) * panelHeight)
            }
            svg += "<text x=\"\(x0)\" y=\"\(y0 - 8)\">substitute \(substitute == 0 ? "0 (black)" : substitute == 1 ? "1 (white)" : String(substitute))</text>\n"
            svg += "<rect x=\"\(x0)\" y=\"\(y0)\" width=\"\(panelWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#999\"/>\n"
            for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
                svg += "<text x=\"\(x0 - 8)\" y=\"\(String(format: "%.1f", y0 + (1 - tick) * panelHeight + 4))\" text-anchor=\"end\">\(tick)</text>\n"
            }
            for tick in [0.0, 0.2, 0.4, 0.6, 0.8] {
                svg += "<text x=\"\(String(format: "%.1f", x0 + tick / 0.9 * panelWidth))\" y=\"\(y0 + panelHeight + 16)\" text-anchor=\"middle\">\(tick)</text>\n"
            }
            svg += "<text x=\"\(x0 + panelWidth / 2)\" y=\"\(y0 + panelHeight + 34)\" text-anchor=\"middle\">share of pixels deleted</text>\n"
            for (row, method) in methods.enumerated() {
                let values = curve(method, substitute)
                guard values.count == percentages.count else { continue }
                let points = zip(percentages, values).map { point($0, $1) }.joined(separator: " ")
                let colour = colours[method] ?? "#000"
                svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
                let legendY = y0 + panelHeight + 52 + Double(row / 3) * 16
                let legendX = x0 + Double(row % 3) * 140
                svg += "<line x1=\"\(legendX)\" y1=\"\(legendY - 4)\" x2=\"\(legendX + 18)\" y2=\"\(legendY - 4)\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
                svg += "<text x=\"\(legendX + 22)\" y=\"\(legendY)\">\(method.rawValue) (AUC \(String(format: "%.4f", area(method, substitute))))</text>\n"
            }
        }
        svg += "<text x=\"12\" y=\"\(top + panelHeight / 2)\" transform=\"rotate(-90 12 \(top + panelHeight / 2))\" text-anchor=\"middle\">allegiance</text>\n"
        return svg + "</svg>\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
