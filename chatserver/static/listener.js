/* chatserver listener console (/listener): sign in with a listener token, set availability,
 * watch the queues, hold several one-to-one chats side by side. Protocol: protocol/SPEC.md.
 * Participant text only ever goes through textContent. Nothing is stored in the browser: the
 * listener token, the resume token and the last seq per room live in this page's memory.
 * Moderation (issue 9): per room, the people in it with "Remove", slow mode and "End room";
 * "Report" in one-to-one chats; moderators also get the "Reports" panel (next_report, moderate). */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const WS_URL = location.origin.replace(/^http/, "ws") + "/";
  const NO_RECONNECT = new Set([1000, 1008, 1009, 4400]);

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      if (k === "text") el.textContent = v;
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === "class") el.className = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid != null) el.append(kid);
    return el;
  }
  const words = (t) => t.charAt(0).toUpperCase() + t.slice(1).replace(/[_-]/g, " ");
  const clock = (ts) => new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const minutes = (s) => (s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s");

  const S = {
    ws: null, token: null, listenerToken: null, lastSeq: {}, refs: 0, me: null,
    handle: "", topics: [], allTopics: [], listen: null, chats: new Map(), paired: new Map(),
    pingTimer: 0, pongTimer: 0, retry: 0, resuming: false, welcome: null, signedOut: false,
    acts: new Map(), reportRefs: new Set(), report: null, unanswered: new Map(),
  };
  const REASONS = { harassment: "Being unkind or harassing", self_harm_encouragement: "Encouraging self-harm", sexual_content: "Sexual content", spam: "Spam", other: "Something else" };

  function status(text) { $("conn").textContent = text; }
  function announce(text) { const r = $("polite"); r.textContent = ""; setTimeout(() => { r.textContent = text; }, 50); }

  // ---- socket ----
  function connect() {
    const ws = new WebSocket(WS_URL, ["chat.v1.json"]);
    S.ws = ws;
    status("Connecting\u2026");
    ws.onmessage = (e) => { let f; try { f = JSON.parse(e.data); } catch { return; } if (f && typeof f.type === "string" && Object.hasOwn(HANDLERS, f.type)) HANDLERS[f.type](f); };
    ws.onclose = (e) => {
      if (S.ws !== ws) return;
      S.ws = null; clearInterval(S.pingTimer); clearTimeout(S.pongTimer);
      if (S.signedOut || NO_RECONNECT.has(e.code)) { status("Disconnected"); return; }
      status("Connection lost. Reconnecting\u2026");
      const delay = Math.min(15000, 500 * 2 ** S.retry) + Math.random() * 500;
      S.retry = Math.min(S.retry + 1, 6);
      setTimeout(connect, delay);
    };
  }
  function send(frame) {
    if (!S.ws || S.ws.readyState !== 1) { status("Not connected. Please wait\u2026"); return null; }
    const ref = String(++S.refs);
    S.ws.send(JSON.stringify({ ...frame, ref }));
    return ref;
  }
  function keepalive() {
    clearInterval(S.pingTimer);
    S.pingTimer = setInterval(() => {
      if (send({ type: "ping" }) == null) return;
      clearTimeout(S.pongTimer);
      S.pongTimer = setTimeout(() => { if (S.ws) S.ws.close(4000, "no pong"); }, 10000);
    }, 25000);
  }

  // ---- frames ----
  const HANDLERS = {
    welcome(f) {
      S.retry = 0; S.welcome = f; S.allTopics = f.topics || [];
      keepalive();
      if (S.token && S.me) { S.resuming = true; send({ type: "resume", token: S.token, last_seq: S.lastSeq }); return; }
      S.token = f.resume_token;
      status("Connected");
      send({ type: "auth", token: S.listenerToken });
    },
    authed(f) {
      S.me = f; S.topics = f.topics || [];
      $("who").textContent = "Signed in as " + f.display_name + " (" + f.role + ")";
      $("token").value = "";
      $("signin").hidden = true;
      for (const id of ["setup", "queues", "chats-section", "signout"]) $(id).hidden = false;
      $("reports").hidden = f.role !== "moderator";
      renderTopicChoices();
      status("Signed in");
      if (S.listen) send(S.listen); else $("capacity").focus();
    },
    resumed(f) {
      S.resuming = false; S.token = f.resume_token;
      for (const room of Object.keys(S.lastSeq)) if (!(room in (f.rooms || {}))) delete S.lastSeq[room];
      status("Connected (resumed)");
      for (const [room, chat] of S.chats) if (!(room in (f.rooms || {}))) endPane(chat, "This chat was closed while you were away.");
      if (S.listen) send(S.listen);
      resendUnanswered();
    },
    ack(f) { S.unanswered.delete(f.ref); },
    listening(f) {
      $("listening").textContent = f.capacity === 0 ? "Paused: you won't get new chats." :
        "Listening on " + f.topics.map(words).join(", ") + ". " + f.active + " of " + f.capacity + " chats" + (f.auto ? ", accepting automatically." : ".");
      $("listen-btn").textContent = "Update availability";
    },
    queue_status(f) { renderQueues(f.queues || []); },
    paired(f) { S.paired.set(f.room, f); },
    joined(f) {
      if (!(f.room in S.lastSeq)) S.lastSeq[f.room] = f.seq;
     
      openPane(f);
    },
    left(f) { const c = S.chats.get(f.room); if (c) { c.el.remove(); S.chats.delete(f.room); } delete S.lastSeq[f.room]; syncEmpty(); },
    message(f) {
      if (f.seq <= (S.lastSeq[f.room] || 0)) return;
      S.lastSeq[f.room] = f.seq;
      const c = S.chats.get(f.room);
      if (!c) return;
      c.typers.delete(f.handle); renderTyping(c);
      renderMessage(c, f);
      if (f.handle !== c.handle) announce(f.handle + " in " + c.title + ": " + f.text);
    },
    typing(f) {
      const c = S.chats.get(f.room);
      if (!c || f.handle === c.handle) return;
      clearTimeout(c.typers.get(f.handle));
      if (f.active) c.typers.set(f.handle, setTimeout(() => { c.typers.delete(f.handle); renderTyping(c); }, 6000));
      else c.typers.delete(f.handle);
      renderTyping(c);
    },
    presence(f) {
      const c = S.chats.get(f.room);
      if (!c || f.handle === c.handle) return;
      if (f.event === "join") c.members.set(f.handle, f.role); else c.members.delete(f.handle);
      renderPeople(c);
      system(c, f.handle + (f.event === "join" ? " joined." : " left."));
    },
    done(f) {
      const a = S.acts.get(f.ref);
      S.acts.delete(f.ref);
      if (!a || !a.text) return; // slow mode: the room_mode line says it
      if (a.c) system(a.c, a.text); else { $("report-status").textContent = a.text; $("report-card").replaceChildren(); $("next-report").focus(); }
      announce(a.text);
    },
    room_mode(f) {
      const c = S.chats.get(f.room);
      if (!c || !c.slow) return;
      if (![...c.slow.options].some((o) => o.value === String(f.slow))) c.slow.append(h("option", { value: String(f.slow), text: f.slow + " s" }));
      c.slow.value = String(f.slow);
      system(c, f.slow ? "Slow mode is on: one message every " + f.slow + " seconds per seeker." : "Slow mode is off.");
    },
    report(f) { renderReport(f); },
    escalation(f) {
      const c = S.chats.get(f.room);
      const text = f.handle + " may be at risk (" + f.reason.replace(/_/g, " ") + ")" + (c ? " in " + c.title : "") + ".";
      const item = h("div", { class: "escalation", role: "alert" }, h("p", { text }),
        c ? h("button", { type: "button", class: "secondary", text: "Go to chat", on: { click: () => { c.input.focus(); } } }) : null,
        h("button", { type: "button", class: "link", text: "Dismiss", on: { click: () => item.remove() } }));
      $("escalations").append(item);
      if (c) {
        c.el.classList.add("escalated");
        c.flag.hidden = false; c.flag.textContent = "At risk: " + f.reason.replace(/_/g, " ");
        const msg = c.log.querySelector('[data-id="' + CSS.escape(f.id) + '"]');
        if (msg) msg.classList.add("flagged");
      }
    },
    chat_ended(f) {
      const c = S.chats.get(f.room);
      delete S.lastSeq[f.room];
      if (c) endPane(c, f.text);
    },
    consent(f) { const c = S.chats.get(f.room); if (c) system(c, f.handle + " is ready to hear difficult content."); },
    notice(f) {
      const c = f.room && S.chats.get(f.room);
      if (c) system(c, f.text); else status(f.text);
    },
    held(f) { S.unanswered.delete(f.ref); const c = S.chats.get(f.room); if (c) system(c, f.text, "warn"); },
    crisis(f) { const c = f.room && S.chats.get(f.room); if (c) system(c, f.text, "warn"); },
    pong() { clearTimeout(S.pongTimer); },
    error(f) {
      if (f.code === "resume_failed") {
        S.resuming = false; S.lastSeq = {}; S.token = S.welcome.resume_token;
        S.unanswered.clear(); // they belonged to the old session: never sent again later
        for (const c of S.chats.values()) endPane(c, "The connection dropped for too long; this chat could not be kept.");
        send({ type: "auth", token: S.listenerToken });
        return;
      }
      if (f.code === "auth_failed" && !S.me) {
        $("signin-error").textContent = f.message;
        S.signedOut = true; S.ws.close(1000); S.token = null;
        return;
      }
      S.acts.delete(f.ref);
      S.unanswered.delete(f.ref);
      if (S.reportRefs.has(f.ref)) { S.reportRefs.delete(f.ref); $("report-status").textContent = f.message; return; }
      const target = [...S.chats.values()].find((c) => c.refs.has(f.ref));
      if (target) system(target, f.message, "warn"); else status(f.message);
    },
  };

  // ---- queues and availability ----
  function renderTopicChoices() {
    const box = $("topics");
    box.replaceChildren(h("legend", { text: "Topics" }), ...S.topics.map((t) => h("div", { class: "check" },
      h("input", { type: "checkbox", id: "topic-" + t, value: t, checked: true }),
      h("label", { for: "topic-" + t, text: words(t) }))));
    $("group-topic").replaceChildren(...S.allTopics.map((t) => h("option", { value: t, text: words(t) })));
  }
  function renderQueues(queues) {
    $("queue-rows").replaceChildren(...queues.map((q) => h("tr", { class: q.at_risk ? "risk" : "" },
      h("th", { scope: "row", text: words(q.topic) }),
      h("td", { text: String(q.waiting) + (q.reconnecting ? " (+" + q.reconnecting + " reconnecting)" : "") }),
      h("td", { text: q.waiting ? minutes(q.longest_wait) : "\u2014" }),
      h("td", {}, q.at_risk ? h("span", { class: "risk-mark", text: "\u26a0 " + q.at_risk + " at risk" }) : "0"),
      h("td", {}, h("button", { type: "button", class: "secondary", disabled: !q.waiting, "aria-label": "Accept next seeker in " + words(q.topic), text: "Accept", on: { click: () => send({ type: "accept", topic: q.topic }) } })))));
  }
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    S.listenerToken = $("token").value.trim();
    if (!S.listenerToken) return;
    $("signin-error").textContent = "";
    S.signedOut = false;
    if (S.ws && S.ws.readyState === 1) send({ type: "auth", token: S.listenerToken }); else { S.token = null; connect(); }
  });
  $("listen-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const topics = [...$("topics").querySelectorAll("input:checked")].map((i) => i.value);
    S.listen = { type: "listen", capacity: Math.max(0, Number($("capacity").value) || 0), topics, auto: $("auto").checked };
    send(S.listen);
  });
  $("group-form").addEventListener("submit", (e) => { e.preventDefault(); send({ type: "join", room: $("group-topic").value }); });
  $("accept-any").addEventListener("click", () => send({ type: "accept" }));
  $("next-report").addEventListener("click", () => { const ref = send({ type: "next_report" }); if (ref) S.reportRefs.add(ref); });
  $("signout").addEventListener("click", () => {
    S.signedOut = true;
    if (S.ws) S.ws.close(1000, "signed out");
    location.replace("/listener");
  });

  // ---- chat panes ----
  function syncEmpty() { $("no-chats").hidden = S.chats.size > 0; }
  function openPane(f) {
    if (S.chats.has(f.room)) return;
    const p = S.paired.get(f.room);
    const isPrivate = !!p;
    const title = isPrivate ? p.peer.handle + " \u00b7 " + words(p.topic) : words(f.room) + " group";
    const id = "chat-" + f.room.replace(/[^a-zA-Z0-9-]/g, "");
    const c = { room: f.room, title, handle: f.handle, typers: new Map(), refs: new Set(), peer: p ? p.peer.handle : null,
      members: new Map((f.members || []).filter((m) => m.handle !== f.handle).map((m) => [m.handle, m.role])) };
    c.log = h("ol", { class: "log" });
    const logBox = h("div", { class: "logbox", role: "log", "aria-label": "Messages with " + title, tabindex: "0" }, c.log);
    c.typing = h("p", { class: "typing", "aria-hidden": "true" });
    c.flag = h("p", { class: "flag", hidden: true });
    c.input = h("textarea", { id: id + "-input", rows: "2", on: { keydown: (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(c); } }, input: () => typed(c) } });
    c.form = h("form", { class: "composer", on: { submit: (e) => { e.preventDefault(); sendText(c); } } },
      h("label", { for: id + "-input", class: "sr", text: "Message to " + title }), c.input,
      h("button", { type: "submit", class: "primary", text: "Send" }));
    c.el = h("article", { class: "chat", id, "aria-labelledby": id + "-title" },
      h("div", { class: "chat-head" },
        h("h3", { id: id + "-title", text: title }),
        p && p.at_risk ? h("span", { class: "risk-mark", text: "\u26a0 at risk" }) : null),
      c.flag, isPrivate ? null : roomTools(c, id), logBox, c.typing, c.form, h("div", { class: "row actions" }, chatActions(c, isPrivate)));
    S.chats.set(f.room, c);
    $("chats").append(c.el);
    syncEmpty();
    system(c, isPrivate ? "You're now with " + p.peer.handle + ". They chose " + words(p.topic) + "." : "You joined as " + f.handle + ".");
    announce("New chat: " + title + (p && p.at_risk ? ". Marked at risk." : ""));
    if (p && p.at_risk) c.el.classList.add("escalated");
  }
  /* Buttons under each chat: leave / end room for a group, hand over / report / end chat for
   * a one-to-one chat. */
  function chatActions(c, isPrivate) {
    if (!isPrivate) {
      return [
        h("button", { type: "button", class: "secondary", text: "Leave room", on: { click: () => send({ type: "leave", room: c.room }) } }),
        h("button", { type: "button", class: "danger", text: "End room", on: { click: () => confirmThen("End " + c.title + " for everyone in it? Everyone is taken out of the room.", "End room", () => act(c, { type: "end_room", room: c.room }, "You ended the room.")) } }),
      ];
    }
    return [
      h("button", { type: "button", class: "secondary", text: "Hand over", on: { click: () => c.refs.add(send({ type: "handover", room: c.room })) } }),
      h("button", { type: "button", class: "secondary", text: "Report", "aria-label": "Report " + c.peer, on: { click: () => openReport(c) } }),
      h("button", { type: "button", class: "danger", text: "End chat", on: { click: () => c.refs.add(send({ type: "end_chat", room: c.room })) } }),
    ];
  }
  // ---- moderation ----
  function act(c, frame, text) {
    const ref = send(frame);
    if (ref == null) return;
    if (c) c.refs.add(ref); else S.reportRefs.add(ref);
    S.acts.set(ref, { c, text });
  }
  /* A group room's tools: slow mode, and the people in it with "Remove" for seekers. */
  function roomTools(c, id) {
    c.slow = h("select", { id: id + "-slow", on: { change: () => act(c, { type: "slow_mode", room: c.room, seconds: Number(c.slow.value) }, null) } },
      [["0", "Off"], ["10", "10 s"], ["30", "30 s"], ["60", "60 s"]].map(([v, t]) => h("option", { value: v, text: t })));
    c.people = h("ul", { class: "people", "aria-labelledby": id + "-people" });
    renderPeople(c);
    return h("div", { class: "tools" },
      h("div", { class: "check" }, h("label", { for: id + "-slow", text: "Slow mode" }), c.slow),
      h("h4", { id: id + "-people", text: "People here" }), c.people);
  }
  function renderPeople(c) {
    if (!c.people) return;
    const people = [...c.members].sort((a, b) => a[0].localeCompare(b[0]));
    c.people.replaceChildren(...(people.length ? people.map(([handle, role]) => h("li", {},
      h("span", { class: "who", text: handle }),
      role !== "seeker" ? h("span", { class: "badge", text: role }) : null,
      role === "seeker" ? h("button", { type: "button", class: "danger small", text: "Remove", "aria-label": "Remove " + handle + " from the room", on: { click: () => confirmThen(
        "Remove " + handle + " from " + c.title + "? They can't come back to this topic's rooms for a while.", "Remove",
        () => act(c, { type: "remove", room: c.room, handle }, "You removed " + handle + ". They can't rejoin this topic's rooms for a while.")) } }) : null))
      : [h("li", { class: "muted", text: "Nobody else is here yet." })]));
  }
  /* One shared confirmation dialog (native <dialog>: modal, Escape cancels, focus returns). */
  function confirmThen(text, yes, fn) {
    const d = $("confirm");
    const back = document.activeElement;
    $("confirm-text").textContent = text;
    $("confirm-yes").textContent = yes;
    d.returnValue = "";
    d.onclose = () => { if (back && back.isConnected) back.focus(); if (d.returnValue === "yes") fn(); };
    d.showModal();
  }
  function openReport(c) {
    const d = $("report-dialog");
    const back = document.activeElement;
    $("report-form").reset();
    $("report-title").textContent = "Report " + c.peer;
    $("report-about").textContent = "The moderators get the last few messages of this chat with your note.";
    d.returnValue = "";
    d.onclose = () => {
      if (back && back.isConnected) back.focus();
      if (d.returnValue !== "send") return;
      const frame = { type: "report", room: c.room, reason: $("report-form").elements.reason.value, handle: c.peer };
      const note = $("report-note").value.trim();
      if (note) frame.note = note;
      act(c, frame, "Report sent. Thank you; a moderator will look at it.");
    };
    d.showModal();
  }
  function renderReport(f) {
    S.report = f;
    const line = (m, reported) => h("li", { class: "msg" + (reported ? " flagged" : "") },
      h("p", { class: "meta" }, h("span", { class: "who", text: m.handle }),
        m.role && m.role !== "seeker" ? h("span", { class: "badge", text: m.role }) : null,
        h("time", { datetime: new Date(m.ts).toISOString(), text: clock(m.ts) }),
        reported ? h("span", { class: "reported", text: "reported" }) : null),
      h("p", { class: "text", text: m.text }));
    const where = f.room.startsWith("p-") ? "a one-to-one chat" : words(f.room.replace(/-\d+$/, "")) + " group (" + f.room + ")";
    const moderate = (action, text, extra) => h("button", { type: "button", class: action === "dismiss" ? "secondary" : "danger", text,
      on: { click: () => act(null, { type: "moderate", report: f.id, action, ...extra }, text + ": done.") } });
    $("report-status").textContent = "";
    $("report-card").replaceChildren(
      h("h3", { id: "report-reason", tabindex: "-1", text: REASONS[f.reason] || f.reason }),
      h("p", { text: "About " + f.handle + " in " + where + ". Deleted at " + clock(f.expires) + " " + new Date(f.expires).toLocaleDateString() + "." }),
      h("ol", { class: "log", "aria-label": f.message ? "The reported message and the messages before it" : "The last messages in the room" },
        (f.context || []).map((m) => line(m, false)), f.message ? line(f.message, true) : null),
      f.note ? h("p", { class: "note" }, h("strong", { text: "Note: " }), f.note) : h("p", { class: "muted", text: "No note." }),
      h("div", { class: "row" },
        moderate("remove", "Remove from all rooms"),
        moderate("suspend", "Suspend 1 hour", { minutes: 60 }),
        moderate("dismiss", "Dismiss")));
    $("report-reason").focus();
  }
  function endPane(c, text) {
    system(c, text || "This chat has ended.");
    c.el.classList.add("ended");
    c.form.hidden = true;
    const close = h("button", { type: "button", class: "secondary", text: "Close", on: { click: () => { c.el.remove(); S.chats.delete(c.room); syncEmpty(); $("accept-any").focus(); } } });
    c.el.querySelector(".actions").replaceChildren(close);
  }
  function logScroll(c) { const box = c.log.parentElement; box.scrollTop = box.scrollHeight; }
  function system(c, text, cls) {
    c.log.append(h("li", { class: "system " + (cls || "") }, h("p", { text })));
    logScroll(c);
  }
  function renderMessage(c, m) {
    const mine = m.handle === c.handle;
    const meta = h("p", { class: "meta" }, h("span", { class: "who", text: mine ? "You" : m.handle }),
      m.role !== "seeker" && !mine ? h("span", { class: "badge", text: m.role }) : null,
      h("time", { datetime: new Date(m.ts).toISOString(), text: clock(m.ts) }));
    const content = m.cw
      ? h("details", { class: "cw" }, h("summary", { text: "Content warning: " + words(m.cw).toLowerCase() + ". Open to read." }), h("p", { class: "text", text: m.text }))
      : h("p", { class: "text", text: m.text });
    c.log.append(h("li", { class: "msg" + (mine ? " mine" : ""), "data-id": m.id, "data-seq": String(m.seq) }, meta, content));
    logScroll(c);
  }
  function renderTyping(c) {
    const names = [...c.typers.keys()];
    c.typing.textContent = names.length ? names.join(", ") + (names.length > 1 ? " are" : " is") + " typing\u2026" : "";
  }
  function newCid() {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // says with no reply when the connection dropped go again once resumed (same cid): the
  // server relays each only if the first copy was lost
  function resendUnanswered() {
    const frames = [...S.unanswered.values()];
    S.unanswered.clear();
    for (const frame of frames) {
      const ref = send({ ...frame, resend: true });
      if (ref == null) continue;
      S.unanswered.set(ref, frame);
      const c = S.chats.get(frame.room);
      if (c) c.refs.add(ref);
    }
  }
  function sendText(c) {
    const text = c.input.value.trim();
    if (!text) return;
    const frame = { type: "say", room: c.room, text, cid: newCid() };
    const ref = send(frame);
    if (ref == null) return;
    c.refs.add(ref);
    S.unanswered.set(ref, frame);
    c.input.value = "";
    if (c.typingSent) { send({ type: "typing", room: c.room, active: false }); c.typingSent = 0; }
  }
  function typed(c) {
    const now = Date.now();
    if (now - (c.typingSent || 0) > 3000) { c.typingSent = now; if (S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify({ type: "typing", room: c.room, active: true })); }
    clearTimeout(c.typingTimer);
    c.typingTimer = setTimeout(() => { if (c.typingSent && S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify({ type: "typing", room: c.room, active: false })); c.typingSent = 0; }, 4000);
  }
})();
