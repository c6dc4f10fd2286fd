// The web chat page: asks this server for its conversation, posts each message to the web channel
// and shows the replies. Text is always inserted as text (never as HTML), so nothing runs.
//
// Who is chatting is decided by the server: the page keeps the conversation token the server gave
// it (localStorage) and shows it on every request. A shop's site that knows the signed-in customer
// opens the page with ?identity=<token signed by the shop's backend> (see the README).
(function () {
  "use strict";
  const TOKEN_KEY = "vietcx-conversation";
  const CURSOR_KEY = "vietcx-cursor";
  const POLL_MS = 3000;
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");

  // the shop's identity token is read once, then removed from the address bar (and history)
  const params = new URLSearchParams(window.location.search);
  const identity = params.get("identity");
  if (identity) {
    params.delete("identity");
    const rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }

  let token = localStorage.getItem(TOKEN_KEY);
  // the id of the last queued message (staff reply) shown: the server hands out what is above it
  let cursor = Number(localStorage.getItem(CURSOR_KEY)) || 0;

  async function openConversation() {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch("session", { method: "POST", headers: headers, body: JSON.stringify(identity ? { identity: identity } : {}) });
    if (!res.ok) throw new Error(String(res.status));
    const fresh = (await res.json()).token;
    if (fresh !== token) {
      cursor = 0;
      localStorage.setItem(CURSOR_KEY, "0");
    }
    token = fresh;
    localStorage.setItem(TOKEN_KEY, token);
  }
  // one request at a time for the conversation; after a failure (server restarting) the next
  // message or poll asks again
  let opening = null;
  function conversation() {
    if (!opening) opening = openConversation().catch(function (err) { opening = null; throw err; });
    return opening;
  }
  conversation().catch(function () {});

  function authorized(extra) {
    return Object.assign({ Authorization: "Bearer " + token }, extra || {});
  }

  function add(kind, text, who) {
    const item = document.createElement("li");
    item.className = "msg msg--" + kind;
    if (who) {
      const label = document.createElement("span");
      label.className = "msg__who";
      label.textContent = who;
      item.appendChild(label);
    }
    item.appendChild(document.createTextNode(text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function addButtons(buttons) {
    const row = document.createElement("li");
    row.className = "buttons";
    buttons.forEach(function (b) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", function () {
        row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        send(b.payload, b.title);
      });
      row.appendChild(button);
    });
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  function show(replies) {
    replies.forEach(function (r) {
      const queued = r.custom && r.custom.outbox_id;
      if (queued) {
        if (queued <= cursor) return; // already on the screen
        cursor = queued;
        localStorage.setItem(CURSOR_KEY, String(cursor));
      }
      const staff = r.custom && r.custom.staff;
      if (r.text) add(staff ? "staff" : "bot", r.text, staff ? "Nhân viên " + (r.custom.staff_name || "") : null);
      if (r.image) add("bot", r.image);
      if (r.buttons && r.buttons.length) addButtons(r.buttons);
    });
  }

  async function post(payload) {
    return fetch("webhook", {
      method: "POST",
      headers: authorized({ "Content-Type": "application/json" }),
      body: JSON.stringify({ message: payload, ack: cursor }),
    });
  }

  async function send(payload, shown) {
    add("user", shown);
    try {
      await conversation();
      let res = await post(payload);
      if (res.status === 401) { // the conversation token expired: a new conversation, then again
        token = null;
        opening = null;
        await conversation();
        res = await post(payload);
      }
      if (res.status === 429) {
        add("error", "Dạ, anh/chị nhắn hơi nhanh ạ. Anh/chị vui lòng đợi một lát rồi gửi lại giúp em nhé.");
        return;
      }
      if (!res.ok) throw new Error(String(res.status));
      show(await res.json());
    } catch (err) {
      add("error", "Xin lỗi, tin nhắn chưa gửi được. Anh/chị vui lòng thử lại sau giây lát ạ.");
    }
  }

  // Staff replies (after a hand-over) and anything else queued for this customer arrive here; the
  // cursor tells the server what is already on the screen.
  async function poll() {
    try {
      await conversation();
      const res = await fetch("updates?after=" + cursor, { headers: authorized() });
      if (res.ok) show(await res.json());
    } catch (err) {
      // offline for a moment: the next poll collects what is waiting
    }
    window.setTimeout(poll, POLL_MS);
  }
  window.setTimeout(poll, POLL_MS);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });
  input.focus();
})();
