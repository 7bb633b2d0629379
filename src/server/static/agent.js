// 热线坐席台: show the suggested answer while it is drafted, then open the
// call's page. Without script the form posts to /agent/ask and waits.
// textContent only: model output is never parsed as HTML.
"use strict";

(function () {
  const form = document.getElementById("agent-form");
  if (!form || !window.fetch || !window.ReadableStream || !window.lawbrainSSE) return;
  const draft = document.getElementById("agent-draft");
  const status = document.getElementById("agent-status");
  const button = document.getElementById("agent-ask");

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    draft.hidden = false;
    draft.textContent = "";
    status.textContent = "正在检索法条…";
    const onEvent = (name, d) => {
      if (name === "queue") status.textContent = "排队中，前面还有 " + Math.max(0, d.position - 1) + " 个请求…";
      else if (name === "delta") { status.textContent = "正在起草建议答复…"; draft.textContent += d.text; }
      else if (name === "done") { draft.textContent = d.answer; status.textContent = "已完成，正在打开通话记录…"; }
      else if (name === "call") window.location.assign(d.url);
      else if (name === "error") status.textContent = d.error;
    };
    await window.lawbrainSSE.stream("/agent/ask/stream", { body: new URLSearchParams(new FormData(form)) },
      onEvent, (msg) => { status.textContent = msg; });
    button.disabled = false;
  });
})();
