"""Answer bodies shared by the listeners: JSON with Vietnamese left readable, statistics."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from gateway.stats.report import StatsQuery, to_csv, to_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
dumps = functools.partial(json.dumps, ensure_ascii=False)


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps)


async def stats_response(
    rows: Sequence[Mapping[str, Any]], query: StatsQuery, name: str
) -> web.Response:
    """Up to `report.MAX_ROWS` rows: serialised off the event loop."""
    filename = f"{name}-{query.start}-{query.end}-{query.period}"
    if query.format == "csv":
        return web.Response(
            body=await asyncio.to_thread(lambda: to_csv(rows, query.by).encode()),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if query.format == "xlsx":
        title = (
            f"Electronic exchanges {query.start} to {query.end}, by {query.by}, per {query.period}"
        )
        return web.Response(
            body=await asyncio.to_thread(to_xlsx, rows, query.by, title),
            content_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    body = await asyncio.to_thread(lambda: dumps(list(rows)).encode())
    return web.Response(body=body, content_type="application/json")
