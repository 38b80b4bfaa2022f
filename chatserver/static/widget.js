/* chatserver seeker widget: one tag, no framework, no build step.
 *   <script src="https://HOST/widget.js" data-topic="anxiety" async></script>
 * Options (data-*): server (ws/http URL of the chat server; default: this script's origin),
 * topic (preselected topic), exit-url (where "Quick exit" goes; default HOST/exit),
 * label (launcher text). Protocol: protocol/SPEC.md (chat.v1, JSON).
 * Privacy: the only thing stored is {token, last_seq} in sessionStorage (key below), for
 * resume after a dropped connection. No cookies, no localStorage, no third-party requests.
 * Text is text: participant text only ever goes through textContent. */
(() => {
  "use strict";
  if (window.__chatserverWidget) return;
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const opts = (script && script.dataset) || {};
  const base = new URL(script && script.src ? script.src : location.href);
  const server = new URL(opts.server || base.origin);
  const httpOrigin = server.origin.replace(/^ws/, "http");
  const wsUrl = httpOrigin.replace(/^http/, "ws") + "/";
  const exitUrl = opts.exitUrl || httpOrigin + "/exit";
  const KEY = "chatserver.widget";
  const PING_MS = 25000;
  const PONG_WAIT_MS = 10000;
  const NO_RECONNECT = new Set([1000, 1008, 1009, 4400]);

  // ---- tiny DOM helper: attributes and text only, never HTML ----
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
  const words = (topic) => topic.charAt(0).toUpperCase() + topic.slice(1).replace(/[_-]/g, " ");
  const clock = (ts) => new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

  // ---- stored state: the resume token and the last seq per room, nothing else ----
  const store = {
    load() {
      try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch { return null; }
    },
    save() {
      if (!S.token) return;
      try { sessionStorage.setItem(KEY, JSON.stringify({ token: S.token, last_seq: S.lastSeq })); } catch { /* private mode */ }
    },
    wipe() { try { sessionStorage.removeItem(KEY); } catch { /* nothing to do */ } },
  };

  const saved = store.load();
  const S = {
    ws: null, token: saved ? saved.token : null, lastSeq: saved ? saved.last_seq || {} : {},
    topics: [], handle: "", topic: opts.topic || "", room: null, kind: null, maxText: 4000,
    refs: 0, pending: new Map(), pingTimer: 0, pongTimer: 0, retry: 0, retryTimer: 0,
    typingSent: 0, typingTimer: 0, typers: new Map(), escAt: 0, open: false, welcomed: false,
    resuming: false, unread: 0, wantResume: !!saved, peer: null, muted: new Set(), acts: new Map(),
  };

  // ---- shadow DOM ----
  const host = h("div", { id: "chatserver-widget" });
  const root = host.attachShadow({ mode: "open" });
  const css = h("link", { rel: "stylesheet", href: httpOrigin + "/widget.css" });
  const wrap = h("div", { class: "cs", hidden: true });
  const reveal = () => { wrap.hidden = false; };
  css.addEventListener("load", reveal);
  css.addEventListener("error", reveal);
  root.append(css, wrap);

  const unread = h("span", { class: "unread", hidden: true });
  const launcher = h("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "cs-panel" }, opts.label || "Talk to someone", unread);
  const exitBtn = h("button", { type: "button", class: "exit", text: "Quick exit", title: "Leave now. Pressing Escape twice does the same." });
  const closeBtn = h("button", { type: "button", class: "close", "aria-label": "Close the chat window", text: "\u00d7" });
  const title = h("h2", { id: "cs-title", text: "Talk to someone" });
  const status = h("p", { class: "status", role: "status" });
  const body = h("div", { class: "body" });
  const panel = h("section", { id: "cs-panel", class: "panel", "aria-labelledby": "cs-title", hidden: true },
    h("header", {}, title, exitBtn, closeBtn), status, body);
  const alerts = h("div", { class: "sr", "aria-live": "assertive" });
  const polite = h("div", { class: "sr", "aria-live": "polite" });
  wrap.append(panel, launcher, alerts, polite);

  function say(text, urgent) {
    const region = urgent ? alerts : polite;
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 50);
  }
  function setStatus(text, level) {
    status.textContent = text || "";
    status.className = "status" + (level ? " " + level : "");
  }

  // ---- views ----
  function show(...nodes) {
    closeMenu(); closeSheet();
    body.replaceChildren(...nodes.filter((n) => n != null));
    const first = body.querySelector("h3, button, textarea, [tabindex]");
    if (first && S.open) {
      if (first.matches("h3")) first.setAttribute("tabindex", "-1");
      first.focus();
    }
  }

  function viewConnecting() {
    show(h("p", { class: "muted", text: "Connecting\u2026" }));
  }

  function viewTopics(note) {
    const list = h("ul", { class: "topics" }, S.topics.map((t) =>
      h("li", {}, h("button", { type: "button", class: "choice", text: words(t), on: { click: () => { S.topic = t; viewChoice(); } } }))));
    show(h("h3", { text: "What would you like to talk about?" }),
      note ? h("p", { class: "note", text: note }) : null,
      h("p", { class: "muted", text: "No account and no real name needed. You can leave at any moment." }),
      list);
  }

  function viewChoice() {
    show(h("h3", { text: words(S.topic) }),
      h("p", { class: "muted", text: "How would you like to talk?" }),
      h("button", { type: "button", class: "choice", on: { click: requestSupport } },
        h("strong", { text: "One-to-one with a listener" }), h("span", { text: "A trained volunteer, just you and them." })),
      h("button", { type: "button", class: "choice", on: { click: joinGroup } },
        h("strong", { text: "The " + words(S.topic).toLowerCase() + " group" }), h("span", { text: "A small room of people who understand." })),
      h("button", { type: "button", class: "link", text: "Choose another topic", on: { click: () => viewTopics() } }));
  }

  let queueInfo = null;
  function viewWaiting(note) {
    queueInfo = h("p", { class: "queue", "aria-live": "polite", text: "Finding a listener for you\u2026" });
    show(h("h3", { text: "Waiting for a listener" }),
      note ? h("p", { class: "note", text: note }) : null,
      queueInfo,
      h("p", { class: "muted", text: "When a listener is free, your chat opens here. You can close this window and come back to it. If you are in danger right now, please call your local emergency number." }),
      h("button", { type: "button", class: "secondary", text: "Stop waiting", on: { click: () => send({ type: "cancel_support" }) } }));
  }

  // chat view parts, built once per room
  let log, typingLine, composer, input, heldBox, crisisBox, leaveBtn;
  function viewChat(members, count) {
    log = h("ol", { class: "log" });
    const logBox = h("div", { class: "logbox", role: "log", "aria-live": "polite", "aria-label": "Messages", tabindex: "0" }, log);
    typingLine = h("p", { class: "typing", "aria-hidden": "true" });
    crisisBox = h("div", { class: "crisis-slot", role: "alert", "aria-live": "assertive" });
    heldBox = h("div", { class: "held-slot" });
    input = h("textarea", { id: "cs-input", rows: "2", maxlength: String(S.maxText), placeholder: "Write a message", on: { input: typed, keydown: composeKey } });
    composer = h("form", { class: "composer", on: { submit: (e) => { e.preventDefault(); sendText(); } } },
      h("label", { for: "cs-input", class: "sr", text: "Your message" }), input,
      h("button", { type: "submit", class: "send", text: "Send" }));
    const private1 = S.kind === "private";
    leaveBtn = h("button", { type: "button", class: "secondary small", text: private1 ? "End chat" : "Leave group", on: { click: leaveChat } });
    const heading = private1
      ? "You're talking with " + (S.peer ? S.peer.handle : "a listener")
      : words(S.topic || S.room) + " group";
    show(h("div", { class: "chat-head" }, h("h3", { text: heading }), leaveBtn),
      h("p", { class: "muted small", text: "You are " + S.handle + ". Please don't share your name, address or phone number." }),
      crisisBox, logBox, typingLine, heldBox, composer);
    if (members) system(private1 ? "You're connected. Say hello whenever you're ready." :
      ((count = count || members.length) > 1 ? count - 1 + " other" + (count > 2 ? "s" : "") + " here." : "You're the first one here. Others may join soon."));
    if (S.carryNote) { system(S.carryNote, "back"); S.carryNote = null; }
    input.focus();
  }

  const ENDED = { removed: "You've been removed from the room", room_ended: "The room has closed", blocked: "You've left the chat" };
  function viewEnded(text, reason) {
    stopChat();
    show(h("h3", { text: ENDED[reason] || "The chat has ended" }),
      h("p", { text: text || "Thank you for reaching out. You can come back any time." }),
      h("button", { type: "button", class: "choice", text: "Talk about something else", on: { click: () => viewTopics() } }));
  }

  function stopChat() {
    S.room = null; S.kind = null; S.peer = null; S.typers.clear();
    log = input = null;
  }

  // ---- log rendering ----
  function system(text, cls) {
    if (!log) return;
    log.append(h("li", { class: "system " + (cls || "") }, h("p", { text })));
    log.parentElement.scrollTop = log.parentElement.scrollHeight;
  }

  function renderMessage(m) {
    const mine = m.handle === S.handle;
    const who = h("span", { class: "who", text: mine ? "You" : m.handle });
    const meta = h("p", { class: "meta" }, who,
      m.role === "listener" && !mine ? h("span", { class: "badge", text: "listener" }) : null,
      h("time", { datetime: new Date(m.ts).toISOString(), text: clock(m.ts) }),
      mine ? null : h("button", { type: "button", class: "more", "aria-label": "Options for " + m.handle + "'s message", "aria-haspopup": "menu", "aria-expanded": "false", text: "\u22ef", on: { click: (e) => openMenu(e.currentTarget, m) } }));
    let content;
    if (m.cw) {
      content = h("details", { class: "cw" },
        h("summary", { text: "Content warning: " + words(m.cw).toLowerCase() + ". Open to read." }),
        h("p", { class: "text", text: m.text }));
    } else {
      content = h("p", { class: "text", text: m.text });
    }
    log.append(h("li", { class: "msg" + (mine ? " mine" : "") + (m.role === "listener" ? " listener" : ""), "data-seq": String(m.seq) }, meta, content));
    log.parentElement.scrollTop = log.parentElement.scrollHeight;
  }

  function renderTyping() {
    if (!typingLine) return;
    const names = [...S.typers.keys()];
    typingLine.textContent = names.length ? names.join(", ") + (names.length > 1 ? " are" : " is") + " typing\u2026" : "";
  }

  function renderCrisis(f) {
    const list = h("ul", { class: "resources" }, (f.resources || []).map((r) => h("li", {},
      h("p", { class: "rname", text: r.name + (r.hours ? " (" + r.hours + ")" : "") }),
      h("p", { class: "rlinks" },
        r.phone ? h("a", { href: "tel:" + r.phone.replace(/[^0-9+*#]/g, ""), text: "Call " + r.phone }) : null,
        r.sms ? smsLink(r.sms) : null,
        r.url && /^https:\/\//.test(r.url) ? h("a", { href: r.url, target: "_blank", rel: "noopener noreferrer", text: "Visit " + r.url.replace(/^https:\/\/(www\.)?/, "").replace(/\/$/, "") }) : null))));
    const slot = crisisBox || body;
    const reopen = h("button", { type: "button", class: "link", text: "Show the support lines again", on: { click: () => { slot.replaceChildren(card); card.querySelector("a, button").focus(); } } });
    const card = h("div", { class: "crisis" },
      h("p", { class: "crisis-text", text: f.text }), list,
      h("button", { type: "button", class: "link", text: "Hide this card", on: { click: () => { slot.replaceChildren(reopen); if (input) input.focus(); } } }));
    slot.replaceChildren(card);
  }
  // "741741", or "Text HOME to 741741": the number, and the word to send as the body.
  function smsLink(sms) {
    const m = /^(?:text\s+)?(.+?)\s+to\s+([0-9+]+)$/i.exec(sms.trim());
    const number = m ? m[2] : sms.replace(/[^0-9+*#]/g, "");
    const href = "sms:" + number + (m ? "?&body=" + encodeURIComponent(m[1]) : "");
    return h("a", { href, text: /^text\b/i.test(sms) ? sms : "Text " + sms });
  }

  function renderHeld(f, pending) {
    if (!heldBox) return;
    const text = pending ? pending.text : "";
    heldBox.replaceChildren(h("div", { class: "held" },
      h("p", { text: f.text }),
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", text: "Send with content warning", on: { click: () => { heldBox.replaceChildren(); sendText(text, f.category); } } }),
        h("button", { type: "button", class: "secondary", text: "Edit", on: { click: () => { heldBox.replaceChildren(); input.value = text; input.focus(); } } }))));
    heldBox.querySelector("button").focus();
  }

  // ---- per-message menu (mute, report, block) and the report sheet ----
  let menu = null, sheet = null;
  function openMenu(btn, m) {
    if (closeMenu(menu && menu.btn === btn)) return;
    const room = S.room, one = S.kind === "private";
    const item = (text, fn) => h("li", { role: "none" }, h("button", { type: "button", role: "menuitem", tabindex: "-1", text, on: { click: () => { closeMenu(true); fn(); } } }));
    const list = h("ul", { class: "menu", role: "menu", "aria-label": btn.getAttribute("aria-label"), on: { keydown: menuKey, focusout: (e) => { if (menu && menu.list === list && !list.contains(e.relatedTarget) && e.relatedTarget !== btn) closeMenu(); } } },
      one ? null : item("Mute " + m.handle, () => { const ref = send({ type: "mute", room, handle: m.handle }); if (ref) S.acts.set(ref, room + " " + m.handle); }),
      item("Report this message", () => openReport(m, btn)),
      one ? item("Block and leave", () => send({ type: "block", room })) : null);
    btn.closest("li").append(list);
    btn.setAttribute("aria-expanded", "true");
    menu = { list, btn };
    list.querySelector("button").focus();
    list.scrollIntoView({ block: "nearest" });
  }
  function menuKey(e) {
    if (!menu) return; // Escape: the capturing key handler has closed it already
    const items = [...menu.list.querySelectorAll("button")];
    const i = items.indexOf(e.target), n = items.length;
    const j = { ArrowDown: (i + 1) % n, ArrowUp: (i + n - 1) % n, Home: 0, End: n - 1 }[e.key];
    if (j != null) { e.preventDefault(); items[j].focus(); } else if (e.key === "Tab") { e.preventDefault(); closeMenu(true); }
  }
  function closeMenu(back) {
    if (!menu) return false;
    const { list, btn } = menu;
    menu = null; list.remove();
    btn.setAttribute("aria-expanded", "false");
    if (back) btn.focus();
    return true;
  }
  const REASONS = { harassment: "Being unkind or harassing", self_harm_encouragement: "Encouraging self-harm", sexual_content: "Sexual content", spam: "Spam", other: "Something else" };
  function openReport(m, opener) {
    const room = S.room;
    const note = h("textarea", { id: "cs-note", rows: "3", maxlength: "500" });
    const form = h("form", { on: { submit: (e) => {
      e.preventDefault();
      const frame = { type: "report", room, reason: form.elements.reason.value, id: m.id };
      if (note.value.trim()) frame.note = note.value.trim();
      send(frame);
      closeSheet();
    } } },
    h("fieldset", {}, h("legend", { text: "What's wrong?" }),
      Object.entries(REASONS).map(([v, t]) => h("label", { class: "radio" }, h("input", { type: "radio", name: "reason", value: v, required: true }), t))),
    h("label", { for: "cs-note", text: "Anything you'd like to add? (optional)" }), note,
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary", text: "Send report" }),
      h("button", { type: "button", class: "secondary", text: "Cancel", on: { click: () => closeSheet() } })));
    closeSheet();
    sheet = { opener, el: h("div", { class: "sheet", role: "dialog", "aria-labelledby": "cs-report-title" },
      h("h3", { id: "cs-report-title", text: "Report this message" }),
      h("blockquote", {}, h("p", { class: "who", text: m.handle }), h("p", { class: "text", text: m.cw ? "(a message behind a content warning)" : m.text })),
      h("p", { class: "muted small", text: "A moderator will read it with the few messages before it. They won't see who you are, and " + m.handle + " isn't told." }),
      form) };
    body.hidden = true;
    panel.append(sheet.el);
    sheet.el.querySelector("input").focus();
  }
  function closeSheet() {
    if (!sheet) return false;
    const { el, opener } = sheet;
    sheet = null; el.remove(); body.hidden = false;
    if (log) log.parentElement.scrollTop = log.parentElement.scrollHeight;
    if (opener.isConnected) opener.focus(); else if (input) input.focus();
    return true;
  }

  // ---- socket ----
  function connect() {
    clearTimeout(S.retryTimer);
    if (S.ws) return;
    S.welcomed = false;
    let ws;
    try { ws = new WebSocket(wsUrl, ["chat.v1.json"]); } catch { return scheduleReconnect(); }
    S.ws = ws;
    ws.onmessage = (e) => { let f; try { f = JSON.parse(e.data); } catch { return; } onFrame(f); };
    ws.onclose = (e) => {
      if (S.ws !== ws) return;
      S.ws = null;
      clearInterval(S.pingTimer); clearTimeout(S.pongTimer);
      if (NO_RECONNECT.has(e.code) && e.code !== 1000) return setStatus("The connection was closed. Please reload the page to try again.", "warn");
      if (e.code === 1000) return;
      S.wantResume = !!S.token;
      setStatus(S.welcomed || S.room ? "Connection lost. Reconnecting\u2026 your chat is kept for a minute." : "Can't reach the chat right now. Trying again\u2026", "warn");
      scheduleReconnect(e.code === 1013 ? 5000 : 0);
    };
  }
  function scheduleReconnect(min) {
    const delay = Math.max(min || 0, Math.min(15000, 500 * 2 ** S.retry) + Math.random() * 500);
    S.retry = Math.min(S.retry + 1, 6);
    S.retryTimer = setTimeout(connect, delay);
  }
  function send(frame) {
    if (!S.ws || S.ws.readyState !== 1) { setStatus("Not connected right now. Please wait a moment and try again.", "warn"); return null; }
    const ref = String(++S.refs);
    S.ws.send(JSON.stringify({ ...frame, ref }));
    return ref;
  }
  function keepalive() {
    clearInterval(S.pingTimer);
    S.pingTimer = setInterval(() => {
      if (send({ type: "ping" }) == null) return;
      clearTimeout(S.pongTimer);
      S.pongTimer = setTimeout(() => { if (S.ws) S.ws.close(4000, "no pong"); }, PONG_WAIT_MS);
    }, PING_MS);
  }

  // ---- actions ----
  function requestSupport() {
    S.kind = "private";
    viewWaiting();
    send({ type: "request_support", topic: S.topic });
  }
  function joinGroup() {
    show(h("p", { class: "muted", text: "Joining the group\u2026" }));
    send({ type: "join", room: S.topic });
  }
  function leaveChat() {
    if (!S.room) return;
    if (S.kind === "private") send({ type: "end_chat", room: S.room });
    else { send({ type: "leave", room: S.room }); forgetRoom(S.room); stopChat(); viewTopics("You left the group. Take care of yourself."); }
  }
  function forgetRoom(room) { delete S.lastSeq[room]; store.save(); }
  function sendText(text, cw) {
    const value = (text != null ? text : input.value).trim();
    if (!value || !S.room) return;
    const frame = { type: "say", room: S.room, text: value, cid: newCid() };
    if (cw) frame.cw = cw;
    const ref = send(frame);
    if (ref == null) return;
    S.pending.set(ref, { text: value, room: S.room, cw, cid: frame.cid });
    if (text == null) input.value = "";
    stopTyping();
  }
  function newCid() {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // says with no reply when the connection dropped: sent again once resumed; the server
  // relays each only if the first copy was lost, so nothing is lost or shown twice
  function resendUnanswered() {
    const unanswered = [...S.pending.values()].filter((p) => p.cid);
    S.pending.clear();
    for (const p of unanswered) {
      const frame = { type: "say", room: p.room, text: p.text, cid: p.cid, resend: true };
      if (p.cw) frame.cw = p.cw;
      const ref = send(frame);
      if (ref != null) S.pending.set(ref, p);
    }
  }
  function retrySay(p) {
    if (S.pending.get("later:" + p.cid) !== p) return; // sent already, or forgotten
    S.pending.delete("later:" + p.cid);
    const frame = { type: "say", room: p.room, text: p.text, cid: p.cid, resend: true };
    if (p.cw) frame.cw = p.cw;
    const ref = send(frame);
    if (ref != null) S.pending.set(ref, p); else S.pending.set("later:" + p.cid, p);
  }
  function composeKey(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(); }
  }
  function typed() {
    if (!S.room) return;
    const now = Date.now();
    if (now - S.typingSent > 3000) { S.typingSent = now; rawSend({ type: "typing", room: S.room, active: true }); }
    clearTimeout(S.typingTimer);
    S.typingTimer = setTimeout(stopTyping, 4000);
  }
  function stopTyping() {
    clearTimeout(S.typingTimer);
    if (S.typingSent && S.room) rawSend({ type: "typing", room: S.room, active: false });
    S.typingSent = 0;
  }
  function rawSend(frame) { if (S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify(frame)); }

  // ---- incoming frames ----
  function onFrame(f) {
    if (f && typeof f.type === "string" && Object.hasOwn(HANDLERS, f.type)) HANDLERS[f.type](f);
  }
  const HANDLERS = {
    welcome(f) {
      S.welcomed = true; S.retry = 0;
      S.topics = f.topics || []; S.maxText = f.max_text || 4000;
      keepalive();
      if (S.wantResume && S.token) {
        S.resuming = true;
        send({ type: "resume", token: S.token, last_seq: S.lastSeq });
        S.pendingWelcome = f;
        return;
      }
      S.pending.clear(); // a new session: nothing of an old one is sent again
      adopt(f);
      setStatus("");
      if (!S.room) {
        if (S.topic && S.topics.includes(S.topic)) viewChoice(); else viewTopics();
      }
    },
    resumed(f) {
      S.resuming = false; S.wantResume = false;
      S.token = f.resume_token; S.handle = f.handle;
      let missed = 0;
      for (const [room, seq] of Object.entries(f.rooms || {})) missed += Math.max(0, seq - (S.lastSeq[room] || 0));
      for (const room of Object.keys(S.lastSeq)) if (!(room in (f.rooms || {}))) delete S.lastSeq[room];
      store.save();
      const rooms = Object.keys(f.rooms || {});
      if (!S.room && rooms.length) {
        S.room = rooms[0];
        S.kind = S.room.startsWith("p-") ? "private" : "group";
        if (S.kind === "group") S.topic = S.room.replace(/-\d+$/, "");
        viewChat(null);
      }
      setStatus("");
      resendUnanswered();
      const note = missed ? "You're back \u2014 " + missed + (missed === 1 ? " message" : " messages") + " you missed." : "You're back. Nothing was missed.";
      system(note, "back");
    },
    joined(f) {
      S.room = f.room; S.handle = f.handle;
      S.kind = f.room === S.pairedRoom || f.room.startsWith("p-") ? "private" : "group";
      if (!(f.room in S.lastSeq)) S.lastSeq[f.room] = f.seq;
      store.save();
      viewChat(f.members || [], f.count);
    },
    left(f) { forgetRoom(f.room); },
    message(f) {
      const last = S.lastSeq[f.room] || 0;
      if (f.seq <= last) return; // dedupe (replay overlap)
      S.lastSeq[f.room] = f.seq;
      store.save();
      if (f.room !== S.room || !log || S.muted.has(f.room + " " + f.handle)) return;
      S.typers.delete(f.handle); renderTyping();
      renderMessage(f);
      if (!S.open && f.handle !== S.handle) { S.unread += 1; unread.textContent = " (" + S.unread + " new)"; unread.hidden = false; }
    },
    ack(f) { if (S.pending.delete(f.ref) && S.retrying) { S.retrying = false; setStatus(""); } },
    typing(f) {
      if (f.room !== S.room || f.handle === S.handle || S.muted.has(f.room + " " + f.handle)) return;
      clearTimeout(S.typers.get(f.handle));
      if (f.active) S.typers.set(f.handle, setTimeout(() => { S.typers.delete(f.handle); renderTyping(); }, 6000));
      else S.typers.delete(f.handle);
      renderTyping();
    },
    presence(f) {
      if (f.room !== S.room || f.handle === S.handle) return;
      system(f.event === "join" ? f.handle + (f.role === "listener" ? " (listener)" : "") + " joined." : f.handle + " left.");
    },
    presence_batch(f) { // several came and went at once: names (not yours), then how many more
      if (f.room !== S.room) return;
      for (const [named, count, verb] of [[f.joins, f.joined, " joined."], [f.leaves, f.left, " left."]]) {
        const names = named.filter((m) => m.handle !== S.handle).map((m) => m.handle + (m.role === "listener" ? " (listener)" : ""));
        const more = count - named.length;
        if (names.length || more > 0) system((names.length ? names.join(", ") + (more > 0 ? " and " + more + " more" : "") : more + (more === 1 ? " person" : " people")) + verb);
      }
    },
    pong() { clearTimeout(S.pongTimer); },
    queue_position(f) {
      if (!queueInfo || !queueInfo.isConnected) viewWaiting();
      const pos = f.position === 1 ? "You're next in line." : "You're number " + f.position + " in line.";
      const eta = f.eta ? " Estimated wait: about " + Math.max(1, Math.round(f.eta / 60)) + (Math.round(f.eta / 60) > 1 ? " minutes." : " minute.") : "";
      queueInfo.textContent = pos + eta;
    },
    queue_left(f) {
      S.kind = null;
      viewTopics(f.reason === "cancelled" ? "You've stopped waiting. You can come back any time." : "That topic isn't available right now. Please choose another.");
    },
    paired(f) { S.kind = "private"; S.peer = f.peer; S.topic = f.topic; S.pairedRoom = f.room; },
    chat_ended(f) {
      forgetRoom(f.room);
      if (f.room !== S.room) return;
      if (f.reason === "listener_left") { stopChat(); S.kind = "private"; viewWaiting(f.text); return; }
      viewEnded(f.text, f.reason);
    },
    done(f) {
      const muted = S.acts.get(f.ref);
      S.acts.delete(f.ref);
      if (f.action === "mute" && muted) {
        S.muted.add(muted);
        system("You muted " + muted.slice(muted.indexOf(" ") + 1) + ". Their messages won't reach you, and they aren't told. This lasts until you close this tab.");
      } else if (f.action === "report") system("Thank you. A moderator will look at it.", "back");
    },
    room_mode(f) {
      if (f.room === S.room) system(f.slow ? "Slow mode is on: one message every " + f.slow + " seconds." : "Slow mode is off.");
    },
    held(f) {
      const pending = S.pending.get(f.ref);
      S.pending.delete(f.ref);
      renderHeld(f, pending);
    },
    crisis(f) { renderCrisis(f); say(f.text, true); },
    consent(f) { if (f.room === S.room) system(f.handle + " is ready to hear difficult things; some messages will arrive behind a content warning."); },
    notice(f) {
      if (f.code === "requeued") { stopChat(); S.kind = "private"; viewWaiting(f.text); return; }
      if (log) system(f.text, f.level === "warning" ? "warn" : "");
      else setStatus(f.text, f.level === "warning" ? "warn" : "");
      if (f.code === "restored") setStatus("");
      say(f.text);
    },
    error(f) {
      if (f.code === "resume_failed") return resumeFailed();
      const pending = S.pending.get(f.ref);
      S.pending.delete(f.ref);
      S.acts.delete(f.ref);
      if (f.code === "unavailable" && pending && pending.cid && (pending.tries || 0) < 10) {
        // the relay hiccuped: send it again by itself, as the same message (same cid)
        pending.tries = (pending.tries || 0) + 1;
        S.retrying = true;
        S.pending.set("later:" + pending.cid, pending); // a resume meanwhile sends it too
        setTimeout(() => retrySay(pending), Math.max(500, f.retry_after || 2000));
        setStatus("We couldn't send that just yet. Trying again in a moment\u2026", "warn");
        return;
      }
      if (pending && input && !input.value) input.value = pending.text;
      if (f.code === "cooldown" && !log) return viewTopics(f.message + (f.retry_after ? " You can rejoin in about " + Math.ceil(f.retry_after / 60000) + " min." : ""));
      if (log) system(f.message, "error"); else setStatus(f.message, "warn");
      if (f.code === "room_full" || f.code === "unknown_room") viewTopics(f.message);
    },
  };

  function adopt(welcome) {
    S.token = welcome.resume_token; S.handle = welcome.handle;
    store.save();
  }

  function resumeFailed() {
    S.resuming = false; S.wantResume = false;
    const was = S.room, kind = S.kind, topic = S.topic || (was ? was.replace(/-\d+$/, "") : "");
    S.lastSeq = {};
    S.pending.clear(); // those belonged to the old session: never sent again later
    if (S.pendingWelcome) adopt(S.pendingWelcome);
    S.pendingWelcome = null;
    setStatus("");
    const note = "We were away too long to pick up the same conversation, so this is a fresh start.";
    stopChat();
    if (kind === "group" && topic) {
      S.carryNote = note + " We've brought you back to the group.";
      send({ type: "join", room: topic });
    } else if (kind === "private" && topic) {
      S.kind = "private";
      viewWaiting(note + " We've put you back in line for a listener.");
      send({ type: "request_support", topic });
    } else {
      store.save();
      if (S.open) viewTopics(was ? note : undefined);
    }
  }

  // ---- open/close, quick exit ----
  function openPanel() {
    S.open = true; S.unread = 0; unread.hidden = true;
    panel.hidden = false; launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    if (!S.ws && !S.welcomed) { viewConnecting(); connect(); }
    const target = (sheet && sheet.el.querySelector("input")) || body.querySelector("textarea, h3, button") || closeBtn;
    if (target.matches("h3")) target.setAttribute("tabindex", "-1");
    target.focus();
  }
  function closePanel() {
    S.open = false;
    panel.hidden = true; launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  function quickExit() {
    const ws = S.ws;
    S.ws = null;
    clearInterval(S.pingTimer); clearTimeout(S.pongTimer); clearTimeout(S.retryTimer); clearTimeout(S.typingTimer);
    if (ws) { ws.onclose = ws.onmessage = null; try { ws.close(1000, "quick exit"); } catch { /* closing anyway */ } }
    store.wipe();
    S.token = null; S.lastSeq = {}; S.pending.clear();
    root.replaceChildren();
    host.remove();
    document.removeEventListener("keydown", onKey, true);
    location.replace(exitUrl);
  }
  function onKey(e) {
    if (e.key !== "Escape") return;
    const now = Date.now();
    if (now - S.escAt < 1500) { e.preventDefault(); quickExit(); return; }
    S.escAt = now;
    if (closeMenu(true) || closeSheet()) { e.preventDefault(); return; }
    if (S.open && e.composedPath().includes(host)) closePanel();
  }

  launcher.addEventListener("click", openPanel);
  closeBtn.addEventListener("click", closePanel);
  exitBtn.addEventListener("click", quickExit);
  document.addEventListener("keydown", onKey, true);

  window.__chatserverWidget = { open: openPanel, close: closePanel, quickExit };
  const mount = () => document.body.append(host);
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  // Came back to this tab with a conversation in progress (reload): pick it up again.
  if (saved && saved.last_seq && Object.keys(saved.last_seq).length) openPanel();
})();
