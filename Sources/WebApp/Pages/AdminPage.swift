// The admin's page: how to turn moderation on when no token is configured, the login form, and once logged in the
// queue of reports waiting for review with their moderation buttons. Plain forms; no script is needed.
import Catalog

struct AdminPage {
    /// False: the server was started without an admin token, so nobody can log in.
    let adminConfigured: Bool
    /// Logged in.
    let isAdmin: Bool
    /// The review queue, oldest first.
    let pending: [ReportView]
    /// The token the page's forms carry: the session's once logged in, else the login form's own.
    let csrfToken: String?
    let message: String?

    func render() -> String {
        let content: String
        if !adminConfigured {
            content = notConfigured
        } else if isAdmin, let csrfToken {
            content = queue(csrfToken: csrfToken)
        } else {
            content = loginForm(csrfToken: csrfToken ?? "")
        }
        let body = [
            "<section class=\"intro\" aria-labelledby=\"page-title\">\n<h1 id=\"page-title\">Moderation</h1>\n</section>",
            message.map(ReportMarkup.flash) ?? "",
            content,
        ].filter { !$0.isEmpty }.joined(separator: "\n")
        return HTML.document(title: "Moderation · Blindspot", body: body, scripts: ["app.js"])
    }

    private var notConfigured: String {
        """
        <section class="panel admin-panel" aria-labelledby="setup-title">
        <h2 id="setup-title">Moderation is off</h2>
        <p>This server was started without an admin token, so nobody can review reports. Start it with the token in the \
        environment variable <code>BLINDSPOT_ADMIN_TOKEN</code>, or in a file named by \
        <code>blindspot serve --admin-token-file FILE</code>.</p>
        <p class="hint">New reports are still accepted; they wait, unlisted, until an admin approves them.</p>
        </section>
        """
    }

    private func loginForm(csrfToken: String) -> String {
        """
        <section class="panel admin-panel" aria-labelledby="login-title">
        <h2 id="login-title">Log in</h2>
        <form id="login-form" class="login-form" method="post" action="/admin/login">
        <input type="hidden" name="csrf" value="\(HTML.escape(csrfToken))">
        <div class="field">
        <label for="admin-token">Admin token</label>
        <input id="admin-token" name="token" type="password" required autocomplete="current-password" spellcheck="false">
        <p class="hint">The token the server was started with (<code>BLINDSPOT_ADMIN_TOKEN</code> or <code>--admin-token-file</code>).</p>
        </div>
        <button type="submit" id="login-submit" class="button primary">Log in</button>
        </form>
        </section>
        """
    }

    private func queue(csrfToken: String) -> String {
        let items: String = pending.map { queueItem($0, csrfToken: csrfToken) }.joined(separator: "\n")
        let list = pending.isEmpty
            ? "<p id=\"queue-empty\" class=\"empty-state\">Nothing is waiting for review.</p>"
            : "<ol id=\"review-queue\" class=\"review-queue\">\n\(items)\n</ol>"
        let count = pending.count == 1 ? "1 report waits" : "\(pending.count) reports wait"
        return """
        <div class="admin-bar">
        <nav class="admin-links" aria-label="Reports by status">
        <a href="/blindspots?status=pending">Pending</a>
        <a href="/blindspots?status=approved">Approved</a>
        <a href="/blindspots?status=rejected">Rejected</a>
        <a href="/blindspots">All</a>
        </nav>
        <form id="logout-form" method="post" action="/admin/logout">
        <input type="hidden" name="csrf" value="\(HTML.escape(csrfToken))">
        <button type="submit" class="button secondary">Log out</button>
        </form>
        </div>
        <section aria-labelledby="queue-title">
        <h2 id="queue-title">Waiting for review</h2>
        <p class="hint">\(pending.isEmpty ? "" : "\(count) for review, oldest first. ")Approved reports are listed in the \
        <a href="/blindspots">catalog</a>; rejected ones stay reachable by their link only.</p>
        \(list)
        </section>
        """
    }

    private func queueItem(_ report: ReportView, csrfToken: String) -> String {
        let category: String = ReportMarkup.categoryName(of: report).map { " · \(HTML.escape($0))" } ?? ""
        let reporter: String = report.reporter.flatMap { $0.isEmpty ? nil : $0 }.map { " by \(HTML.escape($0))" } ?? ""
        let note = report.note.isEmpty ? "<p class=\"muted\">No note.</p>" : "<p class=\"note-text\">\(HTML.escape(report.note))</p>"
        let verdicts: String = report.current.map { verdict in
            "<li><span class=\"model-name\">\(HTML.escape(verdict.model))</span> \(ReportMarkup.marker(for: verdict, in: report))</li>"
        }.joined(separator: "\n")
        return """
        <li class="queue-item" id="queue-\(report.id)">
        \(ReportMarkup.image(of: report, className: "queue-thumb", lazy: true))
        <div class="queue-body">
        <h3><a href="\(HTML.escape(report.url))">\(HTML.escape(report.expected.label))</a> <span class="muted">#\(report.id)</span></h3>
        <p class="queue-meta">\(ReportMarkup.time(report.createdAt))\(reporter)\(category) · \
        \(HTML.escape(ReportMarkup.confirmationsText(report.confirmations)))</p>
        \(note)
        \(verdicts.isEmpty ? "" : "<ul class=\"verdict-list inline\">\n\(verdicts)\n</ul>")
        \(ReportMarkup.moderationForm(for: report, csrfToken: csrfToken, returnTo: "/admin"))
        </div>
        </li>
        """
    }
}
