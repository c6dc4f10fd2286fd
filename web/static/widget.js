// The chat widget for a shop's own pages, served by the assistant:
//
//   <script src="https://ASSISTANT/webhooks/web/widget.js" data-identity="…" async></script>
//
// It adds a launcher button and a panel holding the assistant's chat page in an iframe
// (/webhooks/web/chat?embed=1), so the chat runs at the assistant's origin: its conversation
// token never touches the shop's page. Both live in a shadow root: the shop's styles do not reach
// them and theirs do not leak out; nothing global is defined.
//
// data-identity (optional): the identity token the shop's backend signed for the signed-in
// customer. It is handed to the frame by postMessage, addressed to the assistant's origin only,
// never in a URL. The launcher appears once the frame says it is ready, which it does only on a
// site listed in the assistant's VIETCX_WEB_ORIGINS (elsewhere the browser refuses to frame it).
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src || document.querySelector("[data-vietcx-widget]")) return;
  const chatUrl = new URL("chat?embed=1", script.src);
  const assistant = chatUrl.origin;
  const identity = script.getAttribute("data-identity") || null;
  const OPEN_KEY = "vietcx-widget-open"; // sessionStorage of the shop's page: reopen after navigating

  const STYLE = `
    :host { all: initial; }
    [hidden] { display: none !important; }
    .launcher {
      position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
      display: flex; align-items: center; gap: 8px; height: 56px; padding: 0 20px 0 16px;
      border: 0; border-radius: 28px; background: #0a6cff; color: #fff; cursor: pointer;
      font: 600 15px/1 system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif;
      box-shadow: 0 6px 20px rgba(10, 40, 90, 0.3);
    }
    .launcher:hover { background: #0059d6; }
    .launcher:focus-visible { outline: 3px solid #9cc3ff; outline-offset: 2px; }
    .launcher svg { width: 26px; height: 26px; fill: currentColor; flex: none; }
    .badge {
      position: absolute; top: 2px; right: 6px; width: 14px; height: 14px;
      border-radius: 50%; background: #ff3b30; border: 2px solid #fff;
    }
    .panel {
      position: fixed; right: 20px; bottom: 88px; z-index: 2147483000;
      width: 380px; height: min(600px, calc(100vh - 108px));
      border-radius: 16px; overflow: hidden; background: #fff;
      box-shadow: 0 12px 40px rgba(10, 40, 90, 0.3);
    }
    .panel iframe { display: block; width: 100%; height: 100%; border: 0; }
    @media (max-width: 480px) {
      .launcher { right: 16px; bottom: 16px; }
      .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; }
      .panel:not([hidden]) ~ .launcher { display: none; }
    }
  `;

  const host = document.createElement("div");
  host.setAttribute("data-vietcx-widget", "");
  const root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet(); // not an inline <style>: works under a shop's strict CSP too
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement("style");
    style.textContent = STYLE;
    root.appendChild(style);
  }

  const panel = document.createElement("div");
  panel.className = "panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "Trò chuyện với trợ lý");
  const frame = document.createElement("iframe");
  frame.title = "Trò chuyện với trợ lý";
  frame.src = chatUrl.href;
  panel.appendChild(frame);

  const launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  launcher.hidden = true;
  launcher.setAttribute("aria-expanded", "false");
  const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4.5 21l3.9-2c1.1.3 2.3.5 3.6.5 5.5 0 10-3.8 10-8.5S17.5 3 12 3zm-4 9.8a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6zm4 0a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6zm4 0a1.3 1.3 0 110-2.6 1.3 1.3 0 010 2.6z");
  icon.appendChild(path);
  const label = document.createElement("span");
  label.textContent = "Chat với chúng tôi";
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.hidden = true;
  badge.setAttribute("aria-hidden", "true");
  launcher.append(icon, label, badge);

  root.append(panel, launcher);

  function toFrame(message) {
    if (frame.contentWindow) frame.contentWindow.postMessage(message, assistant);
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    label.textContent = open ? "Thu nhỏ" : "Chat với chúng tôi";
    if (open) badge.hidden = true;
    try {
      if (open) sessionStorage.setItem(OPEN_KEY, "1");
      else sessionStorage.removeItem(OPEN_KEY);
    } catch (err) {
      // storage refused: the panel simply starts closed on the next page
    }
    toFrame({ type: open ? "vietcx:open" : "vietcx:closed" });
    if (!open) launcher.focus();
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== assistant) return;
    const data = event.data || {};
    if (data.type === "vietcx:ready") {
      toFrame({ type: "vietcx:init", identity: identity });
      launcher.hidden = false;
      let reopen = false;
      try {
        reopen = sessionStorage.getItem(OPEN_KEY) === "1";
      } catch (err) {
        // storage refused
      }
      if (reopen || !panel.hidden) setOpen(true);
    } else if (data.type === "vietcx:close") {
      setOpen(false);
    } else if (data.type === "vietcx:unread" && panel.hidden) {
      badge.hidden = false;
    }
  });

  (document.body || document.documentElement).appendChild(host);
})();
