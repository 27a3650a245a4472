#!/usr/bin/env python3
"""Quick pre-flight check of a hoclieu library folder for material authors.

Checks TOML front matter, category, word counts, a closing "Nguồn" section and
that every relative link or image points at a file that exists. `hoclieu check`
is the authoritative check; this one needs only Python 3.11+.
"""
import re, sys, tomllib, pathlib, unicodedata

CATS = {"agriculture", "health", "law", "life-skills"}
root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "content")
bad = 0
counts = {}
for md in sorted(root.rglob("*.md")):
    rel = md.relative_to(root)
    def err(msg):
        global bad
        bad += 1
        print(f"{rel}: {msg}")
    raw = md.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        err(f"not UTF-8: {e}"); continue
    if text != unicodedata.normalize("NFC", text):
        err("text is not NFC-normalised")
    m = re.match(r"\+\+\+\n(.*?)\n\+\+\+\n(.*)", text, re.S)
    if not m:
        err("no +++ front matter"); continue
    try:
        fm = tomllib.loads(m.group(1))
    except tomllib.TOMLDecodeError as e:
        err(f"front matter: {e}"); continue
    for k in ("title", "category", "summary", "tags"):
        if k not in fm: err(f"missing {k}")
    if fm.get("category") not in CATS: err(f"bad category {fm.get('category')!r}")
    if rel.parts[0] != fm.get("category"): err("file is not in its category's folder")
    body = m.group(2)
    words = len(body.split())
    if not 300 <= words <= 1200: err(f"body has {words} words (need 300-1200)")
    heads = re.findall(r"^#+ (.*)$", body, re.M)
    if not heads or not heads[-1].strip().startswith("Nguồn"): err("last heading must be 'Nguồn'")
    # empty sections: a heading followed directly by another heading
    if re.search(r"^#+ .*\n\s*\n?#+ ", body, re.M): err("a section is empty")
    for link in re.findall(r"\]\(([^)\s]+)", body):
        if re.match(r"^[a-z]+:", link) or link.startswith("#"): continue
        target = (md.parent / link.split("#")[0]).resolve()
        if not target.exists(): err(f"link to missing file {link}")
    counts[fm.get("category")] = counts.get(fm.get("category"), 0) + 1
print("per field:", counts)
print("problems:", bad)
sys.exit(1 if bad else 0)
