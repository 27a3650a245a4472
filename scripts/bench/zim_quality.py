#!/usr/bin/env python3
"""Retrieval on the same generated ZIM: hoclieu's collection search against kiwix-serve's.

The queries are the speed benchmark's 30 queries typed with marks (gen_library.QUERIES, fixed
before this comparison), each also typed without marks as villagers do ("trong lua" for
"trồng lúa"). An article is relevant to both forms when its text holds the marked phrase as
whole words (any case): what the person meant. Relevance is read from the generated HTML, not
from either engine. Prints a Markdown section: per query, the relevant articles among each
engine's first 10 and the rank of the first; then the counts.

usage: zim_quality.py generated HTML_DIR HOCLIEU_URL KIWIX_URL
       zim_quality.py titles LIST_FILE BOOK HOCLIEU_URL KIWIX_URL

The second form is a known-item search over a real ZIM in its own language: each article's
title (from `hoclieu zim FILE --list`), typed in lower case, should find that article.
"""
import html
import json
import pathlib
import re
import sys
import unicodedata
import urllib.parse
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from gen_library import QUERIES  # noqa: E402

TOP = 10
ARTICLE = re.compile(r"/(?:z|content)/book/([a-z-]+/tl-\d+)\.html")
BOOK = "book"


def fold(s):
    """Without marks, đ as d: what a phone without a Vietnamese keyboard sends."""
    s = unicodedata.normalize("NFD", s).replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", "".join(c for c in s if unicodedata.category(c) != "Mn"))


def relevant_sets(html_dir, phrases):
    found = {p: set() for p in phrases}
    bounded = {p: re.compile(r"(?<!\w)" + re.escape(p) + r"(?!\w)") for p in phrases}
    for f in pathlib.Path(html_dir).glob("*/tl-*.html"):
        text = f.read_text(encoding="utf-8")
        text = unicodedata.normalize("NFC", html.unescape(re.sub(r"<[^>]+>", " ", text))).lower()
        key = f"{f.parent.name}/{f.stem}"
        for p in phrases:
            if p in text and bounded[p].search(text):
                found[p].add(key)
    return found


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read().decode("utf-8", "replace")
    except Exception as e:  # an engine's error is an answer with nothing found
        return f"ERROR {e}"


def dedup(keys):
    seen, out = set(), []
    for k in keys:
        if k not in seen:
            seen.add(k)
            out.append(k)
    return out


def hoclieu(base, q, article=ARTICLE, book=BOOK):
    # The collection alone, as its "all articles" link lists them (the search page shows 5).
    body = get(f"{base}/api/search?q={urllib.parse.quote(q)}&in={book}&limit={TOP}")
    try:
        d = json.loads(body)
    except ValueError:
        return []
    hits = [h["url"] for c in d.get("collections", []) if c["name"] == book for h in c["hits"]]
    return dedup(m.group(1) for u in hits for m in [article.search(urllib.parse.unquote(u))] if m)[:TOP]


def kiwix(base, q, article=ARTICLE, book=BOOK):
    body = get(f"{base}/search?content={book}&pattern={urllib.parse.quote(q)}&pageLength={TOP}")
    return dedup(m.group(1) for m in article.finditer(html.unescape(urllib.parse.unquote(body))))[:TOP]


def score(hits, rel):
    good = [i for i, h in enumerate(hits) if h in rel]
    return len(good), (good[0] + 1 if good else None)


def titles(list_file, book, h_base, k_base):
    """Known-item search: each article by its own title."""
    article = re.compile(r"/(?:z|content)/" + re.escape(book) + r"/([^\"'#?<>]+)")
    items = []
    for line in open(list_file, encoding="utf-8"):
        path, _, title = line.rstrip("\n").partition("\t")
        if title.strip() and not path.startswith("-/"):
            items.append((path, title))
    found = {"hoclieu": [], "kiwix": []}
    for path, title in items:
        q = unicodedata.normalize("NFC", title).lower()
        for name, engine in (("hoclieu", hoclieu), ("kiwix", kiwix)):
            hits = engine(h_base if name == "hoclieu" else k_base, q, article, book)
            found[name].append(hits.index(path) + 1 if path in hits else None)
    print(f"## Known-item search on {book} (its own language)")
    print()
    print(f"Each of its {len(items)} articles searched by its own title, in lower case; "
          f"the article should be in the first {TOP}.")
    print()
    print(f"| engine | found in first {TOP} | first | MRR@{TOP} |")
    print("| --- | ---: | ---: | ---: |")
    for name, ranks in found.items():
        got = [r for r in ranks if r]
        mrr = sum(1 / r for r in got) / max(len(ranks), 1)
        print(f"| {name} | {len(got)} of {len(ranks)} | {sum(1 for r in got if r == 1)} | {mrr:.3f} |")
    both = sum(1 for a, b in zip(found["hoclieu"], found["kiwix"]) if a and not b)
    other = sum(1 for a, b in zip(found["hoclieu"], found["kiwix"]) if b and not a)
    print()
    print(f"hoclieu finds the article where kiwix-serve does not for **{both}**; the other way "
          f"round for **{other}**.")


def main():
    if sys.argv[1] == "titles":
        titles(*sys.argv[2:6])
        return
    html_dir, h_base, k_base = sys.argv[2:5]
    phrases = [unicodedata.normalize("NFC", q).lower() for q in QUERIES[:30]]
    rel = relevant_sets(html_dir, phrases)
    rows, tally = [], {"forms": 0, "h_only": 0, "k_only": 0, "neither": 0, "both": 0,
                       "h_better": 0, "k_better": 0, "same": 0}
    for p in phrases:
        for form in dict.fromkeys([p, fold(p)]):
            h = score(hoclieu(h_base, form), rel[p])
            k = score(kiwix(k_base, form), rel[p])
            tally["forms"] += 1
            hf, kf = h[0] > 0, k[0] > 0
            if hf and not kf:
                tally["h_only"] += 1
            elif kf and not hf:
                tally["k_only"] += 1
            elif not hf:
                tally["neither"] += 1
            else:
                tally["both"] += 1
                # Better: more relevant articles in the first 10, then the first one higher.
                hk = (h[0], -h[1])
                kk = (k[0], -k[1])
                tally["h_better" if hk > kk else "k_better" if kk > hk else "same"] += 1
            rank = lambda r: "–" if r is None else str(r)  # noqa: E731
            rows.append(f"| {form} | {p if form != p else ''} | {len(rel[p])} | {h[0]} | {rank(h[1])} | {k[0]} | {rank(k[1])} |")
    print("## Retrieval on the same ZIM")
    print()
    print(__doc__.split("\n\n")[1].replace("\n", " "))
    print()
    t = tally
    print(f"Of {t['forms']} queries: hoclieu finds a relevant article in its first {TOP} where kiwix-serve "
          f"finds none for **{t['h_only']}**; kiwix-serve where hoclieu does not for **{t['k_only']}**; "
          f"neither for {t['neither']}. Where both find one ({t['both']}), hoclieu ranks better for "
          f"{t['h_better']}, kiwix-serve for {t['k_better']}, the same for {t['same']} (more relevant "
          f"in the first {TOP}, then the first relevant higher).")
    print()
    print(f"| query typed | meaning | relevant articles | hoclieu: relevant in first {TOP} | first at | kiwix: relevant in first {TOP} | first at |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
