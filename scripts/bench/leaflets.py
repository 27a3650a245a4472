#!/usr/bin/env python3
"""Writes N extension-leaflet-like HTML files (2 to 20 pages each) from the starter library's
sentences, for scripts/bench/documents_budget.sh to turn into PDFs. Deterministic."""
import pathlib, random, re, sys

out = pathlib.Path(sys.argv[1]); n = int(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
root = pathlib.Path(__file__).resolve().parents[2] / "content"
sentences = []
for md in sorted(root.glob("*/*.md")):
    body = md.read_text(encoding="utf-8").split("+++", 2)[-1]
    for line in body.splitlines():
        line = re.sub(r"[#*_\[\]()!`>|-]", " ", line).strip()
        sentences += [s.strip() + "." for s in line.split(".") if len(s.split()) >= 5]
rng = random.Random(17)
for i in range(n):
    pages = rng.randint(2, 20)
    parts = [f"<h1>Tờ hướng dẫn số {i + 1}: {rng.choice(sentences)[:60]}</h1>"]
    for p in range(pages):
        style = ' style="page-break-before: always"' if p else ""
        parts.append(f"<h2{style}>Phần {p + 1}</h2>")
        for _ in range(5):
            parts.append("<p>" + " ".join(rng.choice(sentences) for _ in range(6)) + "</p>")
    (out / f"to-roi-{i + 1:03}.html").write_text(
        '<html><head><meta charset="utf-8"></head><body>' + "\n".join(parts) + "</body></html>",
        encoding="utf-8")
