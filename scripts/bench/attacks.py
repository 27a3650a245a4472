#!/usr/bin/env python3
"""Helpers of scripts/bench/attacks.sh (standard library only).

  attacks.py setup DATA                  the centre's materials (two videos, the Markdown trap,
                                         an upload target) in a fresh data folder
  attacks.py run ATTACK --port P --pid PID --data DATA --bin BIN [--cgroup DIR] [--secs S]
                                         one attack against a running server while a normal
                                         visitor, a manager's upload and a monitor run beside
                                         it; prints one JSON line with the figures
  attacks.py table RESULTS.jsonl         the Markdown table of the results

Every client of the attacks comes from 127.0.0.1; the normal visitor from 127.0.0.2, the
manager from 127.0.0.3, the crowd of real visitors from 127.0.0.10 up. Answer codes are not
judged (a fixed server may answer 429, 503 or 413): the server being alive, the normal
visitor's latency, the resident memory and the usage records are.
"""

import hashlib
import http.client
import json
import os
import random
import re
import select
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

HOST = "127.0.0.1"
ATTACKER = "127.0.0.1"
VISITOR = "127.0.0.2"
MANAGER = "127.0.0.3"
MANAGER_USER, MANAGER_PASSWORD = "quanly", "mat-khau-quan-ly-2026"
# The normal visitor's three requests: the home page, a search, a material page.
VISITOR_PAGES = [
    ("home", "/"),
    ("search", "/search?q=" + urllib.parse.quote("trâu bò mùa rét")),
    ("view", "/m/agriculture/trau-bo-mua-ret"),
]
VISITOR_MATERIAL = "agriculture/trau-bo-mua-ret"
VIDEO50 = "health/video-rua-tay"  # its attachment: health/video-rua-tay-huong-dan.mp4, 50 MB
VIDEO60 = "agriculture/video-uom-ma"  # its attachment: 60 MB, for the package exports
TRAP = "life-skills/anh-vao-admin"  # a material whose body points into /admin
UPLOAD_TARGET = "law/tai-lieu-tai-len"
REQUEST_TIMEOUT = 10.0  # a normal request not answered in this long counts as failed
SAMPLE_EVERY = 0.1  # the monitor; the visitor starts a round of its three pages every 0.5 s
VISIT_EVERY = 0.5

FRONT = """+++
title = "{title}"
category = "{cat}"
language = "vi"
tags = ["thử"]
summary = "{summary}"
updated = 2026-11-01
+++
"""


def mp4(path, size):
    """A file that is an MP4 by its first bytes (ftyp, then one mdat box of zeros)."""
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp42"
    mdat = size - len(ftyp)
    with open(path, "wb") as f:
        f.write(ftyp)
        f.write(mdat.to_bytes(4, "big") + b"mdat")
        # Random bytes, as a video's are: nothing on the way compresses them away.
        left = mdat - 8
        while left > 0:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n


TRAP_BODY = (
    "Một bài có ảnh trỏ vào khu nhân viên.\n\n"
    + "".join(f"![ảnh {i}](/admin/backup?n={i})\n\n" for i in range(10))
    + "![a](/admin/packages/export)\n\n![b](../../admin/backup)\n\n![c](//127.0.0.1/admin/backup)\n\n"
    + "![d](%2Fadmin/backup)\n\n![e](/Admin/backup)\n\n![f](/./admin/backup)\n\n"
    + '<img src="/admin/backup">\n\n[bấm vào đây](/admin/accounts)\n\n'
    + "[g](/admin/backup)\n\n![h](/m/../admin/backup)\n"
)


def setup(data):
    lib = os.path.join(data, "library")
    for cat in ["health", "agriculture", "life-skills", "law"]:
        os.makedirs(os.path.join(lib, cat), exist_ok=True)

    def material(mid, title, body, summary="Tài liệu thử của bộ đo tấn công."):
        cat = mid.split("/")[0]
        with open(os.path.join(lib, mid + ".md"), "w") as f:
            f.write(FRONT.format(title=title, cat=cat, summary=summary) + body)

    material(VIDEO50, "Video rửa tay đúng cách", "Xem video hướng dẫn rửa tay bằng xà phòng.\n")
    mp4(os.path.join(lib, VIDEO50 + "-huong-dan.mp4"), 50 * 1024 * 1024)
    material(VIDEO60, "Video ươm mạ khay", "Xem video bài giảng ươm mạ khay.\n")
    mp4(os.path.join(lib, VIDEO60 + "-bai-giang.mp4"), 60 * 1024 * 1024)
    material(TRAP, "Ảnh trỏ vào khu nhân viên", TRAP_BODY)
    material(UPLOAD_TARGET, "Tài liệu để tải tệp lên", "Các tệp tải lên trong lúc bị tấn công.\n")


# --- HTTP, with a chosen source address -------------------------------------------------------


class Jar:
    def __init__(self):
        self.c = {}

    def take(self, headers):
        for k, v in headers:
            if k.lower() == "set-cookie":
                nv = v.split(";", 1)[0]
                if "=" in nv:
                    n, val = nv.split("=", 1)
                    if val == "" or "max-age=0" in v.lower():
                        self.c.pop(n.strip(), None)
                    else:
                        self.c[n.strip()] = val.strip()

    def header(self):
        return "; ".join(f"{k}={v}" for k, v in self.c.items())


def request(port, source, method, path, jar=None, body=None, headers=None, timeout=REQUEST_TIMEOUT):
    """One request on its own connection. Returns (status, headers, body, seconds); status 0
    with the error's text as body when there was no answer."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=(source, 0))
    h = {"Connection": "close", "User-Agent": "hoclieu-attacks-bench"}
    if jar is not None and jar.c:
        h["Cookie"] = jar.header()
    h.update(headers or {})
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        hs = r.getheaders()
        if jar is not None:
            jar.take(hs)
        return r.status, hs, data, time.monotonic() - t0
    except (OSError, http.client.HTTPException) as e:
        return 0, [], repr(e).encode(), time.monotonic() - t0
    finally:
        conn.close()


def form(fields):
    return urllib.parse.urlencode(fields).encode()


def login(port, source, user=MANAGER_USER, password=MANAGER_PASSWORD):
    """A logged-in jar, or None."""
    jar = Jar()
    st, _, page, _ = request(port, source, "GET", "/admin/login", jar)
    m = re.search(rb'name="token" value="([^"]+)"', page)
    if st != 200 or not m:
        return None
    st, hs, _, _ = request(
        port, source, "POST", "/admin/login", jar,
        body=form({"token": m.group(1).decode(), "username": user, "password": password}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return jar if st in (302, 303) and "hl_admin" in jar.c else None


def csrf(port, source, jar, material):
    st, _, page, _ = request(port, source, "GET", "/admin/materials/edit?id=" + urllib.parse.quote(material), jar)
    m = re.search(rb'name="token" value="([^"]+)"', page)
    return m.group(1).decode() if st == 200 and m else None


def multipart(fields, file_field=None):
    """(content type, body) of a small multipart form; file_field = (name, filename, bytes)."""
    b = "----hoclieubench%016x" % random.getrandbits(64)
    out = []
    for k, v in fields:
        out.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    if file_field:
        n, fn, data = file_field
        out.append(
            f'--{b}\r\nContent-Disposition: form-data; name="{n}"; filename="{fn}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
        )
    out.append(f"--{b}--\r\n".encode())
    return "multipart/form-data; boundary=" + b, b"".join(out)


def raw_socket(source, rcvbuf=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((source, 0))
    s.settimeout(timeout)
    return s


# --- watching the server ----------------------------------------------------------------------


def proc_status(pid):
    """(alive, rss MB, hwm MB) from /proc; a zombie is dead."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return False, None, None
    if re.search(r"^State:\s+[ZX]", text, re.M):
        return False, None, None

    def kb(name):
        m = re.search(rf"^{name}:\s+(\d+) kB", text, re.M)
        return int(m.group(1)) / 1024 if m else None

    return True, kb("VmRSS"), kb("VmHWM")


class Watch:
    """Samples the server every half second and sends the normal visitor's three requests in
    a loop, as one phone would, keeping its cookie."""

    def __init__(self, port, pid):
        self.port, self.pid = port, pid
        self.stop = threading.Event()
        self.alive = True
        self.died_at = None
        self.max_rss = 0.0
        self.hwm = 0.0
        self.samples = 0
        self.latencies = []  # (seconds, ok)
        self.failures = []
        self.acked = {"view": 0, "search": 0}
        self.jar = Jar()
        self.t0 = time.monotonic()

    def start(self):
        # The visitor's cookie first, as a phone has it after its first page.
        for _ in range(20):
            st, _, _, _ = request(self.port, VISITOR, "GET", "/", self.jar)
            if st == 200 and "hl_p" in self.jar.c:
                break
            time.sleep(0.5)
        self.threads = [threading.Thread(target=self.sample, daemon=True),
                        threading.Thread(target=self.visit, daemon=True)]
        for t in self.threads:
            t.start()

    def sample(self):
        while not self.stop.is_set():
            alive, rss, hwm = proc_status(self.pid)
            self.samples += 1
            if not alive:
                if self.alive:
                    self.died_at = time.monotonic() - self.t0
                self.alive = False
            else:
                self.max_rss = max(self.max_rss, rss or 0)
                self.hwm = max(self.hwm, hwm or 0)
            self.stop.wait(SAMPLE_EVERY)

    def visit(self):
        while not self.stop.is_set():
            t_round = time.monotonic()
            for kind, path in VISITOR_PAGES:
                st, _, _, secs = request(self.port, VISITOR, "GET", path, self.jar)
                ok = st == 200
                self.latencies.append((secs if ok else max(secs, REQUEST_TIMEOUT), ok))
                if ok and kind in self.acked:
                    self.acked[kind] += 1
                if not ok:
                    self.failures.append(f"{kind}:{st or 'no answer'}")
                if self.stop.is_set():
                    break
            self.stop.wait(max(0.0, VISIT_EVERY - (time.monotonic() - t_round)))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(REQUEST_TIMEOUT + 2)
        alive, rss, hwm = proc_status(self.pid)
        if alive:
            self.max_rss = max(self.max_rss, rss or 0)
            self.hwm = max(self.hwm, hwm or 0)
        else:
            self.alive = False


def recorded(data, participant):
    """The participant's recorded views of the visitor's material and searches."""
    # Newer builds sign the cookie: 32 hex digits of id, then 32 of signature.
    if len(participant) == 64:
        participant = participant[:32]
    db = os.path.join(data, "hoclieu.sqlite3")
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        views = c.execute(
            "select count(*) from events where participant=? and kind='view' and material=?",
            (participant, VISITOR_MATERIAL)).fetchone()[0]
        searches = c.execute(
            "select count(*) from events where participant=? and kind='search'",
            (participant,)).fetchone()[0]
        c.close()
        return {"view": views, "search": searches}
    except sqlite3.Error as e:
        print(f"note: usage records unreadable: {e}", file=sys.stderr)
        return None


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_file(data, digest, size):
    for root, dirs, files in os.walk(os.path.join(data, "library")):
        for f in files:
            p = os.path.join(root, f)
            try:
                if os.path.getsize(p) == size and sha256(p) == digest:
                    return p
            except OSError:
                pass
    return None


class Upload:
    """The manager attaches a small PDF during the attack, from its own address."""

    def __init__(self, port, jar, token):
        self.port, self.jar, self.token = port, jar, token
        self.status = None
        self.acked = False
        n = random.getrandbits(48)
        self.bytes = b"%PDF-1.4\n% hoclieu attack bench " + (b"%012x" % n) + os.urandom(200_000)
        self.digest = hashlib.sha256(self.bytes).hexdigest()
        self.name = "tep-%012x.pdf" % n

    def run(self):
        if not self.jar or not self.token:
            self.status = "no-login"
            return
        ct, body = multipart([("token", self.token), ("id", UPLOAD_TARGET)], ("file", self.name, self.bytes))
        st, hs, _, secs = request(self.port, MANAGER, "POST", "/admin/materials/upload", self.jar,
                                  body=body, headers={"Content-Type": ct}, timeout=60)
        loc = dict((k.lower(), v) for k, v in hs).get("location", "")
        self.status = st
        self.secs = secs
        self.acked = st in (302, 303) and "done=uploaded" in loc


# --- the attacks ------------------------------------------------------------------------------


def join_all(threads, deadline):
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


def spread_source(i):
    """The i-th of many attacker addresses (127.1.x.y: loopback takes any 127.x source), as
    someone who keeps changing address on an open Wi-Fi; never the visitor's or manager's."""
    return f"127.1.{i // 250}.{i % 250 + 1}"


def logins_at_once(port, n, notes, spread=False):
    """n wrong logins at the same moment, for names nobody has: from one address, or each from
    its own when `spread`."""
    jar = Jar()
    st, _, page, _ = request(port, ATTACKER, "GET", "/admin/login", jar)
    m = re.search(rb'name="token" value="([^"]+)"', page)
    token = m.group(1).decode() if m else "0" * 32
    codes = {}
    lock = threading.Lock()
    barrier = threading.Barrier(n, timeout=30)

    def one(i):
        body = form({"token": token, "username": f"khach{i}", "password": f"doan-{i}-{random.random()}"})
        req = (f"POST /admin/login HTTP/1.1\r\nHost: {HOST}\r\nCookie: {jar.header()}\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
               f"Connection: close\r\n\r\n").encode() + body
        code = "noconn"
        try:
            s = raw_socket(spread_source(i) if spread else ATTACKER, timeout=60)
            s.connect((HOST, port))
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
            s.sendall(req)
            head = s.recv(64)
            code = head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "closed"
            s.close()
        except OSError as e:
            code = type(e).__name__
        with lock:
            codes[code] = codes.get(code, 0) + 1

    ts = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    join_all(ts, time.monotonic() + 60)
    notes.append(f"{n} logins: " + ", ".join(f"{k}×{v}" for k, v in sorted(codes.items())))


def attack_login60(port, stop, notes, ctx):
    logins_at_once(port, 60, notes)


def attack_login300(port, stop, notes, ctx):
    logins_at_once(port, 300, notes)


def attack_login300_spread(port, stop, notes, ctx):
    logins_at_once(port, 300, notes, spread=True)


def attack_stalled_spread(port, stop, notes, ctx):
    attack_stalled(port, stop, notes, ctx, spread=True)


def attack_stalled(port, stop, notes, ctx, spread=False):
    """Connections that ask for the 50 MB video and never read, kept up until the end: from
    one address, or each from its own when `spread`."""
    n, socks, refused = ctx["stalled"], [], 0
    path = "/m/" + VIDEO50 + "-huong-dan.mp4"
    req = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: keep-alive\r\n\r\n".encode()
    for i in range(n):
        if stop.is_set():
            break
        try:
            s = raw_socket(spread_source(i) if spread else ATTACKER, rcvbuf=4096, timeout=2)
            s.connect((HOST, port))
            s.sendall(req)
            socks.append(s)
        except OSError:
            refused += 1
    notes.append(f"{len(socks)} stalled readers opened, {refused} refused")
    stop.wait()
    # How many the server closed on its own meanwhile.
    closed = 0
    for s in socks:
        try:
            s.setblocking(False)
            while True:
                b = s.recv(1 << 16)
                if not b:
                    closed += 1
                    break
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    notes.append(f"{closed} of them closed by the server by the end")


def attack_slowloris(port, stop, notes, ctx):
    """Many connections sending their headers a byte at a time; each dropped one is opened again."""
    n = ctx["slowloris"]
    head = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: slow\r\n".encode() + b"X-a: b\r\n" * 2000
    conns = {}  # socket -> bytes sent
    opened = dropped = 0

    def open_one():
        nonlocal opened
        try:
            s = raw_socket(ATTACKER, timeout=1)
            s.connect((HOST, port))
            s.setblocking(False)
            conns[s] = 0
            opened += 1
        except OSError:
            pass

    while not stop.is_set():
        while len(conns) < n and not stop.is_set():
            open_one()
            if opened % 50 == 0:
                break
        for s in list(conns):
            try:
                s.send(head[conns[s]:conns[s] + 1])
                conns[s] += 1
            except OSError:
                dropped += 1
                s.close()
                del conns[s]
        stop.wait(0.2)
    for s in conns:
        s.close()
    notes.append(f"{opened} slow connections opened, {dropped} dropped by the server")


def attack_cookieless(port, stop, notes, ctx):
    """500 cookie-less GETs of a material page sent within 0.1 s (connections opened first)."""
    socks = []
    for _ in range(500):
        try:
            s = raw_socket(ATTACKER, timeout=2)
            s.connect((HOST, port))
            socks.append(s)
        except OSError:
            pass
    req = f"GET /m/{VISITOR_MATERIAL} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
    t0 = time.monotonic()
    sent = 0
    for s in socks:
        try:
            s.sendall(req)
            sent += 1
        except OSError:
            pass
    spent = time.monotonic() - t0
    codes = {}
    for s in socks:
        try:
            s.settimeout(15)
            head = s.recv(64)
            code = head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "closed"
        except OSError as e:
            code = type(e).__name__
        codes[code] = codes.get(code, 0) + 1
        s.close()
    notes.append(f"{sent} cookie-less GETs sent in {spent:.3f} s: " + ", ".join(f"{k}×{v}" for k, v in sorted(codes.items())))
    stop.wait(3)


def attack_bigfield(port, stop, notes, ctx):
    """A logged-in manager streams a 250 MB text field to the upload form."""
    jar, token = ctx["attacker_jar"], ctx["attacker_token"]
    if not jar or not token:
        notes.append("attacker could not log in; not run")
        return
    b = "----hoclieubig"
    pre = (f'--{b}\r\nContent-Disposition: form-data; name="token"\r\n\r\n{token}\r\n'
           f'--{b}\r\nContent-Disposition: form-data; name="id"\r\n\r\n{UPLOAD_TARGET}\r\n'
           f'--{b}\r\nContent-Disposition: form-data; name="notes"\r\n\r\n').encode()
    post = f"\r\n--{b}--\r\n".encode()
    size = 250 * 1024 * 1024
    total = len(pre) + size + len(post)
    head = (f"POST /admin/materials/upload HTTP/1.1\r\nHost: {HOST}\r\nCookie: {jar.header()}\r\n"
            f"Content-Type: multipart/form-data; boundary={b}\r\nContent-Length: {total}\r\n"
            f"Connection: close\r\n\r\n").encode()
    chunk = b"a" * (1 << 16)
    sent, code = 0, "none"
    t0 = time.monotonic()
    try:
        s = raw_socket(ATTACKER, timeout=30)
        s.connect((HOST, port))
        s.sendall(head + pre)
        while sent < size and not stop.is_set():
            s.sendall(chunk[: min(len(chunk), size - sent)])
            sent += min(len(chunk), size - sent)
        if sent == size:
            s.sendall(post)
        s.settimeout(60)
        r = s.recv(64)
        code = r.split(b" ")[1].decode() if r.startswith(b"HTTP/") else "closed"
        s.close()
    except OSError as e:
        code = type(e).__name__
    notes.append(f"{sent / 2**20:.0f} of 250 MB sent in {time.monotonic() - t0:.1f} s, answer {code}")
    stop.wait(2)


def attack_exports(port, stop, notes, ctx):
    """4 package exports at once of the material with the 60 MB video, read to the end (by the
    export form's POST with the session's token; older builds took a GET)."""
    jar, token = ctx["attacker_jar"], ctx["attacker_token"]
    if not jar:
        notes.append("attacker could not log in; not run")
        return
    results = []
    fields = form({"token": token or "", "material": VIDEO60})
    probe = request(port, ATTACKER, "GET", "/admin/packages/export", jar, timeout=30)[0]
    method = "GET" if probe != 405 else "POST"
    notes.append(f"export by {method}")

    def one():
        if method == "GET":
            st, hs, body, secs = request(port, ATTACKER, "GET",
                                         "/admin/packages/export?material=" + urllib.parse.quote(VIDEO60),
                                         jar, timeout=120)
        else:
            st, hs, body, secs = request(port, ATTACKER, "POST", "/admin/packages/export", jar,
                                         body=fields,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                                         timeout=120)
        results.append((st, len(body), secs))

    ts = [threading.Thread(target=one, daemon=True) for _ in range(4)]
    for t in ts:
        t.start()
    join_all(ts, time.monotonic() + 150)
    notes.append("4 exports: " + ", ".join(f"{st} {n / 2**20:.0f} MB in {s:.1f} s" for st, n, s in results))
    stop.wait(2)


HOSTILE_WORDS = ["lúa", "trâu", "bò", "thuốc", "bệnh", "nước", "rửa", "tay", "xã", "đất", "ngô", "mạ",
                 "a", "ă", "â", "*", "~", '"', "+", "-", "(", ")", "OR", "AND", "NOT", ":", "^2", "đ"]


def hostile_query(i):
    r = random.Random(i)
    kind = i % 4
    if kind == 0:  # many words, as long as the head allows
        q = " ".join(r.choice(HOSTILE_WORDS) + r.choice(["", "~2", "*"]) for _ in range(900))
    elif kind == 1:  # one very long word
        q = "ư" * 2500
    elif kind == 2:  # query syntax
        q = " ".join(f'"{r.choice(HOSTILE_WORDS)} {r.choice(HOSTILE_WORDS)}"~9 OR title:{r.choice(HOSTILE_WORDS)}*' for _ in range(200))
    else:  # random letters with marks
        q = "".join(r.choice("aăâeêioôơuưyđáàảãạếềểễệ ") for _ in range(2500))
    path = "/search?" + urllib.parse.urlencode({"q": q, "limit": "1000", "offset": str(r.choice([0, 10, 990]))})
    if len(path) > 14000:
        path = path[:14000]
        path = path[: path.rfind("%")] if path.rfind("%") > len(path) - 3 else path
    return path if i % 5 else "/api/suggest?" + urllib.parse.urlencode({"q": q[:3000]})


ORDINARY = ["trâu bò", "lúa", "bảo hiểm y tế", "tiêm chủng", "rửa tay", "ngô", "sạt lở", "lợn"]


def attack_search(port, stop, notes, ctx, clients=48, hostile=True):
    """Clients sending searches as fast as they are answered: hostile long queries, or
    ordinary ones (when the attack is what the searches go through)."""
    counts, lock = {}, threading.Lock()

    def loop(w):
        i = w * 10_000
        while not stop.is_set():
            path = hostile_query(i) if hostile else "/search?q=" + urllib.parse.quote(ORDINARY[i % len(ORDINARY)])
            st, _, _, _ = request(port, ATTACKER, "GET", path, timeout=30)
            if st == 0:
                time.sleep(0.05)  # no answer (the server may be gone): do not spin
            i += 1
            with lock:
                counts[st] = counts.get(st, 0) + 1

    ts = [threading.Thread(target=loop, args=(w,), daemon=True) for w in range(clients)]
    for t in ts:
        t.start()
    stop.wait()
    join_all(ts, time.monotonic() + 32)
    notes.append(f"{clients} clients, {'hostile' if hostile else 'ordinary'} searches: " + ", ".join(f"{k}×{v}" for k, v in sorted(counts.items())))


def attack_search_lesson(port, stop, notes, ctx):
    attack_search(port, stop, notes, ctx, clients=16, hostile=False)


def tag_urls(fragment):
    """(attribute, URL) of every src, href, srcset, poster and data attribute of the real tags in
    an HTML fragment (text that only looks like a tag, such as escaped raw HTML, is not one)."""
    import html.parser

    found = []

    class Tags(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            for k, v in attrs:
                if k in ("src", "href", "srcset", "poster", "data") and v is not None:
                    found.append((k, v))

    Tags(convert_charrefs=True).feed(fragment)
    return found


def attack_markdown(port, stop, notes, ctx):
    """Material bodies pointing into /admin (one on disk as a package would bring it, one saved
    through the editor), then a manager's browser opens the page and loads what it points to."""
    jar, token = ctx["attacker_jar"], ctx["attacker_token"]
    saved = None
    if jar and token:
        st, hs, _, _ = request(port, ATTACKER, "POST", "/admin/materials/save", jar,
                               body=form({"token": token, "title": "Ảnh vào admin qua trình soạn",
                                          "category": "life-skills", "summary": "", "tags": "",
                                          "updated": "", "body": TRAP_BODY}),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        loc = dict((k.lower(), v) for k, v in hs).get("location", "")
        m = re.search(r"id=([^&]+)", loc)
        saved = urllib.parse.unquote(m.group(1)) if m and "done=saved" in loc else None
        notes.append(f"editor save: {st}" + (f" as {saved}" if saved else " (refused)"))
    data_before = folder_size(ctx["data"])
    bad, loaded = [], 0
    for mid in [TRAP] + ([saved] if saved else []):
        page_path = "/m/" + mid
        st, _, page, _ = request(port, ATTACKER, "GET", page_path, jar)
        art = page.split(b'<article', 1)[-1].split(b"</article>", 1)[0].decode(errors="replace")
        for attr, url in tag_urls(art):
            target = urllib.parse.urlsplit(urllib.parse.urljoin(f"http://{HOST}:{port}{page_path}", url))
            p = urllib.parse.unquote(target.path)
            norm = os.path.normpath(p) if p else ""
            if norm.startswith("/admin") and target.hostname in (HOST, None, "localhost"):
                bad.append(f"{attr}={url}")
                if attr == "src":  # a browser loads it by itself, with the staff cookie
                    request(port, ATTACKER, "GET", target.path + ("?" + target.query if target.query else ""), jar, timeout=60)
                    loaded += 1
    grew = (folder_size(ctx["data"]) - data_before) / 2**20
    ctx["markdown_bad"] = bad
    ctx["markdown_grew"] = grew
    notes.append(f"{len(bad)} image/link targets into /admin in the pages ({loaded} loaded by the manager's browser); data folder grew {grew:.1f} MB")
    stop.wait(2)


def folder_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


ATTACKS = {
    # First, so that the participants before it are only the 13 real visitors it adds.
    "cookieless": ("500 cookie-less GETs in 0.1 s", attack_cookieless, 0),
    "login-60": ("login flood: 60 simultaneous wrong logins", attack_login60, 0),
    "login-300": ("login flood: 300 simultaneous wrong logins", attack_login300, 0),
    "login-300-spread": ("login flood: 300 simultaneous wrong logins from 300 addresses", attack_login300_spread, 0),
    "stalled": ("stalled readers of the 50 MB video (SO_RCVBUF 4 KB)", attack_stalled, 25),
    "stalled-spread": ("stalled readers of the 50 MB video, each from its own address", attack_stalled_spread, 25),
    "slowloris": ("slowloris: headers a byte at a time", attack_slowloris, 20),
    "bigfield": ("250 MB text field in an upload form", attack_bigfield, 0),
    "exports": ("4 concurrent package exports (60 MB video)", attack_exports, 0),
    "search": ("search flood: 48 clients, hostile long queries", attack_search, 20),
    "search-lesson": ("imported lesson with 20 MB of notes, 16 clients searching", attack_search_lesson, 20),
    "markdown": ("Markdown images into /admin", attack_markdown, 0),
}

BIG_LESSON = "bench"  # a valid code (no 0, 1, i, l, o)


def prepare(name, data):
    """What an attack needs in the data folder before the server starts (and undo)."""
    path = os.path.join(data, "lessons", BIG_LESSON + ".toml")
    if name == "search-lesson":
        # As a package import writes it: past the web form's checks.
        os.makedirs(os.path.dirname(path), exist_ok=True)
        notes = ("Ghi chú về trâu bò mùa rét và lúa. " * 600_000)[: 20 * 2**20]
        with open(path, "w") as f:
            f.write(f'code = "{BIG_LESSON}"\ntitle = "Bài học trâu bò mùa rét"\ncategory = "agriculture"\n'
                    f'published = true\nnotes = """{notes}"""\n\n[[item]]\nmaterial = "{VISITOR_MATERIAL}"\n')


def unprepare(name, data):
    try:
        os.remove(os.path.join(data, "lessons", BIG_LESSON + ".toml"))
    except OSError:
        pass


def participants(bin_, data):
    """The report's participants for this month (and the previous), or None."""
    day = time.strftime("%Y-%m", time.gmtime(time.time() + 7 * 3600))
    try:
        out = subprocess.run([bin_, "report", "--data", data, "--period", day, "--format", "json"],
                             capture_output=True, text=True, timeout=60)
        j = json.loads(out.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    cur = j.get("current", j) if isinstance(j, dict) else None
    v = cur.get("participants") if isinstance(cur, dict) else None
    if isinstance(v, dict):  # a fixed report may say more than a number
        v = v.get("counted", v.get("value"))
    return v if isinstance(v, int) else None


def crowd(port, n):
    """n real visitors from their own addresses, each keeping its cookie (two pages each)."""
    for i in range(n):
        jar, src = Jar(), f"127.0.0.{10 + i}"
        request(port, src, "GET", "/", jar)
        request(port, src, "GET", "/m/" + VISITOR_MATERIAL, jar)
        request(port, src, "GET", "/m/health/bao-hiem-y-te", jar)


def run(args):
    name = args["attack"]
    title, fn, secs = ATTACKS[name]
    port, pid, data = int(args["port"]), int(args["pid"]), args["data"]
    secs = float(args.get("secs") or secs)
    ctx = {"data": data, "stalled": int(os.environ.get("STALLED") or 600),
           "slowloris": int(os.environ.get("SLOWLORIS") or 600)}
    # The peak so far is the start's (building the index); measure the attack's own.
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    rss0 = proc_status(pid)[1]
    cg = args.get("cgroup")
    oom0 = oom_kills(cg)
    for f in ["memory.max_usage_in_bytes", "memory.peak"]:
        try:
            with open(os.path.join(cg, f), "w") as fh:
                fh.write("0")
        except (OSError, TypeError):
            pass
    mjar = login(port, MANAGER)
    mtoken = csrf(port, MANAGER, mjar, UPLOAD_TARGET) if mjar else None
    if name in ("bigfield", "exports", "markdown"):
        ctx["attacker_jar"] = login(port, ATTACKER)
        ctx["attacker_token"] = csrf(port, ATTACKER, ctx["attacker_jar"], UPLOAD_TARGET) if ctx["attacker_jar"] else None
    before = None
    if name == "cookieless":
        crowd(port, 13)
        time.sleep(1.5)
        before = participants(args["bin"], data)
    watch = Watch(port, pid)
    watch.start()
    time.sleep(1.0)  # the visitor is served before the attack too
    stop, notes = threading.Event(), []
    attacker = threading.Thread(target=fn, args=(port, stop, notes, ctx), daemon=True)
    t_attack = time.monotonic()
    watch.t0 = t_attack  # a death is timed from the attack's start
    attacker.start()
    time.sleep(1.0)
    up = Upload(port, mjar, mtoken)
    uploader = threading.Thread(target=up.run, daemon=True)
    uploader.start()
    if secs:
        stop.wait(secs)
        stop.set()
    attacker.join(240)
    stop.set()
    attack_secs = time.monotonic() - t_attack
    uploader.join(90)
    time.sleep(2.0)  # the visitor goes on a moment after the attack
    watch.finish()
    time.sleep(1.0)  # events are committed within a quarter second
    rec = recorded(data, watch.jar.c.get("hl_p", ""))
    acked = watch.acked
    lost = None if rec is None else max(0, acked["view"] - rec["view"]) + max(0, acked["search"] - rec["search"])
    upload_kept = None
    if up.acked:
        upload_kept = find_file(data, up.digest, len(up.bytes)) is not None
    ok_lat = [s for s, ok in watch.latencies if ok]
    worst = max([s for s, _ in watch.latencies], default=None)
    res = {
        "attack": name,
        "title": title,
        "up": watch.alive,
        "died_at": watch.died_at,
        "rss_before": rss0,
        "max_rss": max(watch.max_rss, watch.hwm),
        "visitor_requests": len(watch.latencies),
        "visitor_failed": len(watch.latencies) - len(ok_lat),
        "visitor_failures": sorted(set(watch.failures))[:6],
        "worst_latency": worst,
        "median_latency": sorted(ok_lat)[len(ok_lat) // 2] if ok_lat else None,
        "acked": acked,
        "recorded": rec,
        "lost": lost,
        "upload_status": up.status,
        "upload_acked": up.acked,
        "upload_kept": upload_kept,
        "attack_secs": round(attack_secs, 1),
        "notes": notes,
    }
    if name == "cookieless":
        time.sleep(1.0)
        after = participants(args["bin"], data)
        res["participants_before"], res["participants_after"] = before, after
        notes.append(f"report participants this month: {before} before, {after} after")
    if name == "markdown":
        res["markdown_bad"] = ctx.get("markdown_bad", [])
        res["markdown_grew"] = ctx.get("markdown_grew", 0.0)
    if cg:
        for f in ["memory.max_usage_in_bytes", "memory.peak"]:
            try:
                v = int(open(os.path.join(cg, f)).read().split()[0])
                res["cgroup_max_usage_in_bytes"] = v
            except (OSError, ValueError, IndexError):
                pass
        if oom0 is not None:
            res["oom_kills"] = (oom_kills(cg) or 0) - oom0
    res["verdict"], res["why"] = judge(res)
    print(json.dumps(res, ensure_ascii=False))


def oom_kills(cg):
    """The cgroup's count of OOM kills so far (v1 oom_control or v2 memory.events)."""
    for f in ["memory.oom_control", "memory.events"]:
        try:
            m = re.search(r"oom_kill (\d+)", open(os.path.join(cg, f)).read())
            if m:
                return int(m.group(1))
        except (OSError, TypeError):
            pass
    return None


RSS_LIMIT_MB, LATENCY_LIMIT_S = 100, 2.0


def judge(r):
    why = []
    if not r["up"]:
        why.append("server died" + (f" at {r['died_at']:.1f} s" if r.get("died_at") else ""))
    if r["visitor_failed"]:
        why.append(f"{r['visitor_failed']} visitor requests failed")
    elif r["worst_latency"] is None or r["worst_latency"] > LATENCY_LIMIT_S:
        why.append("visitor slower than 2 s")
    if r.get("oom_kills"):
        why.append("OOM-killed at the cgroup's limit")
    elif r["max_rss"] >= RSS_LIMIT_MB:
        why.append("RSS ≥ 100 MB")
    if r["lost"] is None:
        why.append("records unreadable")
    elif r["lost"]:
        why.append(f"{r['lost']} visits lost")
    if r["upload_acked"] and r["upload_kept"] is False:
        why.append("upload lost")
    if not r["upload_acked"]:
        why.append(f"upload not acknowledged ({r['upload_status']})")
    if r["attack"] == "cookieless":
        b, a = r.get("participants_before"), r.get("participants_after")
        if b is None or a is None:
            why.append("participants unreadable")
        elif a - b > 10:
            why.append(f"participants jumped {b}→{a}")
    if r["attack"] == "markdown":
        if r.get("markdown_bad"):
            why.append("page points into /admin")
        if r.get("markdown_grew", 0) > 10:
            why.append("a page view made work (data folder grew)")
    return ("PASS" if not why else "FAIL"), why


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def table(path):
    rows = [json.loads(line) for line in open(path) if line.strip().startswith("{")]
    out = ["| attack | server up | max RSS (MB) | worst visitor latency (s) | visitor requests failed | visits lost (acked) | upload kept | verdict |",
           "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        if r.get("error"):
            out.append(f"| {ATTACKS.get(r['attack'], (r['attack'],))[0]} | ? | ? | ? | ? | ? | ? | **ERROR**: the harness failed (see target/bench/attacks/{r['attack']}.err) |")
            continue
        up = "yes" if r["up"] else "**no**" + (f" (died at {r['died_at']:.1f} s)" if r.get("died_at") else "")
        acked = sum(r["acked"].values())
        lost = "?" if r["lost"] is None else str(r["lost"])
        upload = ("yes" if r["upload_kept"] else "**LOST**") if r["upload_acked"] else f"not acked ({r['upload_status']})"
        worst = fmt(r["worst_latency"], ".2f") + (" (timeout)" if r["visitor_failed"] else "")
        verdict = r["verdict"] if r["verdict"] == "PASS" else "**FAIL**: " + "; ".join(r["why"])
        rss = fmt(r["max_rss"], ".0f") + (" then OOM-killed" if r.get("oom_kills") else "")
        out.append(f"| {r['title']} | {up} | {rss} | {worst} | {r['visitor_failed']}/{r['visitor_requests']} | {lost} ({acked}) | {upload} | {verdict} |")
    out.append("")
    out.append("What each attack did and got back:")
    out.append("")
    for r in rows:
        if r.get("error"):
            continue
        extra = f"RSS before {fmt(r['rss_before'], '.0f')} MB; median visitor latency {fmt(r['median_latency'], '.3f')} s"
        if r["visitor_failures"]:
            extra += "; visitor failures (page:code) " + ", ".join(r["visitor_failures"])
        if r.get("cgroup_max_usage_in_bytes"):
            extra += f"; cgroup peak {r['cgroup_max_usage_in_bytes'] / 2**20:.0f} MB (with page cache)"
        if r.get("oom_kills"):
            extra += f"; killed by the kernel's OOM killer ({r['oom_kills']}×)"
        out.append(f"- **{r['title']}** ({r['attack_secs']} s): " + "; ".join(r["notes"] + [extra]) + ".")
    return "\n".join(out), all(r.get("verdict") == "PASS" for r in rows)


def main():
    cmd = sys.argv[1]
    if cmd == "setup":
        setup(sys.argv[2])
    elif cmd == "run":
        args = {"attack": sys.argv[2]}
        rest = sys.argv[3:]
        for k, v in zip(rest[::2], rest[1::2]):
            args[k.lstrip("-")] = v
        run(args)
    elif cmd == "table":
        text, ok = table(sys.argv[2])
        print(text)
        sys.exit(0 if ok else 1)
    elif cmd == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    elif cmd == "unprepare":
        unprepare(sys.argv[2], sys.argv[3])
    elif cmd == "list":
        print(" ".join(ATTACKS))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
