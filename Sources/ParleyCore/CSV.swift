import Foundation

/// CSV for exports (RFC 4180), safe to open in a spreadsheet: a cell that starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return is prefixed with `'`, so no formula ever runs.
public enum CSV {
    /// One line: cells quoted when they hold a comma, a quote or a line break; CRLF at the end.
    public static func row(_ cells: [String?]) -> String {
        cells.map { self.cell($0 ?? "") }.joined(separator: ",") + "\r\n"
    }

    public static func cell(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            text = "'" + text
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
