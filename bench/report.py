"""Figures of a load run: percentiles, the printed summary and the JSON record."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MB = 1_000_000


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..1) of values already sorted."""
    if not sorted_values:
        return None
    index = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


def latency_ms(values: Sequence[float], quantiles: Sequence[tuple[str, float]]) -> dict[str, Any]:
    ordered = sorted(values)
    out: dict[str, Any] = {"count": len(ordered)}
    for name, q in quantiles:
        value = percentile(ordered, q)
        out[name] = None if value is None else round(value * 1000, 3)
    return out


FULL = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value / MB:.1f} MB"


def render(r: dict[str, Any]) -> str:
    """The human summary of the record `run()` builds."""
    sub, e2e = r["submit_latency_ms"], r["submit_to_ack_ms"]
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "none"
    lines = [
        f"edoc-gateway load: {r['mode']}; {r['sizes']}; "
        f"bus {r['gateway']['bus']}, database {r['gateway']['database']}",
        f"documents   submitted {r['submitted']} (accepted {r['accepted']}), "
        f"acked {r['acked_documents']} ({r['acked_deliveries']} deliveries), "
        f"unacked {r['unacked_documents']}; mean size {r['mean_document_bytes'] / 1000:.1f} kB",
        f"elapsed     {r['elapsed_s']:.2f} s until the last ack "
        f"(submitting {r['submit_elapsed_s']:.2f} s)",
        f"throughput  {r['docs_per_s_acked']:.1f} docs/s end to end (acked), "
        f"{r['mb_per_s_acked']:.2f} MB/s of documents, {r['mb_per_s_delivered']:.2f} MB/s "
        f"delivered; submitted {r['docs_per_s_submitted']:.1f} docs/s",
        f"submit      p50 {_ms(sub['p50'])} ms  p90 {_ms(sub['p90'])}  p99 {_ms(sub['p99'])}  "
        f"max {_ms(sub['max'])}   (POST until 202)",
        f"submit→ack  p50 {_ms(e2e['p50'])} ms  p99 {_ms(e2e['p99'])}  max {_ms(e2e['max'])}"
        "   (202 until the recipient's ack 204, per delivery)",
    ]
    if r.get("schedule_lag_ms"):
        lag = r["schedule_lag_ms"]
        lines.append(
            f"open loop   arrivals late p99 {_ms(lag['p99'])} ms max {_ms(lag['max'])}; "
            f"skipped (over --max-outstanding) {r['arrivals_skipped']}"
        )
    per_kind = ", ".join(f"{k} {v}" for k, v in r["requests"].items())
    lines.append(
        f"requests    {r['requests_per_s']:.0f}/s ({per_kind}); {r['listed_items']} items listed"
    )
    lines.append(f"errors      {errors}")
    lag = r["generator_loop_lag_ms"]
    lines.append(
        f"generator   event loop wakes late p50 {_ms(lag['p50'])} ms p99 {_ms(lag['p99'])} "
        f"max {_ms(lag['max'])} (its clocks are late by as much)"
    )
    mem = r["memory"]
    check = {True: "ok", False: "EXCEEDED", None: "n/a"}[mem["rss_ok"]]
    lines.append(
        f"memory      gateway peak RSS (VmHWM) {_mb(mem['gateway_peak_rss_bytes'])}; "
        f"max bytes in flight {_mb(mem['max_bytes_in_flight'])}; "
        f"limit 4x + 150 MB = {_mb(mem['rss_limit_bytes'])}: {check}"
    )
    cpu = r["cpu"]
    gateway_cpu = "-"
    if cpu["gateway_s"] is not None:
        gateway_cpu = f"{cpu['gateway_s']:.1f} s ({cpu['gateway_cores']:.2f} cores)"
    threads = ", ".join(f"{k} {v:.2f}" for k, v in cpu.get("gateway_threads_cores", {}).items())
    lines.append(
        f"cpu         gateway {gateway_cpu}"
        + (f" [{threads}]" if threads else "")
        + f"; generator {cpu['generator_s']:.1f} s ({cpu['generator_cores']:.2f} cores)"
    )
    if cpu.get("other_processes_cores") is not None:
        others = cpu["other_processes_cores"]
        lines.append(
            f"machine     {cpu['machine_cpus']} CPUs; other processes took {others:.2f} cores "
            "during the run"
            + ("  (NOT QUIET: figures understate the gateway)" if others > 0.2 else "")
        )
    if r["gateway"].get("exit_code", "n/a") != "n/a":
        lines.append(f"gateway     SIGTERM -> exit {r['gateway']['exit_code']}")
    return "\n".join(lines)
