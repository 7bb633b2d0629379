// Drives real headless Chromium over the DevTools protocol through the
// citizen and staff flows. Run by tests/browser.rs:
//   node --experimental-websocket tests/browser.js <base-url> <artifacts-dir>
// Env: CHROMIUM (default "chromium"), LB_STAFF_USER, LB_STAFF_PASS, LB_QUESTION.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const base = process.argv[2];
const artifacts = process.argv[3];
const question = process.env.LB_QUESTION || "公司拖欠我三个月工资不发，还要辞退我，我该怎么办？";
fs.mkdirSync(artifacts, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "lawbrain-chromium-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function launch() {
  const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank"];
  const proc = spawn(process.env.CHROMIUM || "chromium", args, { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error("chromium did not start: " + err)), 30000);
    proc.stderr.on("data", (d) => {
      err += d.toString();
      const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve({ proc, ws: m[1] }); }
    });
    proc.on("exit", (c) => reject(new Error("chromium exited " + c + ": " + err)));
  });
}

class Cdp {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.id = 0;
    this.pending = new Map();
    this.events = [];
    this.ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.id && this.pending.has(msg.id)) {
        const { resolve, reject } = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
      } else if (msg.method) {
        this.events.push(msg);
      }
    };
  }
  open() { return new Promise((r, j) => { this.ws.onopen = r; this.ws.onerror = j; }); }
  send(method, params = {}, sessionId) {
    const id = ++this.id;
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }
}

async function main() {
  const { proc, ws } = await launch();
  const cdp = new Cdp(ws);
  await cdp.open();
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  const s = (m, p) => cdp.send(m, p, sessionId);
  await s("Page.enable");
  await s("Runtime.enable");
  await s("Log.enable");
  await s("Network.enable");
  // A phone-sized screen: the hall must work on a phone.
  await s("Emulation.setDeviceMetricsOverride", { width: 390, height: 844, deviceScaleFactor: 2, mobile: true });

  const evaluate = async (expr) => {
    const r = await s("Runtime.evaluate", { expression: expr, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error("evaluate failed: " + expr + ": " + JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };
  const waitFor = async (expr, what, ms = 60000) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      try { if (await evaluate(expr)) return; } catch (e) { /* page navigating */ }
      await sleep(100);
    }
    await shot("timeout");
    throw new Error("timed out waiting for " + what);
  };
  const goto = async (url) => {
    await s("Page.navigate", { url });
    await waitFor("document.readyState === 'complete' && location.href.startsWith(" + JSON.stringify(url.split("?")[0]) + ")", "load " + url);
  };
  const shot = async (name) => {
    const { data } = await s("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
    fs.writeFileSync(path.join(artifacts, name + ".png"), Buffer.from(data, "base64"));
  };
  const result = {};

  // 1. A citizen asks a question.
  await goto(base + "/");
  await evaluate(`document.getElementById("question").value = ${JSON.stringify(question)}; document.getElementById("ask-form").requestSubmit(); true`);
  await waitFor("document.querySelectorAll('.hits-card li').length > 0", "retrieved articles");
  await waitFor("!!document.querySelector('.triage-card')", "triage card");
  await waitFor("document.querySelector('.bubble.bot .answer-text') && document.querySelector('.bubble.bot .answer-text').textContent.length > 0", "streamed answer");
  result.answer_started = true;
  await waitFor("!!document.querySelector('.referral-card') && !!document.querySelector('.actions .handoff')", "answer done and referral", 600000);
  result.hits = await evaluate("document.querySelectorAll('.hits-card li').length");
  result.answer = await evaluate("document.querySelector('.bubble.bot .answer-text').textContent + ' ' + (document.querySelector('.articles-card') ? document.querySelector('.articles-card').textContent : '')");
  result.referral = await evaluate("document.querySelector('.referral-card').textContent");
  await shot("1-hall-answer");

  // 2. Clicks a citation chip: the article text opens.
  const chipSel = (await evaluate("document.querySelectorAll('.citations .chip').length")) > 0 ? ".citations .chip" : ".hits-card .chip";
  result.chip = await evaluate(`document.querySelector(${JSON.stringify(chipSel)}).textContent`);
  await evaluate(`document.querySelector(${JSON.stringify(chipSel)}).click(); true`);
  await waitFor("document.getElementById('article-dialog').open && document.getElementById('article-text').textContent.length > 10", "article text");
  result.article_title = await evaluate("document.getElementById('article-title').textContent");
  result.article_text = await evaluate("document.getElementById('article-text').textContent");
  await shot("2-article");
  await evaluate("document.getElementById('article-close').click(); true");
  await waitFor("!document.getElementById('article-dialog').open", "dialog closed");

  // 3. Presses 转人工.
  await evaluate("document.querySelector('.actions .handoff').click(); true");
  await waitFor("document.querySelector('.actions .muted').textContent.includes('已转人工')", "hand-off confirmation");
  result.handoff = await evaluate("document.querySelector('.actions .muted').textContent");
  await shot("3-handoff");

  // 4. A staff member logs in and approves it in the review queue.
  await s("Emulation.setDeviceMetricsOverride", { width: 1200, height: 900, deviceScaleFactor: 1, mobile: false });
  await goto(base + "/login?next=/review");
  await evaluate(`document.querySelector('input[name=name]').value = ${JSON.stringify(process.env.LB_STAFF_USER)};
    document.querySelector('input[name=password]').value = ${JSON.stringify(process.env.LB_STAFF_PASS)};
    document.querySelector('form[action="/login"]').submit(); true`);
  await waitFor("location.pathname === '/review' && document.readyState === 'complete'", "review queue after login");
  const q = question.slice(0, 12);
  await waitFor(`[...document.querySelectorAll('article.review')].some(a => a.textContent.includes(${JSON.stringify(q)}) && a.textContent.includes('群众转人工'))`, "the hand-off in the queue");
  await shot("4-review-queue");
  await evaluate(`(() => { const a = [...document.querySelectorAll('article.review')].find(a => a.textContent.includes(${JSON.stringify(q)}));
    a.querySelector('button[value=approve]').click(); return true; })()`);
  await waitFor(`location.pathname === '/review' && document.readyState === 'complete' && ![...document.querySelectorAll('article.review')].some(a => a.textContent.includes(${JSON.stringify(q)}))`, "item left the pending queue");
  await goto(base + "/review?status=approved");
  await waitFor(`[...document.querySelectorAll('article.review')].some(a => a.textContent.includes(${JSON.stringify(q)}) && a.textContent.includes('已批准'))`, "approved item");
  result.approved = true;
  await shot("5-approved");

  // 5. On the hotline console the suggested answer appears as it is drafted,
  // then the call's page opens.
  await goto(base + "/agent");
  await evaluate(`document.getElementById('agent-question').value = '单位不给我交社保，我能要求补缴吗？';
    document.getElementById('agent-ask').click(); true`);
  await waitFor("location.pathname.startsWith('/agent/calls/') && document.readyState === 'complete'", "the call's page", 600000);
  result.agent_call = await evaluate("document.body.textContent.includes('单位不给我交社保')");
  // The console used the streaming endpoint (not the plain form post).
  result.agent_streamed = cdp.events.some((e) => e.method === "Network.requestWillBeSent"
    && e.params.request.url.endsWith("/agent/ask/stream") && e.params.request.method === "POST");
  await shot("6-agent-call");

  // Any CSP violation or script error shows up in the log.
  result.errors = cdp.events
    .filter((e) => (e.method === "Log.entryAdded" && e.params.entry.level === "error") || e.method === "Runtime.exceptionThrown")
    .map((e) => JSON.stringify(e.params).slice(0, 300));
  console.log(JSON.stringify(result));
  await new Promise((r) => { proc.once("exit", r); proc.kill("SIGKILL"); });
  try { fs.rmSync(profile, { recursive: true, force: true }); } catch (e) { /* best effort */ }
}

main().then(() => process.exit(0)).catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
