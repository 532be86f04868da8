// The catalog of reported blind spots: a filter form (a plain GET form, no script needed), a grid of cards, and
// previous/next links that keep the filters. Only HTML; which reports are listed is the route's and the store's job.
import Catalog
import Models

struct ReportListPage {
    let reports: [ReportView]
    let total: Int
    let query: ReportQuery
    let categories: [Category]
    /// The models to filter by.
    let models: [String]
    /// For the expected-class filter's suggestions, and to name the class being filtered by.
    let labels: ImageNetLabels
    /// Admins also filter by status (approved when the query names none); the public sees approved reports only.
    let isAdmin: Bool

    func render() -> String {
        let body = [
            intro,
            filterForm,
            summary,
            reports.isEmpty ? emptyState : grid,
            pagination,
        ].filter { !$0.isEmpty }.joined(separator: "\n")
        let page = query.page > 1 ? ", page \(query.page)" : ""
        return HTML.document(title: "Reported blind spots\(page) · Blindspot", body: body, scripts: ["app.js"])
    }

    // MARK: - The query

    /// The name of the class filtered by, as the form shows it and the links repeat it.
    private var expectedName: String? {
        query.expected.flatMap { (0..<labels.count).contains($0) ? labels[$0].name : String($0) }
    }

    private var hasFilters: Bool {
        query.category != nil || query.expected != nil || query.model != nil || query.text != nil || listedStatus != .approved
    }

    /// The status listed: the query's for admins, approved for everyone else.
    private var listedStatus: ReportStatus { isAdmin ? query.status ?? .approved : .approved }

    private var pageCount: Int { max(1, (total + query.pageSize - 1) / query.pageSize) }

    /// /blindspots with the current filters and `page`.
    private func link(toPage page: Int) -> String {
        var fields: [(String, String)] = []
        if let category = query.category { fields.append(("category", category)) }
        if let expectedName { fields.append(("expected", expectedName)) }
        if let model = query.model { fields.append(("model", model)) }
        if listedStatus != .approved { fields.append(("status", listedStatus.rawValue)) }
        if let text = query.text { fields.append(("q", text)) }
        if page > 1 { fields.append(("page", String(page))) }
        let encoded: String = fields.map { "\($0.0)=\(ReportMarkup.queryEncode($0.1))" }.joined(separator: "&")
        return encoded.isEmpty ? "/blindspots" : "/blindspots?\(encoded)"
    }

    // MARK: - Sections

    private var intro: String {
        let admin = isAdmin
            ? "<p class=\"hint\">Signed in as admin: the Status filter lists pending and rejected reports too. <a href=\"/admin\">The review queue</a>.</p>"
            : ""
        return """
        <section class="intro" aria-labelledby="page-title">
        <h1 id="page-title">Reported blind spots</h1>
        <p class="lede">Images that people found an image classifier getting wrong, with what each model answers now. \
        Found another? FiledReport it with the Flag button of the <a href="/">demo</a>.</p>
        \(admin)
        </section>
        """
    }

    private var filterForm: String {
        let categoryOptions = optionList(
            [("", "All")] + categories.map { ($0.slug, $0.title) }, selected: query.category ?? "")
        let modelOptions = optionList([("", "Any model")] + models.map { ($0, $0) }, selected: query.model ?? "")
        let status = isAdmin ? """
            <div class="field">
            <label for="filter-status">Status</label>
            <select id="filter-status" name="status">
            \(optionList(ReportStatus.allCases.map { ($0.rawValue, ReportMarkup.statusName($0.rawValue)) }, selected: listedStatus.rawValue))
            </select>
            </div>
            """ : ""
        let clear = hasFilters ? "<a class=\"button secondary\" href=\"/blindspots\">Clear filters</a>" : ""
        return """
        <form id="filters" class="filters" method="get" action="/blindspots" role="search" aria-label="Filter the reports">
        <div class="field">
        <label for="filter-category">Category</label>
        <select id="filter-category" name="category">
        \(categoryOptions)
        </select>
        </div>
        <div class="field">
        <label for="filter-expected">Expected class</label>
        <input id="filter-expected" name="expected" type="text" list="imagenet-classes" autocomplete="off" spellcheck="false" \
        value="\(HTML.escape(expectedName ?? ""))" placeholder="Any class">
        \(DemoPage.classDatalist(labels))
        </div>
        <div class="field">
        <label for="filter-model">Blind spot still holds for</label>
        <select id="filter-model" name="model">
        \(modelOptions)
        </select>
        </div>
        \(status)
        <div class="field">
        <label for="filter-text">Search</label>
        <input id="filter-text" name="q" type="search" value="\(HTML.escape(query.text ?? ""))" placeholder="Note, class or category">
        </div>
        <div class="actions filter-actions">
        <button type="submit" class="button primary">Filter</button>
        \(clear)
        </div>
        </form>
        """
    }

    /// `<option>`s for (value, text) pairs with `selected` selected; a selected value not among them is added, so
    /// that the form always shows the filter in force.
    private func optionList(_ options: [(value: String, text: String)], selected: String) -> String {
        let all = options.contains { $0.value == selected } ? options : options + [(selected, selected)]
        return all.map { option in
            let mark = option.value == selected ? " selected" : ""
            return "<option value=\"\(HTML.escape(option.value))\"\(mark)>\(HTML.escape(option.text))</option>"
        }.joined(separator: "\n")
    }

    private var summary: String {
        guard !reports.isEmpty else { return "" }
        let noun = total == 1 ? "blind spot" : "blind spots"
        let first = (query.page - 1) * query.pageSize + 1
        let text = pageCount > 1
            ? "\(first)–\(first + reports.count - 1) of \(total) \(noun)"
            : "\(total) \(noun)"
        return "<p id=\"result-count\" class=\"result-count\">\(text)\(hasFilters ? " match these filters" : "")</p>"
    }

    private var emptyState: String {
        let lead: String
        if total > 0 {
            lead = "There is no page \(query.page) here. <a href=\"\(HTML.escape(link(toPage: 1)))\">Back to the first page</a>."
        } else if hasFilters {
            lead = "No reported blind spot matches these filters. <a href=\"/blindspots\">Show them all</a>."
        } else {
            lead = "No blind spots have been reported yet."
        }
        return """
        <div id="empty-state" class="empty-state">
        <p class="empty-lead">\(lead)</p>
        <p>To report one, open the <a href="/">demo</a>, give the classifier an image it gets wrong, and press \
        <strong>Flag</strong>: say what the image really shows, and the report appears here once a moderator approves it.</p>
        </div>
        """
    }

    private var grid: String {
        "<ul id=\"report-grid\" class=\"report-grid\">\n\(reports.map(card).joined(separator: "\n"))\n</ul>"
    }

    private func card(_ report: ReportView) -> String {
        let category = ReportMarkup.categoryName(of: report)
            .map { "<span class=\"report-category\">\(HTML.escape($0))</span>" } ?? ""
        let meta: String = [ReportMarkup.statusBadge(report.status), category].filter { !$0.isEmpty }.joined(separator: " ")
        let note = report.note.isEmpty ? "" : "<p class=\"report-note\">\(HTML.escape(report.note))</p>"
        let verdicts: String = report.current.map { verdict in
            let top: String = verdict.predictions.first.map {
                "sees <span class=\"top-class\">\(HTML.escape($0.label))</span> \(HTML.escape(ReportMarkup.percent($0.probability)))"
            } ?? "gave no classes"
            return """
            <li><span class="verdict-head"><span class="model-name">\(HTML.escape(verdict.model))</span> \
            \(ReportMarkup.marker(for: verdict, in: report))</span>
            <span class="verdict-detail">\(top) · \(HTML.escape(ReportMarkup.rankText(verdict)))</span></li>
            """
        }.joined(separator: "\n")
        return """
        <li class="report-card" id="report-\(report.id)">
        \(ReportMarkup.image(of: report, className: "report-thumb", lazy: true))
        <div class="report-body">
        \(meta.isEmpty ? "" : "<p class=\"report-meta\">\(meta)</p>")
        <h2 class="report-title"><a class="report-link" href="\(HTML.escape(report.url))">\(HTML.escape(report.expected.label))</a></h2>
        \(note)
        \(verdicts.isEmpty ? "" : "<ul class=\"verdict-list\" aria-label=\"What the models see now\">\n\(verdicts)\n</ul>")
        <p class="report-confirmations">\(HTML.escape(ReportMarkup.confirmationsText(report.confirmations)))</p>
        </div>
        </li>
        """
    }

    private var pagination: String {
        guard pageCount > 1 else { return "" }
        let previous = query.page > 1
            ? "<a class=\"button secondary\" rel=\"prev\" href=\"\(HTML.escape(link(toPage: min(query.page - 1, pageCount))))\">← Previous</a>"
            : "<span class=\"button secondary disabled\" aria-disabled=\"true\">← Previous</span>"
        let next = query.page < pageCount
            ? "<a class=\"button secondary\" rel=\"next\" href=\"\(HTML.escape(link(toPage: query.page + 1)))\">Next →</a>"
            : "<span class=\"button secondary disabled\" aria-disabled=\"true\">Next →</span>"
        return """
        <nav class="pagination" aria-label="Pages">
        \(previous)
        <span class="page-position">Page \(min(query.page, pageCount)) of \(pageCount)</span>
        \(next)
        </nav>
        """
    }
}
