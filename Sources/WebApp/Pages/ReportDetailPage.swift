// One reported blind spot's page (image, expected class, each model's answer then and now, share link, moderation for
// admins) and the report markup the catalog and admin pages share (ReportMarkup). Only HTML; /static/app.js sizes the
// bars. As in DemoPage, markup joined from a `map` is declared `String`.
import Catalog
import Foundation

struct ReportDetailPage {
    let report: ReportView
    let isAdmin: Bool
    /// Set when isAdmin.
    let csrfToken: String?
    /// A one-line notice, such as "Approved.".
    let message: String?

    func render() -> String {
        let body = [
            "<p class=\"breadcrumb\"><a href=\"/blindspots\">All reported blind spots</a></p>",
            message.map(ReportMarkup.flash) ?? "",
            "<div class=\"report-layout\">",
            figure,
            facts,
            "</div>",
            verdictsSection,
        ].filter { !$0.isEmpty }.joined(separator: "\n")
        return HTML.document(title: "\(report.expected.label), blind spot \(report.id) · Blindspot", body: body, scripts: ["app.js"])
    }

    // MARK: - Sections

    private var figure: String {
        """
        <figure class="report-figure">
        \(ReportMarkup.image(of: report, className: "report-image", lazy: false))
        <figcaption class="hint">\(report.image.width) × \(report.image.height) px · \
        SHA-256 <code title="\(HTML.escape(report.image.sha256))">\(HTML.escape(ReportMarkup.shortDigest(report.image.sha256)))</code></figcaption>
        </figure>
        """
    }

    private var facts: String {
        let category: String = ReportMarkup.categoryName(of: report).map { name in
            report.category.map { "<a href=\"/blindspots?category=\(HTML.escape(ReportMarkup.queryEncode($0)))\">\(HTML.escape(name))</a>" }
                ?? HTML.escape(name)
        } ?? "<span class=\"muted\">None</span>"
        let reporter: String = report.reporter.flatMap { $0.isEmpty ? nil : $0 }.map(HTML.escape) ?? "<span class=\"muted\">Anonymous</span>"
        let note = report.note.isEmpty
            ? "<p class=\"muted\">No note.</p>"
            : "<p class=\"note-text\">\(HTML.escape(report.note))</p>"
        return """
        <section class="report-facts" aria-labelledby="report-title">
        <p class="eyebrow">Reported blind spot \(report.id)</p>
        <h1 id="report-title"><span class="title-lead">Really shows</span> \(HTML.escape(report.expected.label))</h1>
        \(statusNotice)
        <dl class="facts">
        <div><dt>Expected class</dt><dd>\(HTML.escape(report.expected.label)) <span class="muted">(class \(report.expected.index))</span></dd></div>
        <div><dt>Category</dt><dd>\(category)</dd></div>
        <div><dt>Status</dt><dd id="report-status">\(HTML.escape(ReportMarkup.statusName(report.status)))</dd></div>
        <div><dt>Reported by</dt><dd id="report-reporter">\(reporter)</dd></div>
        <div><dt>Reported</dt><dd>\(ReportMarkup.time(report.createdAt))</dd></div>
        <div><dt>Confirmations</dt><dd>\(HTML.escape(ReportMarkup.confirmationsText(report.confirmations)))</dd></div>
        </dl>
        <h2 class="facts-heading">Note</h2>
        <div id="report-note" class="note">\(note)</div>
        \(HTML.shareBox(label: "Link to this report", path: report.url))
        \(moderation)
        </section>
        """
    }

    /// Says who can see a report that is not listed.
    private var statusNotice: String {
        switch report.status {
        case ReportStatus.pending.rawValue:
            return "<p class=\"notice status-notice\">Waiting for review: only people with this link can see it.</p>"
        case ReportStatus.rejected.rawValue:
            return "<p class=\"notice status-notice\">Rejected: not listed in the catalog; only people with this link can see it.</p>"
        default:
            return ""
        }
    }

    private var moderation: String {
        guard isAdmin, let csrfToken else { return "" }
        return """
        <section class="moderation" aria-labelledby="moderation-title">
        <h2 id="moderation-title" class="facts-heading">Moderation</h2>
        \(ReportMarkup.moderationForm(for: report, csrfToken: csrfToken, returnTo: report.url))
        </section>
        """
    }

    private var verdictsSection: String {
        let rows: String = report.current.map { latest in
            let atReport = report.verdicts.first { $0.model == latest.model }
            let recheck = report.rechecks.first { $0.model == latest.model }
            return """
            <tr>
            <th scope="row"><span class="model-name">\(HTML.escape(latest.model))</span>\
            \(ReportMarkup.marker(for: latest, in: report))</th>
            <td data-label="When reported">\(atReport.map(verdictCell) ?? "<p class=\"muted\">Not run when reported.</p>")</td>
            <td data-label="Latest re-check">\(recheck.map(verdictCell) ?? "<p class=\"muted\">Not re-checked yet.</p>")</td>
            </tr>
            """
        }.joined(separator: "\n")
        let table = report.current.isEmpty ? "<p class=\"muted\">No model has looked at this image yet.</p>" : """
            <div class="table-wrap">
            <table class="verdict-table">
            <caption class="visually-hidden">Each model’s top five classes, when the blind spot was reported and at its latest re-check</caption>
            <thead><tr><th scope="col">Model</th><th scope="col">When reported</th><th scope="col">Latest re-check</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            </div>
            """
        return """
        <section class="verdicts" aria-labelledby="verdicts-title">
        <h2 id="verdicts-title">What the models see</h2>
        \(table)
        </section>
        """
    }

    /// One verdict: the top five with bars (the expected class marked), the expected class's rank, the weights, when.
    private func verdictCell(_ verdict: VerdictView) -> String {
        let rows: String = verdict.predictions.map { prediction in
            let isExpected = prediction.index == report.expected.index
            let tag = isExpected ? " <span class=\"tag\">expected</span>" : ""
            return """
            <li\(isExpected ? " class=\"is-expected\"" : "")><span class="name">\(HTML.escape(prediction.label))\(tag)</span>\
            <span class="pct">\(HTML.escape(ReportMarkup.percent(prediction.probability)))</span>\
            <span class="bar-track" aria-hidden="true"><span class="bar" data-probability="\(prediction.probability)"></span></span></li>
            """
        }.joined(separator: "\n")
        return """
        <ol class="predictions compact" aria-label="Top classes">
        \(rows)
        </ol>
        <p class="verdict-rank">\(HTML.escape(ReportMarkup.rankText(verdict))) \
        (\(HTML.escape(ReportMarkup.percent(verdict.expectedProbability))))</p>
        <p class="verdict-meta">Weights \(ReportMarkup.digest(verdict.weightsDigest)) · \(ReportMarkup.time(verdict.checkedAt))</p>
        """
    }
}

/// Markup every catalog page draws the same way: texts about a report, its image, its status, moderation forms.
enum ReportMarkup {
    /// "87.1%", and "<0.1%" for what would round to nothing (as app.js writes it).
    static func percent(_ probability: Double) -> String {
        let value = probability * 100
        if value > 0 && value < 0.1 { return "<0.1%" }
        return String(format: "%.1f%%", value)
    }

    static func rankText(_ verdict: VerdictView) -> String {
        "Expected class ranked #\(verdict.expectedRank)"
    }

    static func confirmationsText(_ confirmations: Int) -> String {
        switch confirmations {
        case ...1: return "Reported once"
        case 2: return "Reported twice"
        default: return "Reported \(confirmations) times"
        }
    }

    static func statusName(_ status: String) -> String {
        switch status {
        case ReportStatus.pending.rawValue: return "Pending review"
        case ReportStatus.approved.rawValue: return "Approved"
        case ReportStatus.rejected.rawValue: return "Rejected"
        default: return status
        }
    }

    /// A badge for reports that are not (yet) listed publicly; nothing for approved ones.
    static func statusBadge(_ status: String) -> String {
        guard status != ReportStatus.approved.rawValue else { return "" }
        return "<span class=\"badge badge-\(HTML.escape(status))\">\(HTML.escape(statusName(status)))</span>"
    }

    /// The category's title, or its slug when the catalog has no such category; nil without a category.
    static func categoryName(of report: ReportView) -> String? {
        report.categoryTitle ?? report.category
    }

    static func image(of report: ReportView, className: String, lazy: Bool) -> String {
        """
        <img class="\(className)" src="\(HTML.escape(report.imageURL))" alt="Reported as \(HTML.escape(report.expected.label))" \
        width="\(report.image.width)" height="\(report.image.height)"\(lazy ? " loading=\"lazy\"" : "")>
        """
    }

    /// Whether the blind spot holds for the model of `verdict`, in words: it holds, it is fixed (it held when
    /// reported and no longer does), or the model was never fooled.
    static func marker(for verdict: VerdictView, in report: ReportView) -> String {
        if verdict.holds {
            return "<span class=\"marker holds\"><span aria-hidden=\"true\">✗</span> Blind spot holds</span>"
        }
        let heldWhenReported = report.verdicts.first { $0.model == verdict.model }?.holds ?? false
        return heldWhenReported
            ? "<span class=\"marker fixed\"><span aria-hidden=\"true\">✓</span> Fixed</span>"
            : "<span class=\"marker not-fooled\"><span aria-hidden=\"true\">✓</span> Not fooled</span>"
    }

    /// A SHA-256 in hex, cut to its first 12 digits.
    static func shortDigest(_ digest: String) -> String { String(digest.prefix(12)) }

    /// The weights' digest shortened, the whole of it in the title.
    static func digest(_ digest: String) -> String {
        guard !digest.isEmpty else { return "<span class=\"muted\">unknown</span>" }
        return "<code class=\"digest\" title=\"\(HTML.escape(digest))\">\(HTML.escape(shortDigest(digest)))</code>"
    }

    /// An ISO 8601 time as "29 Nov 2026, 06:24 UTC" in a <time> element; unreadable times are shown as they are.
    static func time(_ iso8601: String) -> String {
        guard let date = try? Date(iso8601, strategy: .iso8601) else { return HTML.escape(iso8601) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMM yyyy, HH:mm 'UTC'"
        return "<time datetime=\"\(HTML.escape(iso8601))\">\(HTML.escape(formatter.string(from: date)))</time>"
    }

    /// A value for a URL query: everything but unreserved ASCII percent-encoded.
    static func queryEncode(_ value: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// The page's one-line notice.
    static func flash(_ message: String) -> String {
        "<p id=\"flash\" class=\"flash\" role=\"status\">\(HTML.escape(message))</p>"
    }

    /// The admin's buttons for one report, as a plain form (no script needed): approve, reject or send back to
    /// review (whichever change its status), and delete behind a second, disclosed button.
    static func moderationForm(for report: ReportView, csrfToken: String, returnTo: String) -> String {
        let changes: [(action: String, status: ReportStatus, title: String, style: String)] = [
            ("approve", .approved, "Approve", "primary"),
            ("reject", .rejected, "Reject", "secondary"),
            ("pending", .pending, "Back to review", "secondary"),
        ]
        let buttons: String = changes.filter { $0.status.rawValue != report.status }.map { change in
            "<button type=\"submit\" name=\"action\" value=\"\(change.action)\" class=\"button \(change.style)\">\(change.title)</button>"
        }.joined(separator: "\n")
        return """
        <form id="moderate-\(report.id)" class="moderation-form" method="post" action="/admin/blindspots/\(report.id)">
        <input type="hidden" name="csrf" value="\(HTML.escape(csrfToken))">
        <input type="hidden" name="return" value="\(HTML.escape(returnTo))">
        <div class="actions">
        \(buttons)
        <details class="confirm-delete">
        <summary class="button danger">Delete…</summary>
        <div class="confirm-delete-body">
        <p>Delete report \(report.id) and its image for good?</p>
        <button type="submit" name="action" value="delete" class="button danger-strong">Delete for good</button>
        </div>
        </details>
        </div>
        </form>
        """
    }
}
