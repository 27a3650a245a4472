#!/usr/bin/env python3
"""Generates a synthetic library of N materials from the starter library's own sentences.

Writes the same pages twice: Markdown materials for hoclieu (LIB/<field>/tl-NNNNN.md) and HTML
pages for a ZIM (HTML/<field>/tl-NNNNN.html, plus index.html and a 48x48 illustration), and
the path lists the load generator rotates through. Deterministic for a given N (seeded).

usage: gen_library.py N LIB_DIR HTML_DIR PATHS_DIR
"""
import html
import pathlib
import random
import re
import struct
import sys
import urllib.parse
import zlib

FIELDS = ["agriculture", "health", "law", "life-skills"]
ROOT = pathlib.Path(__file__).resolve().parents[2]

# The search mix: what villagers and teachers type, with and without marks (fixed, not tuned).
QUERIES = [
    "trồng lúa", "lúa", "phân bón", "tiêm chủng", "sổ đỏ", "khai sinh", "sốt xuất huyết",
    "tiêu chảy", "trâu bò mùa rét", "chè shan tuyết", "thảo quả", "lợn", "gà", "bảo hiểm y tế",
    "căn cước", "bạo lực gia đình", "lừa đảo", "sạt lở đất", "rắn cắn", "cháy rừng", "trẻ em",
    "mang thai", "thuốc", "đất đai", "hợp tác xã", "vay tiền", "đi làm xa", "nước sạch",
    "huyết áp", "bệnh lao", "trong lua", "phan bon", "tiem chung", "so do", "khai sinh cho con",
    "benh lao", "lon bi benh", "ran can", "sat lo", "bao hiem",
]

# Prefixes typed into a search box, for the suggestion endpoint.
PREFIXES = ["trồng", "lúa", "phân", "tiêm", "bệnh", "sổ", "khai", "trâu", "chè", "luật",
            "phòng", "cách", "giữ", "nuôi", "an toàn", "tre", "lua", "benh", "ky nang", "dat"]


def starter_text():
    sentences, titles = [], []
    for p in sorted((ROOT / "content").rglob("*.md")):
        text = p.read_text(encoding="utf-8")
        m = re.match(r"\+\+\+\n(.*?)\n\+\+\+\n(.*)", text, re.S)
        if not m:
            continue
        t = re.search(r'^title = "(.*)"', m.group(1), re.M)
        if t:
            titles.append(t.group(1))
        for line in m.group(2).splitlines():
            line = re.sub(r"[#*>!\[\]()|`_]", " ", line).strip()
            line = re.sub(r"\s+", " ", line)
            for s in re.split(r"(?<=[.!?])\s+", line):
                if len(s.split()) >= 5:
                    sentences.append(s)
    return sentences, titles


def png_48():
    """A plain green 48x48 PNG (zimwriterfs wants an illustration)."""
    raw = b"".join(b"\x00" + b"\x0b\x6b\x3a" * 48 for _ in range(48))
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 48, 48, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    n = int(sys.argv[1])
    lib, out_html, paths = (pathlib.Path(a) for a in sys.argv[2:5])
    rng = random.Random(n)
    sentences, titles = starter_text()
    index_links = []
    page_ids = []
    for i in range(n):
        field = FIELDS[i % 4]
        base = rng.choice(titles).split(":")[0]
        title = f"{base} (bài {i + 1})"
        words = rng.randint(300, 600)
        paras, count = [], 0
        while count < words:
            para = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 5)))
            paras.append(para)
            count += len(para.split())
        summary = paras[0].split(". ")[0][:160]
        name = f"tl-{i:05d}"
        (lib / field).mkdir(parents=True, exist_ok=True)
        (out_html / field).mkdir(parents=True, exist_ok=True)
        esc = title.replace("\\", "\\\\").replace('"', '\\"')
        sesc = summary.replace("\\", "\\\\").replace('"', '\\"')
        (lib / field / f"{name}.md").write_text(
            f'+++\ntitle = "{esc}"\ncategory = "{field}"\nsummary = "{sesc}"\n+++\n'
            + "\n\n".join(paras) + "\n", encoding="utf-8")
        body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paras)
        (out_html / field / f"{name}.html").write_text(
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
            f"<body><h1>{html.escape(title)}</h1>\n{body}</body></html>\n", encoding="utf-8")
        index_links.append(f'<li><a href="{field}/{name}.html">{html.escape(title)}</a></li>')
        page_ids.append((field, name))
    (out_html / "index.html").write_text(
        '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Thư viện</title></head><body><ul>'
        + "\n".join(index_links) + "</ul></body></html>\n", encoding="utf-8")
    (out_html / "illustration.png").write_bytes(png_48())
    paths.mkdir(parents=True, exist_ok=True)
    q = urllib.parse.quote
    rng.shuffle(page_ids)
    sample = page_ids[:2000]
    (paths / "hoclieu-search.txt").write_text("".join(f"/search?q={q(s)}&limit=25\n" for s in QUERIES))
    (paths / "kiwix-search.txt").write_text("".join(f"/search?content=book&pattern={q(s)}&pageLength=25\n" for s in QUERIES))
    (paths / "hoclieu-suggest.txt").write_text("".join(f"/api/suggest?q={q(s)}\n" for s in PREFIXES))
    (paths / "kiwix-suggest.txt").write_text("".join(f"/suggest?content=book&term={q(s)}&count=8\n" for s in PREFIXES))
    (paths / "hoclieu-page.txt").write_text("".join(f"/m/{f}/{p}\n" for f, p in sample))
    (paths / "kiwix-page.txt").write_text("".join(f"/content/book/{f}/{p}.html\n" for f, p in sample))


if __name__ == "__main__":
    main()
