#!/usr/bin/env python3
"""Probe a `lawbrain` binary the way issue 15 did, for before/after figures.

    python3 bench/probe_hardening.py BINARY INDEX_DIR

Starts `BINARY serve --no-llm` on loopback with its data directory on a small
tmpfs (needs root for the mount; without it the disk-full probe is skipped),
then: a full disk during a consultation; slow headers, a short body, an idle
connection; login timing for unknown names and wrong passwords, `next=`
with a tab and a line break; feedback with only an answer id; a question of
zero-width characters and an unknown OpenAI role; a second server on the
same data directory; and after `purge`, whether the purged text is still in
the database files. Prints one line per probe. Loopback only.
"""

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN, INDEX = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="lb-probe-")
data = os.path.join(work, "data")
os.makedirs(data)
mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", data],
                         capture_output=True).returncode == 0
db = os.path.join(data, "lawbrain.sqlite3")
env = dict(os.environ, LAWBRAIN_DATA=data, LAWBRAIN_RATE_PER_MINUTE="100000",
           LAWBRAIN_RATE_BURST="100000", LAWBRAIN_PASSWORD="staff-pass-1", NO_COLOR="1")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(port):
    p = subprocess.Popen([BIN, "serve", "--no-setup", "--no-llm", "--index", INDEX, "--db", db,
                          "--addr", f"127.0.0.1:{port}"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if p.poll() is not None:
            return p
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
            return p
        except OSError:
            time.sleep(0.1)
    return p


def req(port, method, path, body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    text = r.read().decode("utf-8", "replace")
    try:
        return r.status, json.loads(text), r
    except ValueError:
        return r.status, text, r


def out(name, value):
    print(f"{name}: {value}", flush=True)


subprocess.run([BIN, "user", "add", "li", "--role", "staff", "--db", db], env=env,
               capture_output=True)
port = free_port()
server = start(port)
SECRET = "紫藤花园秘密约定XQ7"
try:
    st, v, _ = req(port, "POST", "/api/consult", {"question": f"{SECRET}，公司拖欠工资怎么办"})
    out("consult", f"{st} answer_id={v.get('answer_id')} token={'answer_token' in v}")
    aid = v.get("answer_id")

    # 8: feedback with only the sequential id
    st, v, _ = req(port, "POST", "/api/feedback", {"answer_id": aid, "helpful": False})
    out("feedback with answer_id only (8)", st)

    # 9: invisible question, unknown role
    st, _, _ = req(port, "POST", "/api/consult", {"question": "\u200b\u200b\u2060"})
    out("zero-width question (9)", st)
    st, _, _ = req(port, "POST", "/v1/chat/completions", {
        "messages": [{"role": "wizard", "content": "x"}, {"role": "user", "content": "工资"}]})
    out("unknown OpenAI role (9)", st)

    # 7: login timing and next=
    def login(name, pw, nxt=""):
        s, _, r = req(port, "GET", "/login")
        tok = re.search(r"lb_login_csrf=([0-9a-f]+)", r.getheader("set-cookie") or "").group(1)
        form = urllib.parse.urlencode({"name": name, "password": pw, "csrf": tok, "next": nxt})
        t = time.perf_counter()
        s, _, r = req(port, "POST", "/login", form, {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"lb_login_csrf={tok}"})
        return s, time.perf_counter() - t, r.getheader("location")

    unknown = [login(f"nobody{i}", "wrong-pass")[1] for i in range(5)]
    wrong = [login("li", "wrong-pass")[1] for i in range(3)]
    u, w = statistics.median(unknown), statistics.median(wrong)
    out("login unknown name vs wrong password ms (7)", f"{u*1000:.1f} vs {w*1000:.1f} (ratio {u/w:.2f})")
    s, _, loc = login("li", "staff-pass-1")
    out("right password after 3+ failures (7)", s)
    time.sleep(2)
    for label, nxt in [("tab", "/\t/evil.example"), ("line break", "/\n/evil.example")]:
        try:
            s, _, loc = login("li", "staff-pass-1", nxt)
            out(f"next= with a {label} (7)", f"{s} Location={loc!r}")
        except Exception as e:  # noqa: BLE001
            out(f"next= with a {label} (7)", f"error {e}")

    # 1: slow headers, short body, idle keep-alive
    def time_to_close(payload, cap=30):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(payload)
        s.settimeout(cap)
        t = time.perf_counter()
        got = b""
        try:
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        except OSError:
            pass
        s.close()
        e = time.perf_counter() - t
        return (f"{e:.1f} s" if e < cap - 0.5 else f"still open after {cap} s"), got[:12]

    out("slow headers closed after (1)", time_to_close(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"))
    out("short body closed after (1)", time_to_close(
        b"POST /api/consult HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"q"))
    out("idle keep-alive closed after (1)", time_to_close(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))

    # 6: a second server on the same data directory
    p2 = subprocess.Popen([BIN, "serve", "--no-setup", "--no-llm", "--index", INDEX, "--db", db,
                           "--addr", f"127.0.0.1:{free_port()}"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = p2.communicate(timeout=20)
        out("second server on the same directory (6)", f"exit {p2.returncode}: {err.strip().splitlines()[-1][:160]}")
    except subprocess.TimeoutExpired:
        p2.kill()
        p2.communicate()
        out("second server on the same directory (6)", "started (still running after 20 s)")

    # 5: disk full
    if mounted:
        filler = os.path.join(data, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        long_q = "公司拖欠我的工资，" * 200
        st, v, r = req(port, "POST", "/api/consult", {"question": long_q})
        aid = v.get("answer_id") if isinstance(v, dict) else None
        out("consult with the disk full (5)", f"{st} answer_id={aid} retry-after={r.getheader('retry-after')}")
        st, v, _ = req(port, "GET", "/healthz")
        out("healthz with the disk full (5)", f"{st} status={v.get('status')} storage={v.get('storage')}")
        os.remove(filler)
        time.sleep(0.3)
        st, v, _ = req(port, "POST", "/api/consult", {"question": long_q})
        out("consult after freeing space (5)", f"{st} answer_id={v.get('answer_id')}")
        st, v, _ = req(port, "GET", "/healthz")
        out("healthz after freeing space (5)", f"{st} status={v.get('status')}")
    else:
        out("disk full (5)", "skipped (no tmpfs mount: not root)")
    # 3: purge while the server runs (as a nightly job would), then look for
    # the text in the files, with the server up and after it stops
    def grep_files(when):
        found = []
        for name in sorted(os.listdir(data)):
            if name.startswith("lawbrain.sqlite3"):
                path = os.path.join(data, name)
                with open(path, "rb") as f:
                    if "XQ7".encode() in f.read():
                        found.append(name)
                out(f"mode of {name} (3)", oct(os.stat(path).st_mode & 0o777))
        out(f"purged text still in the files {when} (3)", found or "no")

    time.sleep(1.1)
    p = subprocess.run([BIN, "purge", "--older-than-days", "0", "--db", db], env=env,
                       capture_output=True, text=True)
    out("purge", p.stdout.strip() or p.stderr.strip()[-200:])
    grep_files("(server running)")
finally:
    server.terminate()
    server.wait()
grep_files("(server stopped)")
if mounted:
    subprocess.run(["umount", data])
