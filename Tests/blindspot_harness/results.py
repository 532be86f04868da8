"""Result summaries and tables: written as JSON beside the other artefacts and printed at the end of the pytest run
(Tests/conftest.py prints what was recorded here)."""
import json
from pathlib import Path

# (title, text) of every summary recorded in this run, printed by conftest.py's pytest_terminal_summary.
RECORDED = []


def table(rows, columns):
    """Plain-text table of dicts `rows`: `columns` is [(key, heading, width)], a negative width aligns right."""
    def cell(value, width):
        text = "" if value is None else str(value)
        return text.rjust(-width) if width < 0 else text.ljust(width)

    lines = [" ".join(cell(heading, width) for _, heading, width in columns)]
    lines += [" ".join(cell(row.get(key), width) for key, _, width in columns) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(rows, columns):
    """A Markdown table of dicts `rows`: `columns` is [(key, heading)]; a missing value is an empty cell."""
    def cell(value):
        return "" if value is None else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(heading for _, heading in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(key)) for key, _ in columns) + " |" for row in rows]
    return "\n".join(lines)


def record(title, text):
    """Prints `text` under `title` at the end of the run (pytest's captured output would hide it)."""
    RECORDED.append((title, text))


def write_summary(path, summary, title=None, text=None):
    """Writes `summary` as JSON to `path` and records it (or `text`) to be printed at the end of the run."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=1) + "\n")
    record(title or path.name, (text or json.dumps(summary, indent=1)) + f"\n(written to {path})")


def problems_shown(problems, most=10):
    """The first `most` of a list of problems, one a line, for an assertion's message."""
    problems = list(problems)
    more = f"\n    … and {len(problems) - most} more" if len(problems) > most else ""
    return "".join(f"\n    {line}" for line in problems[:most]) + more
