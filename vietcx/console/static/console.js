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

// The live queue: server-sent events say when the queue changed (new escalation, new customer
// message, taken, resolved); the table is then fetched again, rendered and escaped by the server.
// Where the stream fails (a proxy that buffers it), the page polls the same state every 5 seconds.
// The tab's title counts the waiting requests; a short tone (optional, remembered) marks news.
(() => {
  const box = document.getElementById("queue");
  if (!box) return;
  const status = document.getElementById("live-status");
  const sound = document.getElementById("sound");
  const baseTitle = document.title.replace(/^\(\d+\) /, "");
  let last = null;
  let failures = 0;
  let polling = null;

  sound.checked = localStorage.getItem("vietcx-sound") === "1";
  sound.addEventListener("change", () => localStorage.setItem("vietcx-sound", sound.checked ? "1" : "0"));

  const beep = () => {
    if (!sound.checked) return;
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.15);
    } catch (error) {
      // no audio in this browser: the title and the highlighted rows still tell
    }
  };

  const apply = async (state) => {
    const waiting = state.counts.open;
    document.title = waiting ? `(${waiting}) ${baseTitle}` : baseTitle;
    for (const element of document.querySelectorAll("#counts [data-status]")) {
      element.querySelector("strong").textContent = state.counts[element.dataset.status];
    }
    if (last && state.version === last.version) return;
    const news = last && (state.newest > last.newest
      || Object.entries(state.wrote).some(([id, at]) => at > (last.wrote[id] || 0))
      || state.reminders.some((id) => !last.reminders.includes(id)));
    const fresh = last ? Object.keys(state.wrote).filter((id) => state.wrote[id] > (last.wrote[id] || 0)) : [];
    const before = last;
    last = state;
    if (!before) return; // the page itself is this state
    const answer = await fetch(box.dataset.rows, { credentials: "same-origin" });
    if (answer.redirected || answer.status === 401) { window.location.reload(); return; }
    if (!answer.ok) return;
    box.innerHTML = await answer.text();
    for (const row of box.querySelectorAll("tr[data-id]")) {
      const id = Number(row.dataset.id);
      if (id > before.newest || fresh.includes(row.dataset.id)) row.classList.add("fresh");
    }
    if (news) beep();
  };

  const poll = () => {
    if (polling) return;
    status.textContent = "Hàng đợi tự cập nhật mỗi 5 giây.";
    const once = async () => {
      try {
        const answer = await fetch(box.dataset.state, { credentials: "same-origin" });
        if (answer.redirected || answer.status === 401) { window.location.reload(); return; }
        if (answer.ok) await apply(await answer.json());
      } catch (error) {
        // the console was unreachable for a moment: the next round tries again
      }
    };
    once();
    polling = setInterval(once, 5000);
  };

  if (!window.EventSource) { poll(); return; }
  const stream = new EventSource(box.dataset.events);
  stream.addEventListener("queue", (event) => { failures = 0; apply(JSON.parse(event.data)); });
  stream.addEventListener("error", () => {
    failures += 1; // each stream ends after a while and reconnects; failing again and again is not that
    if (failures >= 3) { stream.close(); poll(); }
  });
})();
