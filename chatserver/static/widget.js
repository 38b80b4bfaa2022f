/* chatserver seeker widget: one tag, no framework, no build step.
 *   <script src="https://HOST/widget.js" data-topic="anxiety" data-lang="es" async></script>
 * Options (data-*): server (ws/http URL of the chat server; default: this script's origin),
 * topic (preselected topic), lang (language; default: the browser's), exit-url (where
 * "Quick exit" goes; default HOST/exit), label (launcher text). Protocol: protocol/SPEC.md
 * (chat.v1, JSON). Words: HOST/i18n/widget.<lang>.json, one catalogue per language, loaded
 * before the launcher shows (docs/widget.md, "Languages").
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
  const exitUrl = opts.exitUrl || httpOrigin + "/exit";
  const KEY = "chatserver.widget";
  const PING_MS = 25000;
  const PONG_WAIT_MS = 10000;
  const NO_RECONNECT = new Set([1000, 1008, 1009, 4400]);
  const LANGS = ["en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "ru"];

  // ---- language: data-lang, then the browser's languages, then English. `tag` keeps a
  // region when one is known ("es-MX"), so the server can pick that country's crisis lines.
  const asked = [opts.lang, ...(navigator.languages || [navigator.language])].filter(Boolean).map(String);
  const primary = (tag) => tag.toLowerCase().split(/[-_]/)[0];
  const lang = asked.map(primary).find((l) => LANGS.includes(l)) || "en";
  const tag = asked.find((a) => primary(a) === lang && /[-_]/.test(a)) || lang;
  const wsUrl = httpOrigin.replace(/^http/, "ws") + "/?lang=" + encodeURIComponent(tag);
  let T = {};
  const plural = new Intl.PluralRules(lang);
  // t("wait.eta", {n: 3}): the catalogue's string, {placeholders} filled in; plural forms are
  // objects keyed by Intl.PluralRules categories. A missing key shows the key itself.
  function t(key, vars) {
    let s = T[key];
    if (s && typeof s === "object") s = s[plural.select(vars.n)] || s.other;
    if (typeof s !== "string") s = key;
    return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
  }
  const words = (id) => id.charAt(0).toUpperCase() + id.slice(1).replace(/[_-]/g, " ");
  // a topic's name as a button shows it, and as it reads inside a sentence
  const known = (key) => typeof T[key] === "string";
  const topicName = (id) => (known("topic." + id) ? t("topic." + id) : words(id));
  const topicIn = (id) => (known("topic.in." + id) ? t("topic.in." + id) : words(id).toLowerCase());
  const topicVars = (id) => ({ Topic: topicName(id), topic: topicIn(id) });
  const clock = (ts) => new Date(ts).toLocaleTimeString(tag, { hour: "2-digit", minute: "2-digit" });
  // a language's name in the widget's language ("es" -> "Spanish", "español"), and a list
  const intl = (make) => { try { return make(); } catch { return null; } };
  const langNames = intl(() => new Intl.DisplayNames([tag, "en"], { type: "language" }));
  const langName = (code) => (langNames && intl(() => langNames.of(code))) || code;
  const listing = intl(() => new Intl.ListFormat([tag, "en"], { type: "conjunction" }));
  const langList = (codes) => (listing ? listing.format(codes.map(langName)) : codes.map(langName).join(", "));

  // ---- tiny DOM helper: attributes and text only, never HTML ----
  function h(name, attrs, ...kids) {
    const el = document.createElement(name);
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
  // a sentence the server wrote (its language follows the connection's `lang`)
  const serverText = (text, cls) => h("p", { class: cls, "data-src": "server", text });

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
    members: new Set(), aloneTold: false, below: 0, need: null, roomLang: null, toGroup: false,
    rx: new Map(), rxViews: new Map(), rxSaid: 0, mineIds: new Set(),
  };

  // ---- shadow DOM (built once the words are here) ----
  const host = h("div", { id: "chatserver-widget", lang });
  const root = host.attachShadow({ mode: "open" });
  const css = h("link", { rel: "stylesheet", href: httpOrigin + "/widget.css" });
  const wrap = h("div", { class: "cs", hidden: true });
  const styled = new Promise((done) => { css.addEventListener("load", done); css.addEventListener("error", done); });
  root.append(css, wrap);
  let unread, launcher, exitBtn, closeBtn, status, body, panel, alerts, polite;

  function build() {
    unread = h("span", { class: "unread", hidden: true });
    launcher = h("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "cs-panel" }, opts.label || t("launcher"), unread);
    exitBtn = h("button", { type: "button", class: "exit", text: t("exit"), title: t("exit.title") });
    closeBtn = h("button", { type: "button", class: "close", "aria-label": t("close"), text: "\u00d7" });
    status = h("p", { class: "status", role: "status" });
    body = h("div", { class: "body" });
    panel = h("section", { id: "cs-panel", class: "panel", "aria-labelledby": "cs-title", hidden: true },
      h("header", {}, h("h2", { id: "cs-title", text: t("title") }), exitBtn, closeBtn), status, body);
    alerts = h("div", { class: "sr", "aria-live": "assertive" });
    polite = h("div", { class: "sr", "aria-live": "polite" });
    wrap.append(panel, launcher, alerts, polite);
    launcher.addEventListener("click", openPanel);
    closeBtn.addEventListener("click", closePanel);
    exitBtn.addEventListener("click", quickExit);
  }

  function say(text, urgent) {
    const region = urgent ? alerts : polite;
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 50);
  }
  // level: "warn" for a passing state (reconnecting), "error" for a refusal
  function setStatus(text, level, fromServer) {
    status.textContent = text || "";
    status.className = "status" + (level ? " " + level : "");
    if (fromServer) status.setAttribute("data-src", "server"); else status.removeAttribute("data-src");
  }

  // ---- views ----
  function show(...nodes) {
    closeMenu(); closeSheet();
    body.classList.remove("chatting");
    body.replaceChildren(...nodes.filter((n) => n != null));
    const first = body.querySelector("h3, button, textarea, [tabindex]");
    if (first && S.open) {
      if (first.matches("h3")) first.setAttribute("tabindex", "-1");
      first.focus();
    }
  }
  const note = (text, fromServer) => (text ? h("p", { class: "note", "data-src": fromServer ? "server" : null, text }) : null);

  function viewConnecting() {
    show(h("p", { class: "muted", text: t("connecting") }));
  }

  function viewTopics(text, fromServer) {
    const list = h("ul", { class: "topics" }, S.topics.map((id) =>
      h("li", {}, h("button", { type: "button", class: "choice", text: topicName(id), on: { click: () => { S.topic = id; viewChoice(); } } }))));
    show(h("h3", { text: t("topics.heading") }), note(text, fromServer),
      h("p", { class: "muted", text: t("topics.intro") }), list);
  }

  // What the seeker would like from a listener: optional, one tap, a second tap undoes it.
  function needChips() {
    const chips = [["listen", t("need.listen")], ["ideas", t("need.ideas")]].map(([need, text]) =>
      h("button", { type: "button", class: "chip", "data-need": need, "aria-pressed": String(S.need === need), text, on: { click: () => {
        S.need = S.need === need ? null : need;
        for (const c of chips) c.setAttribute("aria-pressed", String(c.dataset.need === S.need));
      } } }));
    return h("div", { class: "need", role: "group", "aria-labelledby": "cs-need" },
      h("p", { id: "cs-need", class: "muted small", text: t("need.ask") }), h("div", { class: "row" }, chips));
  }

  function viewChoice() {
    show(h("h3", { text: topicName(S.topic) }),
      h("p", { class: "muted", text: t("choice.how") }),
      needChips(),
      h("button", { type: "button", class: "choice", on: { click: requestSupport } },
        h("strong", { text: t("choice.one") }), h("span", { text: t("choice.one.more") })),
      h("button", { type: "button", class: "choice", on: { click: joinGroup } },
        h("strong", { text: t("choice.group", topicVars(S.topic)) }),
        h("span", { text: t("choice.group.more") })),
      h("button", { type: "button", class: "link", text: t("choice.back"), on: { click: () => viewTopics() } }));
  }

  let queueInfo = null, etaInfo = null;
  function viewWaiting(text) {
    queueInfo = h("span", { text: t("wait.finding") });
    etaInfo = h("span", {});
    show(h("h3", { text: t("wait.heading") }), note(text, true),
      h("p", { class: "queue", "aria-live": "polite" }, queueInfo, " ", etaInfo),
      h("div", { class: "lang-slot" }),
      h("p", { class: "muted", text: t("wait.help") }),
      h("button", { type: "button", class: "secondary", text: t("wait.stop"), on: { click: () => send({ type: "cancel_support" }) } }));
  }

  // chat view parts, built once per room
  let log, logBox, marker, typingLine, input, heldBox, crisisBox, leaveBtn;
  function viewChat(members, count) {
    log = h("ol", { class: "log" });
    marker = h("button", { type: "button", class: "marker", hidden: true, on: { click: () => toBottom(true) } });
    logBox = h("div", { class: "logbox", role: "log", "aria-live": "polite", "aria-label": t("log.label"), tabindex: "0", on: { scroll: () => { if (nearBottom()) hideMarker(); } } }, log);
    typingLine = h("p", { class: "typing", "aria-hidden": "true" });
    crisisBox = h("div", { class: "crisis-slot", role: "alert", "aria-live": "assertive" });
    heldBox = h("div", { class: "held-slot" });
    input = h("textarea", { id: "cs-input", rows: "2", maxlength: String(S.maxText), placeholder: t("composer.placeholder"), on: { input: typed, keydown: composeKey } });
    const composer = h("form", { class: "composer", on: { submit: (e) => { e.preventDefault(); sendText(); } } },
      h("label", { for: "cs-input", class: "sr", text: t("composer.label") }), input,
      h("button", { type: "submit", class: "send", text: t("send") }));
    const one = S.kind === "private";
    leaveBtn = h("button", { type: "button", class: "secondary small", text: one ? t("chat.end") : t("chat.leave"), on: { click: leaveChat } });
    const heading = one ? (S.peer ? t("chat.with", { name: S.peer.handle }) : t("chat.with.listener"))
      : t("chat.group", topicVars(S.topic || S.room));
    S.members = new Set((members || []).map((m) => m.handle).filter((x) => x !== S.handle));
    S.aloneTold = false;
    const roomLang = !one && S.roomLang ? h("p", { class: "room-lang", text: t("chat.room.lang", { language: langName(S.roomLang) }) }) : null;
    show(h("div", { class: "chat-head" }, h("h3", { text: heading }), leaveBtn), roomLang,
      h("p", { class: "muted small you", text: t("chat.you", { handle: S.handle }) }),
      crisisBox, h("div", { class: "logwrap" }, logBox, marker), typingLine, heldBox, composer);
    body.classList.add("chatting");
    if (members) system(one ? t("chat.connected") : ((count ? count - 1 : S.members.size) ? t("chat.others", { n: count ? count - 1 : S.members.size }) : t("chat.first")));
    if (S.carryNote) { system(S.carryNote, "back"); S.carryNote = null; }
    if (members && !one && S.roomLang && S.roomLang !== lang) system(t("chat.room.fallback", { asked: langName(lang), language: langName(S.roomLang) }));
    input.focus();
  }

  const ENDED = { removed: "ended.removed", room_ended: "ended.room_ended", blocked: "ended.blocked" };
  function viewEnded(text, reason) {
    stopChat();
    show(h("h3", { text: t(ENDED[reason] || "ended.heading") }),
      text ? serverText(text) : h("p", { text: t("ended.thanks") }),
      h("button", { type: "button", class: "choice", text: t("ended.again"), on: { click: () => viewTopics() } }));
  }

  function stopChat() {
    S.room = null; S.kind = null; S.peer = null; S.typers.clear(); S.members.clear();
    S.rx.clear(); S.rxViews.clear(); S.mineIds.clear(); S.roomLang = null;
    log = input = logBox = null;
  }

  // ---- the log: the newest line stays in view unless the person scrolled up to read;
  // then a "new message" marker says something arrived below ----
  function nearBottom() { return !logBox || logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 48; }
  function toBottom(focus) {
    if (!logBox) return;
    logBox.scrollTop = logBox.scrollHeight;
    hideMarker();
    if (focus) logBox.focus();
  }
  function hideMarker() { S.below = 0; if (marker) marker.hidden = true; }
  function append(li, mine) {
    const follow = mine || nearBottom();
    log.append(li);
    if (follow) { toBottom(); return; }
    S.below += 1;
    marker.textContent = t("log.new", { n: S.below });
    marker.hidden = false;
  }
  function system(text, cls, fromServer) {
    if (!log) return;
    append(h("li", { class: "system " + (cls || "") }, fromServer ? serverText(text) : h("p", { text })));
  }

  function renderMessage(m) {
    const mine = m.handle === S.handle;
    const meta = h("p", { class: "meta" },
      mine ? h("span", { class: "who", text: t("you") }) : h("span", { class: "who", "data-src": "person", text: m.handle }),
      m.role === "listener" && !mine ? h("span", { class: "badge", text: t("badge.listener") }) : null,
      h("time", { datetime: new Date(m.ts).toISOString(), text: clock(m.ts) }),
      mine ? null : h("button", { type: "button", class: "more", "aria-label": t("menu.label", { handle: m.handle }), "aria-haspopup": "menu", "aria-expanded": "false", text: "\u22ef", on: { click: (e) => openMenu(e.currentTarget, m) } }));
    const text = h("p", { class: "text", "data-src": "person", text: m.text });
    // reactions sit with the words: behind a content warning, they wait until it is opened
    const rx = m.id ? reactionsFor(m, mine) : null;
    const content = m.cw ? h("details", { class: "cw" }, h("summary", { text: t("cw.summary", { category: known("cw." + m.cw) ? t("cw." + m.cw) : words(m.cw).toLowerCase() }) }), text, rx) : [text, rx];
    append(h("li", { class: "msg" + (mine ? " mine" : "") + (m.role === "listener" ? " listener" : ""), "data-seq": String(m.seq) }, meta, content), mine);
  }

  // ---- supportive reactions: a toolbar under other people's messages (one Tab stop, arrow
  // keys between its four toggle buttons), and under your own what others gave ----
  const REACTIONS = { hear_you: "rx.hear_you", strength: "rx.strength", same_here: "rx.same_here", thanks_for_sharing: "rx.thanks_for_sharing" };
  function reactionsFor(m, mine) {
    if (mine) S.mineIds.add(m.id);
    const el = mine ? h("p", { class: "heard", hidden: true }) : h("div", { class: "reactions", role: "toolbar", "aria-label": t("rx.bar", { handle: m.handle }), on: { keydown: toolbarKey } });
    const room = S.room;
    const update = () => {
      const got = S.rx.get(m.id) || { counts: {}, mine: [] };
      if (mine) {
        const given = Object.keys(REACTIONS).filter((r) => got.counts[r]);
        el.hidden = !given.length;
        el.replaceChildren(h("span", { text: t("rx.yours") }), ...given.map((r) => h("span", { class: "rx" }, h("span", { text: t(REACTIONS[r]) }), " ", h("span", { class: "n", text: String(got.counts[r]) }))));
        return;
      }
      const focused = el.contains(root.activeElement) ? [...el.children].indexOf(root.activeElement) : -1;
      el.replaceChildren(...Object.keys(REACTIONS).map((r, i) => {
        const n = got.counts[r] || 0, pressed = (got.mine || []).includes(r);
        return h("button", { type: "button", class: "rx", "aria-pressed": String(pressed), tabindex: i === Math.max(0, focused) ? "0" : "-1",
          "aria-label": n ? t("rx.label", { reaction: t(REACTIONS[r]), n }) : null, on: { click: () => react(room, m.id, r, pressed) } },
        h("span", { text: t(REACTIONS[r]) }), n ? h("span", { class: "n", "aria-hidden": "true", text: String(n) }) : null);
      }));
      if (focused >= 0) el.children[focused].focus();
    };
    S.rxViews.set(m.id, update);
    update();
    return el;
  }
  function toolbarKey(e) {
    const items = [...e.currentTarget.querySelectorAll("button")];
    const i = items.indexOf(e.target), n = items.length;
    const j = { ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1 }[e.key];
    if (i < 0 || j == null) return;
    e.preventDefault();
    items.forEach((b, k) => b.setAttribute("tabindex", k === j ? "0" : "-1"));
    items[j].focus();
  }
  function react(room, id, reaction, undo) {
    if (room !== S.room) return;
    const ref = send({ type: "react", room, id, reaction, undo: undo || undefined });
    if (ref) S.acts.set(ref, { react: true });
  }
  function showReactions(f) {
    const before = S.rx.get(f.id);
    S.rx.set(f.id, { counts: f.counts || {}, mine: f.mine || (before ? before.mine : []) });
    const update = S.rxViews.get(f.id);
    if (update) update();
    // the author hears it too, now and then: a new reaction to one of their messages
    const more = Object.keys(f.counts || {}).find((r) => f.counts[r] > ((before && before.counts[r]) || 0));
    if (S.mineIds.has(f.id) && more && Date.now() - S.rxSaid > 5000) {
      S.rxSaid = Date.now();
      say(t("rx.announce", { reaction: t(REACTIONS[more]) }));
    }
  }

  function renderTyping() {
    if (!typingLine) return;
    const names = [...S.typers.keys()];
    typingLine.textContent = names.length ? t(names.length > 1 ? "typing.many" : "typing.one", { names: names.join(", ") }) : "";
  }

  // The crisis card, compact enough for a phone: the server's sentence, one line to call or
  // text now, everything else behind "More help"; the chat stays usable below it.
  function renderCrisis(f) {
    const all = f.resources || [];
    const first = all.find((r) => r.phone || r.sms) || null;
    const line = (r, primaryLine) => h("li", {},
      h("p", { class: "rname", "data-src": "server", text: r.name }),
      r.hours ? h("p", { class: "rhours", "data-src": "server", text: r.hours }) : null,
      h("p", { class: "rlinks" },
        r.phone ? h("a", { href: "tel:" + r.phone.replace(/[^0-9+*#]/g, ""), text: t("crisis.call", { number: r.phone }) }) : null,
        r.sms ? smsLink(r.sms) : null,
        r.url && !primaryLine && /^https:\/\//.test(r.url) ? h("a", { href: r.url, target: "_blank", rel: "noopener noreferrer", text: t("crisis.visit", { site: r.url.replace(/^https:\/\/(www\.)?/, "").replace(/\/$/, "") }) }) : null));
    // the primary line is for calling or texting now; its website waits under "More help"
    const rest = all.filter((r) => r !== first);
    if (first && first.url) rest.unshift({ name: first.name, url: first.url });
    const slot = crisisBox || body;
    const reopen = h("button", { type: "button", class: "link", text: t("crisis.show"), on: { click: () => { slot.replaceChildren(card); card.querySelector("a, button, summary").focus(); } } });
    const hide = h("button", { type: "button", class: "link", text: t("crisis.hide"), on: { click: () => { slot.replaceChildren(reopen); if (input) input.focus(); } } });
    const card = h("div", { class: "crisis" },
      serverText(f.text, "crisis-text"),
      first ? h("ul", { class: "resources primary-line" }, line(first, true)) : null,
      h("div", { class: "crisis-foot" },
        rest.length ? h("details", { class: "more-help" }, h("summary", { text: t("crisis.more") }), h("ul", { class: "resources" }, rest.map(line))) : null,
        hide));
    const follow = nearBottom();
    slot.replaceChildren(card);
    if (follow) toBottom();
  }
  // "741741", or "Text HOME to 741741": the number, and the word to send as the body.
  function smsLink(sms) {
    const m = /^(?:text\s+)?(.+?)\s+to\s+([0-9+][0-9+ ]*)$/i.exec(sms.trim());
    const number = (m ? m[2] : sms).replace(/[^0-9+*#]/g, "");
    const href = "sms:" + number + (m ? "?&body=" + encodeURIComponent(m[1]) : "");
    return h("a", { href, text: m ? t("crisis.text.word", { word: m[1], number: m[2] }) : t("crisis.text", { number: sms }) });
  }

  function renderHeld(f, pending) {
    if (!heldBox) return;
    const text = pending ? pending.text : "";
    heldBox.replaceChildren(h("div", { class: "held" },
      serverText(f.text),
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", text: t("held.send"), on: { click: () => { heldBox.replaceChildren(); sendText(text, f.category); } } }),
        h("button", { type: "button", class: "secondary", text: t("held.edit"), on: { click: () => { heldBox.replaceChildren(); input.value = text; input.focus(); } } }))));
    heldBox.querySelector("button").focus();
  }

  // ---- per-message menu (mute, report, block) and the report sheet ----
  let menu = null, sheet = null;
  function openMenu(btn, m) {
    if (closeMenu(menu && menu.btn === btn)) return;
    const room = S.room, one = S.kind === "private";
    const item = (text, fn) => h("li", { role: "none" }, h("button", { type: "button", role: "menuitem", tabindex: "-1", text, on: { click: () => { closeMenu(true); fn(); } } }));
    const list = h("ul", { class: "menu", role: "menu", "aria-label": btn.getAttribute("aria-label"), on: { keydown: menuKey, focusout: (e) => { if (menu && menu.list === list && !list.contains(e.relatedTarget) && e.relatedTarget !== btn) closeMenu(); } } },
      one ? null : item(t("menu.mute", { handle: m.handle }), () => { const ref = send({ type: "mute", room, handle: m.handle }); if (ref) S.acts.set(ref, { room, handle: m.handle }); }),
      item(t("menu.report"), () => openReport(m, btn)),
      one ? item(t("menu.block"), () => send({ type: "block", room })) : null);
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
  const REASONS = ["harassment", "self_harm_encouragement", "sexual_content", "spam", "other"];
  function openReport(m, opener) {
    const room = S.room;
    const noteBox = h("textarea", { id: "cs-note", rows: "3", maxlength: "500" });
    const form = h("form", { on: { submit: (e) => {
      e.preventDefault();
      const frame = { type: "report", room, reason: form.elements.reason.value, id: m.id };
      if (noteBox.value.trim()) frame.note = noteBox.value.trim();
      send(frame);
      closeSheet();
    } } },
    h("fieldset", {}, h("legend", { text: t("report.legend") }),
      REASONS.map((v) => h("label", { class: "radio" }, h("input", { type: "radio", name: "reason", value: v, required: true }), t("reason." + v)))),
    h("label", { for: "cs-note", text: t("report.note") }), noteBox,
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary", text: t("report.send") }),
      h("button", { type: "button", class: "secondary", text: t("report.cancel"), on: { click: () => closeSheet() } })));
    closeSheet();
    sheet = { opener, el: h("div", { class: "sheet", role: "dialog", "aria-labelledby": "cs-report-title" },
      h("h3", { id: "cs-report-title", text: t("menu.report") }),
      h("blockquote", {}, h("p", { class: "who", "data-src": "person", text: m.handle }),
        m.cw ? h("p", { class: "muted", text: t("report.behind.cw") }) : h("p", { class: "text", "data-src": "person", text: m.text })),
      h("p", { class: "muted small", text: t("report.explain", { handle: m.handle }) }),
      form) };
    body.hidden = true;
    panel.append(sheet.el);
    sheet.el.querySelector("input").focus();
  }
  function closeSheet() {
    if (!sheet) return false;
    const { el, opener } = sheet;
    sheet = null; el.remove(); body.hidden = false;
    toBottom();
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
      if (NO_RECONNECT.has(e.code) && e.code !== 1000) return setStatus(t("status.closed"), "warn");
      if (e.code === 1000) return;
      S.wantResume = !!S.token;
      setStatus(S.welcomed || S.room ? t("status.lost") : t("status.unreachable"), "warn");
      scheduleReconnect(e.code === 1013 ? 5000 : 0);
    };
  }
  function scheduleReconnect(min) {
    const delay = Math.max(min || 0, Math.min(15000, 500 * 2 ** S.retry) + Math.random() * 500);
    S.retry = Math.min(S.retry + 1, 6);
    S.retryTimer = setTimeout(connect, delay);
  }
  function send(frame) {
    if (!S.ws || S.ws.readyState !== 1) { setStatus(t("status.offline"), "warn"); return null; }
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
  // the seeker's language is the one the widget is shown in; the need only when chosen
  function requestSupport() {
    S.kind = "private";
    viewWaiting();
    send({ type: "request_support", topic: S.topic, language: lang, need: S.need || undefined });
  }
  function joinGroup() {
    show(h("p", { class: "muted", text: t("joining") }));
    send({ type: "join", room: S.topic, language: lang });
  }
  // Nobody who speaks the seeker's language (or nobody at all) is on duty: said plainly,
  // with the choice to wait, to talk with any listener now, or to join the group.
  function renderLanguageChoice(f) {
    if (!queueInfo || !queueInfo.isConnected) viewWaiting();
    const slot = body.querySelector(".lang-slot");
    const nobody = !(f.available || []).length;
    const vars = { language: langName(f.language), languages: langList(f.available || []), ...topicVars(f.topic) };
    const title = nobody ? t("lang.nobody") : t("lang.none", vars);
    const go = nobody
      ? h("button", { type: "button", class: "primary", text: t("lang.group", vars), on: { click: () => toGroup(f.topic) } })
      : h("button", { type: "button", class: "primary", text: t("lang.any"), on: { click: () => choose("any", vars) } });
    const card = h("div", { class: "lang-card", role: "group", "aria-labelledby": "cs-lang-title" },
      h("p", { id: "cs-lang-title", class: "lang-title", text: title }),
      h("p", { text: nobody ? t("lang.nobody.more", vars) : t("lang.others", vars) }),
      h("div", { class: "row" }, go,
        h("button", { type: "button", class: "secondary", text: t("lang.wait"), on: { click: () => choose("wait", vars, nobody) } })));
    slot.replaceChildren(card);
    if (S.open) go.focus();
    say(title);
  }
  function choose(choice, vars, nobody) {
    if (send({ type: "support_choice", choice }) == null) return;
    const text = choice === "any" ? t("lang.any.done") : nobody ? t("lang.nobody.wait") : t("lang.wait.done", vars);
    const slot = body.querySelector(".lang-slot");
    if (!slot) return;
    const said = h("p", { class: "note", tabindex: "-1", text });
    slot.replaceChildren(said);
    said.focus(); // the button pressed is gone: keep the keyboard's place here
  }
  function toGroup(topic) {
    S.toGroup = true; S.topic = topic;
    send({ type: "cancel_support" });
    joinGroup();
  }
  function leaveChat() {
    if (!S.room) return;
    if (S.kind === "private") send({ type: "end_chat", room: S.room });
    else { send({ type: "leave", room: S.room }); forgetRoom(S.room); stopChat(); viewTopics(t("left.group")); }
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
  // typing frames have no reply, so no `ref` (SPEC 2.1 `typing`)
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
        if (S.kind === "group") S.topic = topicOf(S.room);
        viewChat(null);
      }
      setStatus("");
      resendUnanswered();
      system(missed ? t("back.missed", { n: missed }) : t("back.none"), "back");
    },
    joined(f) {
      S.room = f.room; S.handle = f.handle; S.roomLang = f.language || null; S.toGroup = false;
      S.kind = f.room === S.pairedRoom || f.room.startsWith("p-") ? "private" : "group";
      // a one-to-one room's history follows `joined` (what was said before this side was
      // seated): start below it there; a group room starts after `joined.seq`
      if (!(f.room in S.lastSeq)) S.lastSeq[f.room] = S.kind === "private" ? 0 : f.seq;
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
      if (f.handle === S.handle) aloneCheck();
      if (!S.open && f.handle !== S.handle) { S.unread += 1; unread.textContent = " " + t("unread", { n: S.unread }); unread.hidden = false; }
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
      if (f.event === "join") { S.members.add(f.handle); S.aloneTold = false; } else S.members.delete(f.handle);
      system(t(f.event === "join" ? (f.role === "listener" ? "presence.join.listener" : "presence.join") : "presence.leave", { handle: f.handle }));
    },
    presence_batch(f) { // several came and went at once: the named ones, then how many are here
      if (f.room !== S.room) return;
      for (const m of f.joins) if (m.handle !== S.handle) { S.members.add(m.handle); S.aloneTold = false; system(t(m.role === "listener" ? "presence.join.listener" : "presence.join", { handle: m.handle })); }
      for (const m of f.leaves) if (m.handle !== S.handle) { S.members.delete(m.handle); system(t("presence.leave", { handle: m.handle })); }
      if (f.joined + f.left > f.joins.length + f.leaves.length) { system(t("chat.others", { n: Math.max(S.members.size, f.joined) })); }
    },
    pong() { clearTimeout(S.pongTimer); },
    queue_position(f) {
      if (!queueInfo || !queueInfo.isConnected) viewWaiting();
      queueInfo.textContent = f.position === 1 ? t("wait.next") : t("wait.position", { n: f.position });
      etaInfo.textContent = f.eta ? t("wait.eta", { n: Math.max(1, Math.round(f.eta / 60)) }) : "";
    },
    queue_left(f) {
      if (S.toGroup) return; // on the way to the group room: `joined` follows
      S.kind = null;
      viewTopics(f.reason === "cancelled" ? t("queue.cancelled") : t("queue.closed"));
    },
    paired(f) { S.kind = "private"; S.peer = f.peer; S.topic = f.topic; S.pairedRoom = f.room; },
    language_unavailable(f) { if (S.kind === "private" && !S.room) renderLanguageChoice(f); },
    reactions(f) { S.acts.delete(f.ref); showReactions(f); },
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
        S.muted.add(muted.room + " " + muted.handle);
        system(t("done.mute", { handle: muted.handle }));
      } else if (f.action === "report") system(t("done.report"), "back");
    },
    room_mode(f) {
      if (f.room === S.room) system(f.slow ? t("slow.on", { n: f.slow }) : t("slow.off"));
    },
    held(f) {
      const pending = S.pending.get(f.ref);
      S.pending.delete(f.ref);
      renderHeld(f, pending);
    },
    crisis(f) { renderCrisis(f); say(f.text, true); },
    consent(f) { if (f.room === S.room) system(t("consent", { handle: f.handle })); },
    notice(f) {
      if (f.code === "requeued") { stopChat(); S.kind = "private"; viewWaiting(f.text); return; }
      if (log) system(f.text, f.level === "warning" ? "warn" : "", true);
      else setStatus(f.text, f.level === "warning" ? "warn" : "", true);
      if (f.code === "restored") setStatus("");
      say(f.text);
    },
    error(f) {
      if (f.code === "resume_failed") return resumeFailed();
      // a typing frame (no ref) refused while the relay is down: the `degraded` notice
      // already says so; the person did not ask for anything
      if (f.code === "unavailable" && f.ref == null) return;
      const pending = S.pending.get(f.ref);
      S.pending.delete(f.ref);
      S.acts.delete(f.ref);
      S.toGroup = false;
      if (f.code === "unavailable" && pending && pending.cid && (pending.tries || 0) < 10) {
        // the relay hiccuped: send it again by itself, as the same message (same cid)
        pending.tries = (pending.tries || 0) + 1;
        S.retrying = true;
        S.pending.set("later:" + pending.cid, pending); // a resume meanwhile sends it too
        setTimeout(() => retrySay(pending), Math.max(500, f.retry_after || 2000));
        setStatus(t("status.retrying"), "warn");
        return;
      }
      if (pending && input && !input.value) input.value = pending.text;
      if (f.code === "cooldown" && !log) return viewTopics(f.message + (f.retry_after ? " " + t("cooldown.rejoin", { n: Math.ceil(f.retry_after / 60000) }) : ""), true);
      if (log) system(f.message, "error", true); else setStatus(f.message, "error", true);
      if (f.code === "room_full" || f.code === "unknown_room") viewTopics(f.message, true);
    },
  };

  // In a group room with nobody else in it, a message reaches no one: say so, kindly, once
  // until someone comes in (a later arrival does not see earlier messages).
  function aloneCheck() {
    if (S.kind !== "group" || S.members.size || S.aloneTold) return;
    S.aloneTold = true;
    system(t("chat.alone"));
  }

  // a group room's topic: "grief@es-2" -> "grief"
  function topicOf(room) { return room.replace(/-\d+$/, "").replace(/@[a-z]+$/, ""); }

  function adopt(welcome) {
    S.token = welcome.resume_token; S.handle = welcome.handle;
    store.save();
  }

  function resumeFailed() {
    S.resuming = false; S.wantResume = false;
    const was = S.room, kind = S.kind, topic = S.topic || (was ? topicOf(was) : "");
    S.lastSeq = {};
    S.pending.clear(); // those belonged to the old session: never sent again later
    if (S.pendingWelcome) adopt(S.pendingWelcome);
    S.pendingWelcome = null;
    setStatus("");
    stopChat();
    if (kind === "group" && topic) {
      S.carryNote = t("fresh") + " " + t("fresh.group");
      send({ type: "join", room: topic, language: lang });
    } else if (kind === "private" && topic) {
      S.kind = "private";
      viewWaiting();
      body.querySelector(".queue").before(note(t("fresh") + " " + t("fresh.queue")));
      send({ type: "request_support", topic, language: lang, need: S.need || undefined });
    } else {
      store.save();
      if (S.open) viewTopics(was ? t("fresh") : undefined);
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
    toBottom();
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
  document.addEventListener("keydown", onKey, true); // the quick exit works from the start

  // ---- start: the words (this language, else English), then the launcher ----
  async function catalogue(l) {
    const res = await fetch(httpOrigin + "/i18n/widget." + l + ".json", { credentials: "omit", referrerPolicy: "no-referrer" });
    if (!res.ok) throw new Error("catalogue " + l + ": " + res.status);
    return res.json();
  }
  async function loadWords(tries) {
    try { return await catalogue(lang); } catch { /* try English */ }
    try { return await catalogue("en"); } catch { /* the server is away: try again later */ }
    await new Promise((r) => setTimeout(r, Math.min(15000, 1000 * 2 ** tries)));
    return loadWords(tries + 1);
  }
  const mount = () => document.body.append(host);
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  Promise.all([loadWords(0), styled]).then(([cat]) => {
    T = cat;
    build();
    wrap.hidden = false;
    window.__chatserverWidget = { open: openPanel, close: closePanel, quickExit, lang };
    // Came back to this tab with a conversation in progress (reload): pick it up again.
    if (saved && saved.last_seq && Object.keys(saved.last_seq).length) openPanel();
  });
  window.__chatserverWidget = { open: () => {}, close: () => {}, quickExit, lang };
})();
