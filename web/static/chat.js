// The web chat page: posts each message to this server's web channel and shows the replies.
// Text is always inserted as text (never as HTML), so nothing a customer or the bot writes runs.
(function () {
  "use strict";
  const WEBHOOK = "webhook";
  const params = new URLSearchParams(window.location.search);
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");

  function senderId() {
    let id = params.get("id") || localStorage.getItem("vietcx-sender");
    if (!id) {
      id = "web-" + (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
    }
    localStorage.setItem("vietcx-sender", id);
    return id;
  }
  const sender = senderId();
  // A shop's site that knows the logged-in customer passes ?name=...; the assistant greets them by it.
  const customer = { id: sender };
  if (params.get("name")) customer.name = params.get("name");

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
      const staff = r.custom && r.custom.staff;
      if (r.text) add(staff ? "staff" : "bot", r.text, staff ? "Nhân viên " + (r.custom.staff_name || "") : null);
      if (r.image) add("bot", r.image);
      if (r.buttons && r.buttons.length) addButtons(r.buttons);
    });
  }

  async function send(payload, shown) {
    add("user", shown);
    try {
      const res = await fetch(WEBHOOK, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: sender, message: payload, metadata: { customer: customer } }),
      });
      if (!res.ok) throw new Error(String(res.status));
      show(await res.json());
    } catch (err) {
      add("error", "Xin lỗi, tin nhắn chưa gửi được. Anh/chị vui lòng thử lại sau giây lát ạ.");
    }
  }

  // Staff replies (after a hand-over) and anything else queued for this customer arrive here.
  const POLL_MS = 3000;
  async function poll() {
    try {
      const res = await fetch("updates?sender=" + encodeURIComponent(sender));
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
