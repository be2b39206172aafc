"""Draw the benchmark results as SVG bar charts for the documentation.

    python benchmarks/build.py --json benchmarks/results/build.json
    python benchmarks/lint.py --json benchmarks/results/lint.json
    python benchmarks/smtp.py --json benchmarks/results/smtp.json
    python benchmarks/chart.py        # writes docs/performance/*.svg

Plain SVG written by hand: no plotting library needed.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
OUT = ROOT / "docs" / "performance"

ROW, LABEL, BAR, PAD = 22, 250, 360, 10


def chart(case: str, unit: str, rates: dict[str, float]) -> str:
    items = list(rates.items())
    top = max(v for _, v in items) or 1.0
    height = 40 + ROW * len(items) + PAD
    width = LABEL + BAR + 110
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<text x="{PAD}" y="20" font-weight="bold">{html.escape(case)} ({unit})</text>']
    for i, (name, value) in enumerate(items):
        y = 34 + i * ROW
        w = max(1.0, BAR * value / top)
        color = "#3b7dd8" if name.startswith("mailfmt") else "#9aa5b1"
        out.append(f'<text x="{PAD}" y="{y + 14}">{html.escape(name)}</text>')
        out.append(f'<rect x="{LABEL}" y="{y}" width="{w:.1f}" height="{ROW - 6}" '
                   f'fill="{color}"/>')
        out.append(f'<text x="{LABEL + w + 6:.1f}" y="{y + 14}">{value:,.1f}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted(RESULTS.glob("*.json")):
        doc = json.loads(path.read_text())
        for i, r in enumerate(doc["results"]):
            name = f"{doc['benchmark']}-{i + 1}.svg"
            (OUT / name).write_text(chart(r["case"], r["unit"], r["rates"]))
            print(f"wrote docs/performance/{name}: {r['case']}")


if __name__ == "__main__":
    main()
