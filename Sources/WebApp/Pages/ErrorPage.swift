// The page a browser gets for any error outside /api/: the site's header and navigation, the status in words and the
// same message the JSON answer carries (which never names a server path), and where to go from here.
import Hummingbird

struct ErrorPage {
    let status: HTTPResponse.Status
    let message: String

    func render() -> String {
        let title = status == .notFound ? "Not found" : "\(status.code) \(status.reasonPhrase)"
        return HTML.document(title: "\(title) — Blindspot", body: """
        <section class="error-page">
        <h1>\(HTML.escape(title))</h1>
        <p class="error" role="alert">\(HTML.escape(Self.sentence(message)))</p>
        <p>Try <a href="/">the demo</a>, <a href="/#examples">the post's examples</a> or <a href="/blindspots">the blind spots reported so far</a>.</p>
        </section>
        """)
    }

    /// "there is no example 99" → "There is no example 99."
    static func sentence(_ message: String) -> String {
        guard let first = message.first else { return message }
        return first.uppercased() + message.dropFirst() + (message.hasSuffix(".") ? "" : ".")
    }
}
