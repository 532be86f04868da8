// A report as data: headings, paragraphs, tables, charts and pictures, rendered to HTML and to GitHub Markdown by
// the same walk, so that a report's two forms never disagree. Text is plain (escaped here); charts are HTML only.
import Foundation

/// A picture of a report: inline in HTML as a `data:` URL, a file beside the Markdown (in `images/`).
public struct ReportPicture: Sendable {
    /// The file's name in `images/` ("report-12.jpg").
    public let fileName: String
    public let mediaType: String
    public let data: Data
    public let width: Int
    public let height: Int
    public let alt: String

    public init(fileName: String, mediaType: String, data: Data, width: Int, height: Int, alt: String) {
        self.fileName = fileName
        self.mediaType = mediaType
        self.data = data
        self.width = width
        self.height = height
        self.alt = alt
    }

    /// Where the Markdown finds it.
    public var relativePath: String { "images/" + fileName }

    var dataURL: String { "data:\(mediaType);base64,\(data.base64EncodedString())" }
}

enum ReportBlock {
    /// A heading of `level` (1–6), with an anchor for HTML links.
    case heading(level: Int, text: String, id: String? = nil)
    case paragraph(String, className: String? = nil)
    case list([String])
    /// Links to the report's headings (HTML); a plain list in Markdown.
    case contents([(text: String, id: String)])
    case table(ReportTable)
    /// SVG charts side by side, each with its caption; left out of Markdown.
    case charts([(chart: LineChart, caption: String)])
    /// Pictures side by side, each with its caption, and a CSS class per picture.
    case figures([(picture: ReportPicture, caption: String, className: String)])
    /// Blocks kept together: a `<section>`, `<article>` or `<div>` of `className` in HTML; just the blocks in Markdown.
    case container(tag: String, className: String, blocks: [ReportBlock])
    /// A piece already rendered elsewhere (a probe's summary table), in both forms.
    case rendered(html: String, markdown: String)

    static func html(_ blocks: [ReportBlock]) -> String {
        blocks.map(\.html).joined()
    }

    static func markdown(_ blocks: [ReportBlock]) -> String {
        blocks.map(\.markdown).filter { !$0.isEmpty }.joined(separator: "\n")
    }

    var html: String {
        switch self {
        case let .heading(level, text, id):
            return "<h\(level)\(id.map { " id=\"\(HTMLText.escape($0))\"" } ?? "")>\(HTMLText.escape(text))</h\(level)>\n"
        case let .paragraph(text, className):
            return "<p\(className.map { " class=\"\(HTMLText.escape($0))\"" } ?? "")>\(HTMLText.escape(text))</p>\n"
        case .list(let items):
            return "<ul>\n" + items.map { "<li>\(HTMLText.escape($0))</li>\n" }.joined() + "</ul>\n"
        case .contents(let entries):
            return "<nav class=\"report-contents\" aria-label=\"Contents\"><ol>\n"
                + entries.map { "<li><a href=\"#\(HTMLText.escape($0.id))\">\(HTMLText.escape($0.text))</a></li>\n" }.joined() + "</ol></nav>\n"
        case .table(let table):
            return table.html()
        case .charts(let charts):
            return "<div class=\"report-charts\">\n" + charts.map { chart, caption in
                "<figure class=\"report-chart\">\n\(chart.svg(width: 480, height: 230))\n<figcaption>\(HTMLText.escape(caption))</figcaption></figure>\n"
            }.joined() + "</div>\n"
        case .figures(let figures):
            return "<div class=\"report-figures\">\n" + figures.map { picture, caption, className in
                "<figure class=\"\(HTMLText.escape(className))\"><img src=\"\(picture.dataURL)\" width=\"\(picture.width)\" height=\"\(picture.height)\" "
                    + "alt=\"\(HTMLText.escape(picture.alt))\"><figcaption>\(HTMLText.escape(caption))</figcaption></figure>\n"
            }.joined() + "</div>\n"
        case let .container(tag, className, blocks):
            return "<\(tag) class=\"\(HTMLText.escape(className))\">\n" + Self.html(blocks) + "</\(tag)>\n"
        case .rendered(let html, _):
            return html
        }
    }

    var markdown: String {
        switch self {
        case let .heading(level, text, _):
            return String(repeating: "#", count: level) + " " + MarkdownText.escape(text) + "\n"
        case let .paragraph(text, _):
            return MarkdownText.escape(text) + "\n"
        case .list(let items):
            return items.map { "- " + MarkdownText.escape($0) + "\n" }.joined()
        case .contents(let entries):
            return entries.map { "- " + MarkdownText.escape($0.text) + "\n" }.joined()
        case .table(let table):
            return table.markdown()
        case .charts:
            return ""
        case .figures(let figures):
            return figures.map { picture, caption, _ in
                MarkdownText.image(alt: picture.alt, path: picture.relativePath) + "\\\n" + MarkdownText.escape(caption) + "\n"
            }.joined(separator: "\n")
        case let .container(_, _, blocks):
            return Self.markdown(blocks)
        case .rendered(_, let markdown):
            return markdown
        }
    }
}


struct ReportTable {
    struct Cell {
        var text: String
        /// Shown smaller after the text in HTML, in parentheses in Markdown.
        var note: String? = nil
        /// A CSS class for HTML ("ok", "flip"); Markdown has none, so the text must say the same.
        var style: String? = nil

        init(_ text: String, note: String? = nil, style: String? = nil) {
            self.text = text
            self.note = note
            self.style = style
        }
    }

    struct Row {
        /// The row's header (first column).
        var header: Cell
        var cells: [Cell]
        /// A heading row spanning the table (a family of transformations), with no cells.
        var isGroup = false

        static func group(_ title: String) -> Row { Row(header: Cell(title), cells: [], isGroup: true) }
    }

    var caption: String
    /// Every column's heading, the row headers' first.
    var columns: [String]
    var rows: [Row]
    /// Columns (by index in `columns`) of numbers: right-aligned.
    var numericColumns: Set<Int> = []
    /// An extra CSS class of the `<table>`.
    var className: String? = nil

    func html() -> String {
        func content(_ cell: Cell) -> String {
            HTMLText.escape(cell.text) + (cell.note.map { " <span class=\"note\">\(HTMLText.escape($0))</span>" } ?? "")
        }
        var html = "<div class=\"table-scroll\"><table class=\"report-table\(className.map { " " + HTMLText.escape($0) } ?? "")\">\n"
        html += "<caption>\(HTMLText.escape(caption))</caption>\n<thead><tr>"
        html += columns.enumerated().map { index, title in
            "<th scope=\"col\"\(numericColumns.contains(index) ? " class=\"number\"" : "")>\(HTMLText.escape(title))</th>"
        }.joined()
        html += "</tr></thead>\n<tbody>\n"
        for row in rows {
            if row.isGroup {
                html += "<tr class=\"group\"><th scope=\"rowgroup\" colspan=\"\(columns.count)\">\(content(row.header))</th></tr>\n"
                continue
            }
            html += "<tr><th scope=\"row\">\(content(row.header))</th>"
            for (offset, cell) in row.cells.enumerated() {
                let classes = [cell.style, numericColumns.contains(offset + 1) ? "number" : nil].compactMap { $0 }
                let attribute = classes.isEmpty ? "" : " class=\"\(HTMLText.escape(classes.joined(separator: " ")))\""
                html += "<td\(attribute)>\(content(cell))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }

    /// The caption as an emphasised line, then the table. Group rows become a row with the title in bold.
    func markdown() -> String {
        func content(_ cell: Cell) -> String {
            MarkdownText.escape(cell.text) + (cell.note.map { " (\(MarkdownText.escape($0)))" } ?? "")
        }
        var lines = ["*\(MarkdownText.escape(caption))*", ""]
        lines.append("| " + columns.map(MarkdownText.escape).joined(separator: " | ") + " |")
        lines.append("|" + columns.indices.map { numericColumns.contains($0) ? " ---: " : " --- " }.joined(separator: "|") + "|")
        for row in rows {
            let cells = row.isGroup
                ? ["**\(MarkdownText.escape(row.header.text))**"] + Array(repeating: "", count: columns.count - 1)
                : [content(row.header)] + row.cells.map(content)
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
