"""The monthly report an auditor opens: each agency's electronic ratio against the target."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

BAR_WIDTH = 420
ROW_HEIGHT = 26
LABEL_WIDTH = 260


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _chart(rows: Sequence[Mapping[str, Any]], names: Mapping[str, str], target: float) -> str:
    height = ROW_HEIGHT * len(rows) + 30
    width = LABEL_WIDTH + BAR_WIDTH + 80
    target_x = LABEL_WIDTH + target * BAR_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="electronic ratio by agency">'
    ]
    for index, row in enumerate(rows):
        y = index * ROW_HEIGHT + 20
        ratio = row["ratio"]
        label = escape(f"{names.get(row['agency'], '')} ({row['agency']})")
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{label}</text>')
        if ratio is not None:
            colour = "#2e7d32" if row["meets_target"] else "#c62828"
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{ratio * BAR_WIDTH:.1f}" '
                f'height="{ROW_HEIGHT - 8}" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + 14}" font-size="12">'
            f"{_percent(ratio)}</text>"
        )
    parts.append(
        f'<line x1="{target_x:.1f}" y1="10" x2="{target_x:.1f}" y2="{height}" '
        f'stroke="#000" stroke-dasharray="4 3"/>'
        f'<text x="{target_x + 4:.1f}" y="12" font-size="11">target {_percent(target)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def monthly_page(
    month: str,
    rows: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    target: float,
    city: Sequence[Mapping[str, Any]] = (),
) -> str:
    """`rows` are the by-agency rows of one month, `city` its city-wide row (a total line)."""
    cells = "".join(
        "<tr>"
        f"<td>{escape(row['agency'])}</td><td>{escape(names.get(row['agency'], ''))}</td>"
        f"<td>{row['electronic']}</td><td>{row['paper']}</td><td>{row['secret_excluded']}</td>"
        f"<td>{row['with_paper_copy']}</td><td>{_percent(row['ratio'])}</td>"
        f"<td>{'–' if row['meets_target'] is None else ('yes' if row['meets_target'] else 'no')}"
        "</td></tr>"
        for row in rows
    )
    cells += "".join(
        "<tr><th>city</th><th>Toàn thành phố (city-wide)</th>"
        f"<th>{row['electronic']}</th><th>{row['paper']}</th><th>{row['secret_excluded']}</th>"
        f"<th>{row['with_paper_copy']}</th><th>{_percent(row['ratio'])}</th>"
        f"<th>{'–' if row['meets_target'] is None else ('yes' if row['meets_target'] else 'no')}"
        "</th></tr>"
        for row in city
    )
    met = sum(1 for row in rows if row["meets_target"])
    measured = sum(1 for row in rows if row["meets_target"] is not None)
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Electronic exchange report {escape(month)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:4px 8px;text-align:right}}td:nth-child(-n+2){{text-align:left}}
</style></head><body>
<h1>Electronic exchange between agencies, {escape(month)}</h1>
<p>Target: {_percent(target)} of documents exchanged electronically (secret documents excluded).
{met} of {measured} agencies with exchanges this month meet it.</p>
{_chart(rows, names, target)}
<table><thead><tr><th>agency</th><th>name</th><th>electronic</th><th>paper</th>
<th>secret excluded</th><th>with paper copy</th><th>ratio</th><th>meets target</th></tr></thead>
<tbody>{cells}</tbody></table>
<p>CSV: <code>/v1/stats/exchanges?period=month&amp;format=csv</code> ·
XLSX: <code>format=xlsx</code> · city-wide: <code>by=none</code> ·
behind a figure: <code>/v1/stats/exchanges/details?agency=ID&amp;kind=undelivered</code> ·
audit log check: <code>/v1/audit/verify</code></p>
</body></html>
"""
