// The web chat, served by the assistant: the stand-alone page (/webhooks/web/chat) and, the same
// page in an iframe, the panel of the widget a shop adds to its own pages (?embed=1, widget.js).
// Text is always inserted as text (never as HTML), so nothing a customer or staff member writes runs.
//
// Who is chatting is decided by the server: the page keeps the conversation token the server gave
// it (localStorage) and shows it in a header on every request, never in a URL. A shop's site that
// knows the signed-in customer gives the page its identity token signed by the shop's backend: in
// the address (?identity=…, removed at once) or, embedded, from the widget by postMessage.
//
// What the page shows is kept in localStorage too (per conversation), so a reload or another tab
// shows the same conversation. Staff replies are pushed by the server (a stream read with fetch,
// so the token stays in a header); the page falls back to polling only if the stream keeps failing.
(function () {
  "use strict";
  const TOKEN_KEY = "vietcx-conversation";
  const CURSOR_KEY = "vietcx-cursor";
  const TRANSCRIPT_KEY = "vietcx-transcript";
  const MAX_LINES = 200;
  const POLL_MS = 3000;
  const STREAM_RETRY_MS = 2000;
  const STREAM_FAILURES_BEFORE_POLLING = 3;
  const POLLING_BEFORE_STREAM_AGAIN_MS = 60000;
  const SHORT_STREAM_MS = 5000; // a stream that ends sooner than this did not really work
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const typingLine = document.getElementById("typing");
  const closeButton = document.getElementById("close");

  const params = new URLSearchParams(window.location.search);
  const embedded = params.get("embed") === "1" && window.parent !== window;
  // the shop's identity token is read once, then removed from the address bar (and history)
  let identity = params.get("identity");
  if (identity) {
    params.delete("identity");
    const rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }
  if (embedded) identity = null; // embedded, only the widget's message counts

  let token = localStorage.getItem(TOKEN_KEY);

  // the widget on the shop's page (widget.js) talks to this frame by postMessage: the frame answers
  // only its parent, and only at a listed origin (the server also refuses to be framed elsewhere)
  const origins = (document.documentElement.dataset.origins || "").split(" ").filter(Boolean).concat([window.location.origin]);
  let parentOrigin = null;
  let panelOpen = false;

  // ---- what the page shows, kept per conversation -------------------------------------------

  function transcript() {
    try {
      const kept = JSON.parse(localStorage.getItem(TRANSCRIPT_KEY) || "null");
      if (kept && Array.isArray(kept.lines)) return kept;
    } catch (err) {
      // unreadable: start afresh
    }
    return { conversation: null, lines: [] };
  }

  function keep(kept) {
    kept.lines = kept.lines.slice(-MAX_LINES);
    try {
      localStorage.setItem(TRANSCRIPT_KEY, JSON.stringify(kept));
    } catch (err) {
      // storage full or refused: the screen still shows it
    }
  }

  // the id of the last queued message (staff reply) shown: the server hands out what is above it;
  // read afresh each time, as another tab may have moved it
  function cursor() {
    return Number(localStorage.getItem(CURSOR_KEY)) || 0;
  }

  // a new line: kept, and added to the screen (what is there stays: the same elements); the
  // choices offered earlier no longer hold
  function append(line) {
    const kept = transcript();
    kept.lines.push(line);
    keep(kept);
    log.querySelectorAll(".buttons button").forEach(function (button) { button.disabled = true; });
    log.appendChild(node(line, kept.lines.length - 1, true));
    log.scrollTop = log.scrollHeight;
  }

  function element(kind, text, who) {
    const item = document.createElement("li");
    item.className = "msg msg--" + kind;
    if (who) {
      const label = document.createElement("span");
      label.className = "msg__who";
      label.textContent = who;
      item.appendChild(label);
    }
    item.appendChild(document.createTextNode(text));
    return item;
  }

  function buttonRow(line, index, last) {
    const row = document.createElement("li");
    row.className = "buttons";
    line.buttons.forEach(function (b) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.disabled = Boolean(line.used) || !last; // only the latest answer's choices still hold
      button.addEventListener("click", function () {
        row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        const kept = transcript();
        if (kept.lines[index]) kept.lines[index].used = true;
        keep(kept);
        send(b.payload, b.title);
      });
      row.appendChild(button);
    });
    return row;
  }

  function node(line, index, last) {
    return line.kind === "buttons" ? buttonRow(line, index, last) : element(line.kind, line.text, line.who);
  }

  // the whole conversation again: on opening, and when another tab has written to it
  function render() {
    const lines = transcript().lines;
    log.replaceChildren();
    lines.forEach(function (line, index) { log.appendChild(node(line, index, index === lines.length - 1)); });
    log.scrollTop = log.scrollHeight;
  }

  // another tab of the same conversation wrote something: show it here too
  window.addEventListener("storage", function (event) {
    if (event.key === TRANSCRIPT_KEY) render();
    if (event.key === TOKEN_KEY && event.newValue !== token) {
      token = event.newValue;
      restartStream();
    }
  });

  let waiting = 0;
  function typing(change) {
    waiting += change;
    typingLine.hidden = waiting <= 0;
    log.scrollTop = log.scrollHeight;
  }

  // replies of the assistant and queued messages; returns whether a queued one was shown
  function show(replies) {
    let queuedShown = false;
    let added = false;
    replies.forEach(function (r) {
      const queued = r.custom && r.custom.outbox_id;
      if (queued) {
        if (queued <= cursor()) return; // already on the screen
        localStorage.setItem(CURSOR_KEY, String(queued));
        queuedShown = true;
      }
      const staff = r.custom && r.custom.staff;
      if (r.text) append({ kind: staff ? "staff" : "bot", text: r.text, who: staff ? "Nhân viên " + (r.custom.staff_name || "") : null });
      if (r.image) append({ kind: "bot", text: r.image });
      if (r.buttons && r.buttons.length) append({ kind: "buttons", buttons: r.buttons.map(function (b) { return { title: b.title, payload: b.payload }; }) });
      added = true;
    });
    if (added && embedded && !panelOpen) toParent({ type: "vietcx:unread" });
    return queuedShown;
  }

  function problem(text) {
    log.appendChild(element("error", text));
    log.scrollTop = log.scrollHeight;
  }

  // ---- the conversation ------------------------------------------------------------------------

  async function openConversation() {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch("session", { method: "POST", headers: headers, body: JSON.stringify(identity ? { identity: identity } : {}) });
    if (!res.ok) throw new Error(String(res.status));
    const answer = await res.json();
    if (transcript().conversation !== answer.conversation) {
      // another conversation (first visit, signed in or out): nothing of the old one is shown
      localStorage.setItem(CURSOR_KEY, "0");
      keep({ conversation: answer.conversation, lines: [] });
    }
    token = answer.token;
    localStorage.setItem(TOKEN_KEY, token);
    render();
  }
  // one request at a time for the conversation; after a failure (server restarting) the next
  // message asks again
  let opening = null;
  function conversation() {
    if (!opening) opening = openConversation().catch(function (err) { opening = null; throw err; });
    return opening;
  }
  function reopen() {
    token = null;
    opening = null;
    return conversation();
  }

  function authorized(extra) {
    return Object.assign({ Authorization: "Bearer " + token }, extra || {});
  }

  async function post(payload) {
    return fetch("webhook", {
      method: "POST",
      headers: authorized({ "Content-Type": "application/json" }),
      body: JSON.stringify({ message: payload, ack: cursor() }),
    });
  }

  async function send(payload, shown) {
    try {
      await conversation();
    } catch (err) {
      problem("Xin lỗi, tin nhắn chưa gửi được. Anh/chị vui lòng thử lại sau giây lát ạ.");
      return;
    }
    append({ kind: "user", text: shown });
    typing(1);
    try {
      let res = await post(payload);
      if (res.status === 401) { // the conversation token expired: a new conversation, then again
        await reopen();
        res = await post(payload);
      }
      if (res.status === 429) {
        problem("Dạ, anh/chị nhắn hơi nhanh ạ. Anh/chị vui lòng đợi một lát rồi gửi lại giúp em nhé.");
        return;
      }
      if (!res.ok) throw new Error(String(res.status));
      show(await res.json());
    } catch (err) {
      problem("Xin lỗi, tin nhắn chưa gửi được. Anh/chị vui lòng thử lại sau giây lát ạ.");
    } finally {
      typing(-1);
    }
  }

  // the assistant's greeting, once, for a conversation with nothing on the screen yet (the
  // server greets only a conversation that has not begun, so two tabs do not greet twice)
  let greeted = false;
  async function greet() {
    if (greeted || transcript().lines.length) return;
    greeted = true;
    typing(1);
    try {
      const res = await fetch("greeting", { method: "POST", headers: authorized() });
      if (res.ok) show(await res.json());
    } catch (err) {
      // no greeting this time: the customer can still write
    } finally {
      typing(-1);
    }
  }

  // ---- staff replies: pushed, acknowledged with the cursor -------------------------------------

  // tells the server what is on the screen now ("delivered"); it answers with anything else waiting
  async function acknowledge() {
    try {
      const res = await fetch("updates?after=" + cursor(), { headers: authorized() });
      if (res.ok) show(await res.json());
    } catch (err) {
      // the next stream, poll or message carries the cursor again
    }
  }

  let stream = null; // the AbortController of the open stream
  let failures = 0;
  let polling = false;

  function restartStream() {
    if (stream) stream.abort();
    stream = null;
    if (token && !polling) listen();
  }

  // reads server-sent events ("id:", "data:" lines, a blank line between events, ":" comments)
  async function listen() {
    const controller = new AbortController();
    stream = controller;
    const started = Date.now();
    try {
      let res = await fetch("stream?after=" + cursor(), { headers: authorized({ Accept: "text/event-stream" }), signal: controller.signal, cache: "no-store" });
      if (res.status === 401) {
        await reopen();
        res = await fetch("stream?after=" + cursor(), { headers: authorized({ Accept: "text/event-stream" }), signal: controller.signal, cache: "no-store" });
      }
      if (!res.ok || !res.body) throw new Error(String(res.status));
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
        const messages = [];
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const data = buffer.slice(0, end).split("\n")
            .filter(function (line) { return line.startsWith("data:"); })
            .map(function (line) { return line.slice(5).trim(); })
            .join("\n");
          buffer = buffer.slice(end + 2);
          if (data) messages.push(JSON.parse(data));
        }
        if (messages.length && show(messages)) acknowledge();
      }
      if (Date.now() - started < SHORT_STREAM_MS) throw new Error("stream ended at once");
      failures = 0;
    } catch (err) {
      if (controller.signal.aborted) return;
      failures += 1;
    }
    if (stream !== controller) return;
    stream = null;
    if (failures >= STREAM_FAILURES_BEFORE_POLLING) {
      poll(Date.now() + POLLING_BEFORE_STREAM_AGAIN_MS);
    } else {
      // the server ends a stream after a few minutes: open the next at once; after a failure, wait
      window.setTimeout(listen, failures ? STREAM_RETRY_MS * failures : 0);
    }
  }

  // the fallback when the stream keeps failing (a proxy that buffers it): poll for a minute, then
  // try the stream again
  async function poll(until) {
    polling = true;
    await acknowledge();
    if (Date.now() < until) {
      window.setTimeout(function () { poll(until); }, POLL_MS);
      return;
    }
    polling = false;
    failures = 0;
    listen();
  }

  // ---- stand-alone or embedded -----------------------------------------------------------------

  let started = null;
  function start() {
    if (!started) {
      // the stream runs on its own: starting is done once the conversation is open
      started = conversation().then(function () { listen(); }, function (err) { started = null; throw err; });
    }
    return started;
  }

  async function begin() {
    try {
      await start();
    } catch (err) {
      return; // the server is not reachable now: the first message tries again
    }
    greet();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });

  function toParent(message) {
    if (parentOrigin) {
      window.parent.postMessage(message, parentOrigin);
      return;
    }
    const ancestors = window.location.ancestorOrigins;
    const candidates = ancestors && ancestors.length ? origins.filter(function (o) { return o === ancestors[0]; }) : origins;
    candidates.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  render();
  if (!embedded) {
    begin();
    input.focus();
    return;
  }

  document.body.classList.add("embedded");
  closeButton.hidden = false;
  closeButton.addEventListener("click", function () { toParent({ type: "vietcx:close" }); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") toParent({ type: "vietcx:close" });
  });
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || origins.indexOf(event.origin) < 0) return;
    const data = event.data || {};
    parentOrigin = event.origin;
    if (data.type === "vietcx:init") {
      if (typeof data.identity === "string" && data.identity) identity = data.identity;
      // a returning visitor or a signed-in customer: take up the conversation now (staff replies
      // arrive while the panel is closed; an identity token is valid only minutes)
      if (token || identity) start().catch(function () {});
    } else if (data.type === "vietcx:open") {
      panelOpen = true;
      begin();
      input.focus();
    } else if (data.type === "vietcx:closed") {
      panelOpen = false;
    }
  });
  toParent({ type: "vietcx:ready" });
})();
