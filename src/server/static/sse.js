// Server-sent events over fetch: the web hall and the agent console POST a
// question and read the answer's events from the response body.
"use strict";

window.lawbrainSSE = {
  // Hand each complete `event:`/`data:` block in `buffer` to onEvent(name,
  // data) and return what is left (an incomplete block).
  parse: function (buffer, onEvent) {
    let idx;
    while ((idx = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, idx);
      buffer = buffer.slice(idx + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) {
        try { onEvent(name, JSON.parse(data.join("\n"))); } catch (e) { /* keep-alive or bad line */ }
      }
    }
    return buffer;
  },

  // POST `body` to `url` asking for events; onEvent for each; onFail(message)
  // when the request is refused or the network fails.
  stream: async function (url, init, onEvent, onFail) {
    let resp;
    try {
      resp = await fetch(url, Object.assign({ method: "POST" }, init, {
        headers: Object.assign({ "Accept": "text/event-stream" }, init.headers || {}),
      }));
    } catch (e) {
      onFail("网络错误，请稍后再试", null);
      return;
    }
    if (!resp.ok) {
      const j = await resp.json().catch(() => ({}));
      onFail(j.error || ("请求失败（" + resp.status + "）"), j);
      return;
    }
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = this.parse(buffer + decoder.decode(value, { stream: true }), onEvent);
      }
    } catch (e) {
      onFail("网络错误，请稍后再试", null);
    }
  },
};
