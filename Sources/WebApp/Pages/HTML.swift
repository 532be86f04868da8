// Building HTML safely as text: escaping for text and attribute values, and the shell every page shares.
// No template engine: pages are small Swift functions that call `escape` on every piece of outside text.
import Reports

enum HTML {
    /// Escapes text for use in element content and in double- or single-quoted attribute values.
    static func escape(_ text: String) -> String {
        HTMLText.escape(text)
    }

    /// A complete page: light and dark colours, phone-width layout, the shared stylesheet, and scripts only
    /// from this server (`scripts` are ES modules under /static/, deferred as modules are).
    static func document(title: String, body: String, scripts: [String] = []) -> String {
        let scriptTags = scripts.map { "<script type=\"module\" src=\"/static/\(escape($0))\"></script>" }.joined(separator: "\n")
        let head = """
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/static/app.css">
        <link rel="stylesheet" href="/static/report.css">
        \(scriptTags)
        """
        return HTMLText.page(title: title, head: head, body: """
        <header class="site"><a class="brand" href="/">Blindspot</a>
        <nav aria-label="Site"><a href="/">Demo</a> <a href="/#examples">Examples</a> <a href="/blindspots">Blind spots</a> <a href="/api">API</a></nav></header>
        <main id="main">
        \(body)
        </main>
        """)
    }

    /// The copyable link box of a page (`/static/app.js` wires its button): "Link to this example" and the path.
    static func shareBox(label: String, path: String) -> String {
        """
        <div class="share">
        <label for="share-link">\(escape(label))</label>
        <div class="share-row">
        <input id="share-link" type="text" readonly value="\(escape(path))">
        <button type="button" id="copy-link" class="button secondary">Copy link</button>
        </div>
        <p id="copy-status" class="hint" role="status"></p>
        </div>
        """
    }
}
