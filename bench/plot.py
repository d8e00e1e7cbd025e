"""The results as a PNG, drawn with Pillow (no plotting dependency): six bar panels, each
figure beside its reference, with the target as a dashed line where there is one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

W, H = 1400, 1500
PANEL_W, PANEL_H = 700, 500
BLUE, GREY, RED, BLACK = (52, 101, 164), (170, 170, 170), (204, 0, 0), (20, 20, 20)
MB = 1024 * 1024

Group = tuple[str, list[tuple[float, tuple[int, int, int]]]]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType
        return ImageFont.load_default()


def _panel(
    draw: ImageDraw.ImageDraw,
    origin: tuple[int, int],
    title: str,
    groups: list[Group],
    unit: str,
    legend: list[tuple[str, tuple[int, int, int]]],
    target: float | None = None,
) -> None:
    x0, y0 = origin
    left, top, right, bottom = x0 + 70, y0 + 70, x0 + PANEL_W - 30, y0 + PANEL_H - 60
    draw.text((x0 + 20, y0 + 15), title, fill=BLACK, font=_font(20))
    for i, (label, colour) in enumerate(legend):
        lx = x0 + 110 + i * 200
        draw.rectangle((lx, y0 + 45, lx + 14, y0 + 59), fill=colour)
        draw.text((lx + 20, y0 + 44), label, fill=BLACK, font=_font(14))
    values = [v for _, bars in groups for v, _ in bars] + ([target] if target else [])
    top_value = max([*values, 1e-9]) * 1.15
    draw.line((left, top, left, bottom), fill=BLACK)
    draw.line((left, bottom, right, bottom), fill=BLACK)
    for k in range(5):
        v = top_value * k / 4
        y = bottom - (bottom - top) * k / 4
        draw.text((x0 + 5, y - 8), f"{v:.4g}", fill=BLACK, font=_font(13))
    draw.text((x0 + 5, top - 25), unit, fill=BLACK, font=_font(13))
    slot = (right - left) / max(1, len(groups))
    for g, (label, bars) in enumerate(groups):
        bw = slot * 0.7 / max(1, len(bars))
        gx = left + g * slot + slot * 0.15
        for b, (value, colour) in enumerate(bars):
            bx = gx + b * bw
            y = bottom - (bottom - top) * value / top_value
            draw.rectangle((bx, y, bx + bw - 4, bottom), fill=colour)
            draw.text((bx, y - 16), f"{value:.4g}", fill=BLACK, font=_font(12))
        draw.text((gx, bottom + 8), label, fill=BLACK, font=_font(14))
    if target:
        y = bottom - (bottom - top) * target / top_value
        for x in range(left, right, 14):
            draw.line((x, y, x + 7, y), fill=RED, width=2)
        draw.text((right - 120, y - 18), f"target {target:g}", fill=RED, font=_font(13))


def _platform(d: ImageDraw.ImageDraw, y: int, name: str, part: dict[str, Any], what: str) -> None:
    """Row of two panels for one platform: overhead (left), acknowledgement (right)."""
    _panel(
        d,
        (0, y),
        f"2. Generation time, {name} end-to-end vs direct httpx",
        [
            (
                f"N={r['n']} ({r['ratio_mean']:.2f}x)",
                [(r["e2e_mean_s"], BLUE), (r["direct_mean_s"], GREY)],
            )
            for r in part["runs"]
        ],
        "s (mean)",
        [(f"seedbot via {name}", BLUE), ("direct httpx", GREY)],
    )
    ack = part["ack"]["rounds"]
    _panel(
        d,
        (PANEL_W, y),
        f"1. {name} ack, {part['ack']['n']} {what} in 1 s",
        [
            (f"round {i} p{q}", [(r[f"bot_p{q}_ms"], BLUE), (r[f"ref_p{q}_ms"], GREY)])
            for i, r in enumerate(ack, 1)
            for q in (50, 99)
        ],
        "ms",
        [("seedbot", BLUE), ("bare aiohttp", GREY)],
        target=250.0,
    )


def draw(results: dict[str, Any], path: Path) -> None:
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    if results.get("discord"):
        _platform(d, 2 * PANEL_H, "Discord", results["discord"], "interactions")
    s = results.get("slack")
    if s:
        _platform(d, 0, "Slack", s, "events")
        m = s["memory"]
        groups: list[Group] = [("before", [(m["rss_before"] / MB, GREY)])]
        for i, (peak, after) in enumerate(
            zip(m["rss_peak_each_run"], m["rss_after_each_run"], strict=True), 1
        ):
            groups.append((f"run {i}", [(peak / MB, BLUE), (after / MB, GREY)]))
        groups.append(("images held", [(m["n"] * m["image_bytes"] / MB, RED)]))
        _panel(
            d,
            (0, PANEL_H),
            f"3. Bot RSS, N={m['n']} in flight ({m['per_job_over_image']:.2f}x image bytes)",
            groups,
            "MiB",
            [("peak", BLUE), ("before / after", GREY), ("image bytes", RED)],
        )
    lg, f = results.get("ledger"), results.get("fit")
    groups = []
    if lg:
        groups.append(
            (
                "ledger pairs/s / 2000",
                [(lg["pairs_per_s"] / 2000, BLUE), (lg["raw_pairs_per_s"] / 2000, GREY)],
            )
        )
    if f:
        groups.append(("fit ms / 400", [(f["ms_median"] / 400, BLUE), (f["floor_ms_median"] / 400, GREY)]))
    if groups:
        _panel(
            d,
            (PANEL_W, PANEL_H),
            "4-5. Ledger and image fitting, relative to target",
            groups,
            "x target",
            [("seedbot", BLUE), ("floor (same run)", GREY)],
            target=1.0,
        )
    img.save(path)
