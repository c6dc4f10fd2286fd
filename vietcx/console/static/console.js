// Refreshes the transcript every few seconds, so new customer messages show without reloading.
// The server renders the part (escaped by Jinja) and says its version: the list is replaced only
// when something changed. A session that ended sends the page to the sign-in page.
(() => {
  const box = document.getElementById("transcript");
  if (!box || !box.dataset.source) return;
  box.scrollTop = box.scrollHeight;
  setInterval(async () => {
    try {
      const answer = await fetch(box.dataset.source, { credentials: "same-origin" });
      if (answer.redirected || answer.status === 401) { window.location.reload(); return; }
      const version = answer.headers.get("X-Transcript-Version");
      if (!answer.ok || !version || version === box.dataset.version) return;
      const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
      box.innerHTML = await answer.text();
      box.dataset.version = version;
      if (atBottom) box.scrollTop = box.scrollHeight;
    } catch (error) {
      // the console was unreachable for a moment: the next round tries again
    }
  }, 5000);
})();
