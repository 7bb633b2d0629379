// 网上法律服务大厅: multi-turn consultation over SSE (fetch + ReadableStream).
// Builds the DOM with textContent only: model output is never parsed as HTML.
"use strict";

(function () {
  const chat = document.getElementById("chat");
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const button = document.getElementById("ask-btn");
  const status = document.getElementById("status");
  const dialog = document.getElementById("article-dialog");
  let conversationId = null;

  const SERVICE_NAMES = {
    legal_aid: "法律援助", mediation: "人民调解", notary: "公证", judicial_appraisal: "司法鉴定",
    arbitration: "仲裁", lawyer: "委托律师", litigation: "向人民法院起诉",
    administrative: "向行政机关投诉/申请/复议", emergency: "紧急情况", consultation: "咨询即可",
  };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function articlePath(law, article, suffix) {
    const n = suffix ? article + "-" + suffix : String(article);
    return "/api/articles/" + encodeURIComponent(law) + "/" + encodeURIComponent(n);
  }

  function chip(law, article, suffix, label, cls) {
    const b = el("button", "chip " + (cls || ""), "《" + law + "》" + label);
    b.type = "button";
    b.dataset.law = law;
    b.dataset.article = String(article);
    b.dataset.suffix = String(suffix || 0);
    b.addEventListener("click", () => openArticle(law, article, suffix));
    return b;
  }

  async function openArticle(law, article, suffix) {
    const title = document.getElementById("article-title");
    const meta = document.getElementById("article-meta");
    const text = document.getElementById("article-text");
    title.textContent = "《" + law + "》";
    meta.textContent = "正在读取…";
    text.textContent = "";
    if (!dialog.open) dialog.showModal();
    try {
      const r = await fetch(articlePath(law, article, suffix));
      const a = await r.json();
      if (!r.ok) { meta.textContent = a.error || "未找到该条文"; return; }
      title.textContent = "《" + a.law + "》" + a.article_label;
      meta.textContent = a.level + " · " + a.status + (a.in_force ? "" : "（非现行版本）");
      text.textContent = a.text;
    } catch (e) {
      meta.textContent = "网络错误，请稍后再试";
    }
  }

  function triageCard(t) {
    const card = el("section", "card triage-card");
    card.appendChild(el("h3", null, "办理指引：" + (SERVICE_NAMES[t.primary_service] || t.primary_service)));
    const others = (t.services || []).filter((s) => s !== t.primary_service).map((s) => SERVICE_NAMES[s] || s);
    if (others.length) card.appendChild(el("p", null, "也可考虑：" + others.join("、")));
    if (t.legal_aid && t.legal_aid.may_qualify) {
      let s = "您可能符合法律援助条件" + (t.legal_aid.economic_review_exempt ? "（免予经济困难审查）" : "") + "，由法律援助机构审查决定。";
      if (t.legal_aid.what_to_bring && t.legal_aid.what_to_bring.length) s += "需携带：" + t.legal_aid.what_to_bring.join("、");
      card.appendChild(el("p", "aid", s));
    }
    return card;
  }

  // The answer, in the order a citizen acts on it: the conclusion, the next
  // steps (built from the route and the referral directory, not by the
  // model), then the articles, each collapsed to its relevant sentence.
  // Every piece of text goes in through textContent.
  function basisText(answer) {
    const i = answer.indexOf("依据：");
    if (i < 0) return "";
    let rest = answer.slice(i + 3);
    const j = rest.indexOf("建议：");
    if (j >= 0) rest = rest.slice(0, j);
    return rest.trim();
  }

  function stepsCard(d) {
    const card = el("section", "card referral-card steps-card");
    card.appendChild(el("h3", null, "下一步怎么办"));
    const ol = el("ol", "steps");
    for (const st of (d.guide && d.guide.steps) || []) {
      const li = el("li");
      li.appendChild(el("strong", null, st.title + "："));
      li.appendChild(document.createTextNode((st.lines || []).join(" ")));
      ol.appendChild(li);
    }
    card.appendChild(ol);
    if (d.triage && d.triage.needs_review) card.appendChild(el("p", "warn-text", "此类问题建议由工作人员进一步核实。"));
    return card;
  }

  function articlesCard(d) {
    const card = el("section", "card hits-card articles-card");
    card.appendChild(el("h3", null, "依据的法条"));
    const gate = (d.guide && d.guide.gate && d.guide.gate.articles) || [];
    const rows = (d.retrieved || []).map((h, i) => ({ h: h, g: gate[i] || null }));
    const relevant = rows.filter((r) => !r.g || r.g.pass);
    if (d.guide && d.guide.abstained) {
      card.appendChild(el("p", "muted", "检索到的法条与您的问题关系不大，未作为依据。"));
    }
    const ul = el("ul", "hits");
    for (const r of (relevant.length ? relevant : rows).slice(0, 5)) {
      const li = el("li");
      li.appendChild(chip(r.h.law, r.h.article, r.h.suffix, r.h.article_label, "hit"));
      const key = (r.g && r.g.key_sentence) || (r.h.text.length > 120 ? r.h.text.slice(0, 120) + "…" : r.h.text);
      li.appendChild(el("p", "hit-text key-sentence", key));
      const more = el("details", "full-text");
      more.appendChild(el("summary", null, "展开全文"));
      more.appendChild(el("p", "hit-text", r.h.text));
      li.appendChild(more);
      ul.appendChild(li);
    }
    card.appendChild(ul);
    const basis = basisText(d.answer || "");
    if (basis && !(d.guide && d.guide.abstained)) {
      card.appendChild(el("h4", null, "条文如何适用"));
      card.appendChild(el("p", "basis-text", basis));
    }
    return card;
  }

  function referralCard(t) {
    const r = t.referral || {};
    const card = el("section", "card referral-card");
    card.appendChild(el("h3", null, "去哪里办：" + (r.service_name || SERVICE_NAMES[t.primary_service] || "")));
    const add = (label, items) => {
      if (items && items.length) card.appendChild(el("p", null, label + items.join("；")));
    };
    add("地点：", r.where_to_go);
    add("方式：", r.how);
    add("电话：", r.phones);
    if (t.needs_review) card.appendChild(el("p", "warn-text", "此类问题建议由工作人员进一步核实。"));
    return card;
  }

  function hitsCard(hits) {
    const card = el("section", "card hits-card");
    card.appendChild(el("h3", null, "相关法条"));
    if (!hits.length) { card.appendChild(el("p", "muted", "没有检索到直接相关的法条。")); return card; }
    const ul = el("ul", "hits");
    for (const h of hits) {
      const li = el("li");
      li.appendChild(chip(h.law, h.article, h.suffix, h.article_label, "hit"));
      li.appendChild(el("p", "hit-text", h.text.length > 120 ? h.text.slice(0, 120) + "…" : h.text));
      ul.appendChild(li);
    }
    card.appendChild(ul);
    return card;
  }

  function actions(turn, answerId, answerToken) {
    const box = el("div", "actions");
    const msg = el("span", "muted");
    const post = async (url, body, done) => {
      try {
        const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        const j = await r.json();
        msg.textContent = r.ok ? (j.message || done) : (j.error || "提交失败");
      } catch (e) { msg.textContent = "网络错误，请稍后再试"; }
    };
    const up = el("button", "small", "有帮助"); up.type = "button";
    const down = el("button", "small", "没帮助"); down.type = "button";
    const human = el("button", "small warn", "转人工"); human.type = "button"; human.className += " handoff";
    up.addEventListener("click", () => { up.disabled = down.disabled = true; post("/api/feedback", { answer_id: answerId, answer_token: answerToken, helpful: true }, "感谢反馈"); });
    down.addEventListener("click", () => { up.disabled = down.disabled = true; post("/api/feedback", { answer_id: answerId, answer_token: answerToken, helpful: false }, "感谢反馈"); });
    human.addEventListener("click", () => { human.disabled = true; post("/api/handoff", { answer_id: answerId, answer_token: answerToken }, "已转人工"); });
    box.append(up, down, human, msg);
    turn.appendChild(box);
  }

  async function ask(question) {
    const turn = el("div", "turn");
    turn.appendChild(el("div", "bubble user", question));
    chat.appendChild(turn);
    const answerBox = el("div", "bubble bot");
    const answerText = el("div", "answer-text");
    answerBox.appendChild(el("div", "label", "参考答复（仅供参考，不构成法律意见）"));
    answerBox.appendChild(answerText);
    let triage = null;
    status.textContent = "正在检索法条…";
    button.disabled = true;
    try {
      const resp = await fetch("/api/consult", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
        body: JSON.stringify({ question: question, conversation_id: conversationId }),
      });
      if (!resp.ok) {
        const j = await resp.json().catch(() => ({}));
        if (j.triage) { turn.appendChild(triageCard(j.triage)); }
        if (j.hits) { turn.appendChild(hitsCard(j.hits)); }
        if (j.triage) { turn.appendChild(referralCard(j.triage)); }
        turn.appendChild(el("p", "error", j.error || ("请求失败（" + resp.status + "）")));
        status.textContent = "";
        return;
      }
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let started = false;
      const onEvent = (name, d) => {
        if (name === "triage") { triage = d; turn.appendChild(answerBox); turn.appendChild(triageCard(d)); }
        else if (name === "hits") { turn.appendChild(hitsCard(d)); status.textContent = "正在起草答复…"; }
        else if (name === "queue") { status.textContent = "当前排队中，您前面还有 " + Math.max(0, d.position - 1) + " 人，请稍候…"; }
        else if (name === "delta") {
          if (!started) { started = true; status.textContent = "正在生成答复…"; }
          answerText.textContent += d.text;
        }
        else if (name === "citations") {
          const cites = el("div", "citations");
          cites.appendChild(el("span", "label", "引用法条："));
          for (const c of d.citations || []) {
            const label = c.suffix ? "第" + c.article + "条之" + c.suffix : "第" + c.article + "条";
            cites.appendChild(chip(c.law, c.article, c.suffix, label, c.status === "valid" ? "ok" : "bad"));
          }
          if (!(d.citations || []).length) cites.appendChild(el("span", "muted", "（无）"));
          answerBox.appendChild(cites);
        }
        else if (name === "done") {
          conversationId = d.conversation_id;
          // The verified answer replaces the draft: conclusion first, then
          // the next steps, then the articles.
          answerText.textContent = "";
          answerText.appendChild(el("strong", "conclusion-label", d.guide && d.guide.abstained ? "没有找到直接相关的法律规定" : "结论"));
          answerText.appendChild(el("p", "conclusion", (d.guide && d.guide.conclusion) || d.answer));
          for (const old of turn.querySelectorAll(".hits-card, .triage-card")) old.remove();
          const after = answerBox.nextSibling;
          const steps = stepsCard(d);
          const arts = articlesCard(d);
          turn.insertBefore(steps, after);
          turn.insertBefore(arts, after);
          if (triage) turn.insertBefore(triageCard(triage), after);
          if (d.answer_id) actions(turn, d.answer_id, d.answer_token);
          status.textContent = "";
        }
        else if (name === "error") { turn.appendChild(el("p", "error", d.error)); status.textContent = ""; }
      };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = window.lawbrainSSE.parse(buffer + decoder.decode(value, { stream: true }), onEvent);
      }
    } catch (e) {
      turn.appendChild(el("p", "error", "网络错误，请稍后再试"));
      status.textContent = "";
    } finally {
      button.disabled = false;
      turn.scrollIntoView({ block: "end" });
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    input.value = "";
    ask(q);
  });
})();
