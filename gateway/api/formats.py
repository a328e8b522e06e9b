"""Answer bodies shared by the listeners: JSON with Vietnamese left readable, statistics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from gateway.stats.report import Report, StatsQuery, to_csv, to_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def dumps(body: Any) -> str:
    """JSON with Vietnamese as UTF-8 (not \\u escapes), ending with a newline."""
    return json.dumps(body, ensure_ascii=False) + "\n"


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps, headers=headers)


async def stats_response(report: Report, query: StatsQuery, name: str) -> web.Response:
    """Up to `report.MAX_ROWS` rows, serialised off the event loop. JSON keeps DESIGN's array of
    rows: the stamp travels in headers (`Edoc-Audit-Head`, `Edoc-Audit-Seq`,
    `Edoc-Generated-At`) in every format, and also in the body of CSV (a last `#` line) and XLSX
    (second line of each sheet, workbook comments)."""
    filename = f"{name}-{query.start}-{query.end}-{query.period}"
    headers = report.stamp.headers()
    if query.format == "csv":
        return web.Response(
            body=await asyncio.to_thread(
                lambda: to_csv(report.rows, query.by, report.stamp).encode()
            ),
            content_type="text/csv",
            charset="utf-8",
            headers=headers | {"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if query.format == "xlsx":
        title = (
            f"Electronic exchanges {query.start} to {query.end}, by {query.by}, per {query.period}"
        )
        return web.Response(
            body=await asyncio.to_thread(to_xlsx, report, query.by, title),
            content_type=XLSX,
            headers=headers | {"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    body = await asyncio.to_thread(lambda: dumps(report.rows).encode())
    return web.Response(body=body, content_type="application/json", headers=headers)
