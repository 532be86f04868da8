// The stylesheet of reports: inlined into standalone report files and served to the web page as /static/report.css.
// Outcome colours carry a text or shape cue as well (answers say "flipped" through the cross and the table text).

public enum ReportStyle {
    public static let css = """
    .report { font-family: system-ui, sans-serif; max-width: 70rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.45; }
    .report .hint, .probe-report .hint { color: #555; }
    .probe-meta { font-size: 0.95rem; }
    .probe-summary { border-collapse: collapse; margin: 1rem 0; font-size: 0.92rem; }
    .probe-summary caption { text-align: left; font-weight: 600; padding-bottom: 0.4rem; }
    .probe-summary th, .probe-summary td { border: 1px solid #8884; padding: 0.25rem 0.6rem; text-align: left; }
    .probe-summary td.ok { background: #10b98122; }
    .probe-summary td.flip { background: #ef444428; font-weight: 600; }
    .probe-summary td.na { color: #777; }
    .probe-family { break-inside: avoid-page; margin-top: 1.5rem; }
    .probe-family h3 { margin-bottom: 0.2rem; }
    .probe-na { font-style: italic; }
    .probe-chart { margin: 0.5rem 0; max-width: 44rem; }
    .probe-chart svg { width: 100%; height: auto; color: inherit; }
    .probe-chart figcaption { font-size: 0.85rem; color: #555; }
    .probe-grid { list-style: none; display: flex; flex-wrap: wrap; gap: 0.5rem; padding: 0; margin: 0.5rem 0; }
    .probe-grid .variant { width: 120px; border: 3px solid #10b981; border-radius: 6px; padding: 2px; font-size: 0.75rem; display: flex; flex-direction: column; }
    .probe-grid .variant.flip { border-color: #ef4444; }
    .probe-grid .variant.mixed { border-color: #f59e0b; border-style: dashed; }
    .probe-grid img { width: 112px; height: 112px; display: block; }
    .probe-grid .level { font-weight: 600; }
    .probe-grid .answer { overflow-wrap: anywhere; }
    .probe-grid .answer.flipped::before { content: "✗ "; color: #ef4444; }
    .report h2 { margin-top: 2.2rem; padding-bottom: 0.2rem; border-bottom: 1px solid #8886; }
    .report-intro, .eval-meta { font-size: 0.95rem; }
    .report-contents ol { columns: 2 16rem; margin: 0.5rem 0 1rem; }
    .table-scroll { overflow-x: auto; }
    .report-table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
    .report-table caption { text-align: left; font-weight: 600; padding-bottom: 0.4rem; }
    .report-table th, .report-table td { border: 1px solid #8884; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
    .report-table .number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    .report-table .note { color: #666; font-size: 0.85em; }
    .report-table tr.group th { background: #8882; }
    .report-table td.ok { background: #10b98122; }
    .report-table td.flip { background: #ef444428; }
    .report-table td.mean { font-weight: 600; }
    .report-table td.digest { font-family: ui-monospace, monospace; font-size: 0.8rem; overflow-wrap: anywhere; }
    .report-table td.heat-0 { background: #ef44440a; }
    .report-table td.heat-1 { background: #ef444418; }
    .report-table td.heat-2 { background: #ef444426; }
    .report-table td.heat-3 { background: #ef444434; }
    .report-table td.heat-4 { background: #ef444444; }
    .report-table td.heat-5 { background: #ef444456; }
    .report-table td.heat-6 { background: #ef444468; }
    .report-table td.heat-7 { background: #ef44447c; }
    .report-table td.heat-8 { background: #ef444492; }
    .report-table td.heat-9 { background: #ef4444aa; }
    .robustness-card { border: 1px solid #8884; border-radius: 6px; padding: 0 1rem 1rem; margin: 1rem 0; }
    .robustness-card .headline { font-size: 1.1rem; font-weight: 600; }
    .robustness-charts { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
    .robustness-charts .report-chart { flex: 1 1 22rem; max-width: 32rem; }
    .report-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 1rem; }
    .report-chart { margin: 0; }
    .report-chart svg { width: 100%; height: auto; color: inherit; overflow: visible; }
    .report-chart figcaption, .report-figures figcaption { font-size: 0.85rem; color: #555; }
    .report-entry { margin-top: 1.5rem; padding-top: 0.5rem; border-top: 1px solid #8884; }
    .report-entry h3 { margin-bottom: 0.5rem; }
    .report-figures { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
    .report-figures figure { margin: 0; max-width: 20rem; }
    .report-figures figure.eval-thumbnail, .report-figures figure.discovery-thumbnail { max-width: 11rem; }
    .discovery-slice { border: 1px solid #8884; border-radius: 6px; padding: 0 1rem 1rem; margin: 1rem 0; break-inside: avoid; }
    .discovery-slice .finding { font-weight: 600; }
    .discovery-map { max-width: 44rem; margin: 1rem 0; }
    .report-figures img { display: block; max-width: 100%; height: auto; border-radius: 4px; }
    .category-finding { font-style: italic; }
    .reproducibility li { overflow-wrap: anywhere; }
    @media (prefers-color-scheme: dark) {
      .report { background: #111; color: #eee; }
      .report .hint, .probe-report .hint, .probe-chart figcaption { color: #aaa; }
      .report-table .note, .report-chart figcaption, .report-figures figcaption { color: #aaa; }
    }
    @media print {
      .report { max-width: none; margin: 0; padding: 0; font-size: 10pt; background: #fff; color: #000; }
      .report .hint, .probe-report .hint, .probe-chart figcaption, .report-table .note, .report-chart figcaption,
      .report-figures figcaption { color: #444; }
      .report a { color: inherit; text-decoration: none; }
      .probe-grid .variant { width: 96px; }
      .probe-grid img { width: 88px; height: 88px; }
      .report h1, .report h2, .report h3 { break-after: avoid; }
      .report-table, .probe-summary, .report-figures, .report-chart, .probe-chart, .report-contents { break-inside: avoid; }
      .report-table tr, .probe-summary tr { break-inside: avoid; }
      .report-table thead { display: table-header-group; }
      .report-entry { break-inside: avoid-page; }
      .table-scroll { overflow: visible; }
      .report-table td[class^="heat-"], .report-table td[class*=" heat-"],
      .report-table td.ok, .report-table td.flip, .report-table tr.group th, .probe-summary td.ok, .probe-summary td.flip {
        print-color-adjust: exact; -webkit-print-color-adjust: exact;
      }
    }
    """
}
