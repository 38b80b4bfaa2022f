/* chatserver listener console (/listener): sign in with a listener token, set availability,
 * watch the queues, hold several one-to-one chats side by side. Protocol: protocol/SPEC.md.
 * Participant text only ever goes through textContent. Nothing is stored in the browser: the
 * listener token, the resume token and the last seq per room live in this page's memory.
 * Moderation (issue 9): per room, the people in it with "Remove", slow mode and "End room";
 * "Report" in one-to-one chats; moderators also get the "Reports" panel (next_report, moderate).
 * Words: /i18n/console.<lang>.json; the language is ?lang=xx, else the browser's. */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const NO_RECONNECT = new Set([1000, 1008, 1009, 4400]);
  const LANGS = ["en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "ru"];
  const asked = [new URLSearchParams(location.search).get("lang"), ...(navigator.languages || [navigator.language])].filter(Boolean).map(String);
  const primary = (x) => x.toLowerCase().split(/[-_]/)[0];
  const lang = asked.map(primary).find((l) => LANGS.includes(l)) || "en";
  const tag = asked.find((a) => primary(a) === lang && /[-_]/.test(a)) || lang;
  const WS_URL = location.origin.replace(/^http/, "ws") + "/?lang=" + encodeURIComponent(tag);
  let T = {};
  const plural = new Intl.PluralRules(lang);
  // t(key, {n: 2}): the catalogue's string with {placeholders} filled in; plural forms are
  // objects keyed by Intl.PluralRules categories. A missing key shows the key itself.
  function t(key, vars) {
    let s = T[key];
    if (s && typeof s === "object") s = s[plural.select(vars.n)] || s.other;
    if (typeof s !== "string") s = key;
    return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
  }
  const known = (key) => typeof T[key] === "string";
  const words = (id) => id.charAt(0).toUpperCase() + id.slice(1).replace(/[_-]/g, " ");
  const topicName = (id) => (known("topic." + id) ? t("topic." + id) : words(id));
  const topicVars = (id) => ({ Topic: topicName(id), topic: known("topic.in." + id) ? t("topic.in." + id) : words(id).toLowerCase() });
  const risk = (code) => (known("risk." + code) ? t("risk." + code) : code.replace(/_/g, " "));
  const clock = (ts) => new Date(ts).toLocaleTimeString(tag, { hour: "2-digit", minute: "2-digit" });
  // a language's name in the console's language ("es" -> "Spanish", "Spanisch")
  const langNames = (() => { try { return new Intl.DisplayNames([tag, "en"], { type: "language" }); } catch { return null; } })();
  const langName = (code) => { try { return (langNames && langNames.of(code)) || code; } catch { return code; } };
  const minutes = (s) => (s < 60 ? t("wait.s", { s }) : t("wait.min", { m: Math.floor(s / 60), s: s % 60 }));

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

  const S = {
    ws: null, token: null, listenerToken: null, lastSeq: {}, refs: 0, me: null,
    handle: "", topics: [], allTopics: [], listen: null, listening: null, chats: new Map(), paired: new Map(),
    pingTimer: 0, pongTimer: 0, retry: 0, resuming: false, welcome: null, signedOut: false,
    acts: new Map(), reportRefs: new Set(), report: null, unanswered: new Map(), languages: [],
  };

  // the header's connection line; `error` marks a refusal the listener should read
  function status(text, error, fromServer) {
    const el = $("conn");
    el.textContent = text;
    el.classList.toggle("error", !!error);
    if (fromServer) el.setAttribute("data-src", "server"); else el.removeAttribute("data-src");
  }
  function announce(text) { const r = $("polite"); r.textContent = ""; setTimeout(() => { r.textContent = text; }, 50); }

  // ---- socket ----
  function connect() {
    const ws = new WebSocket(WS_URL, ["chat.v1.json"]);
    S.ws = ws;
    status(t("conn.connecting"));
    ws.onmessage = (e) => { let f; try { f = JSON.parse(e.data); } catch { return; } if (f && typeof f.type === "string" && Object.hasOwn(HANDLERS, f.type)) HANDLERS[f.type](f); };
    ws.onclose = (e) => {
      if (S.ws !== ws) return;
      S.ws = null; clearInterval(S.pingTimer); clearTimeout(S.pongTimer);
      if (S.signedOut || NO_RECONNECT.has(e.code)) { status(t("conn.closed")); return; }
      status(t("conn.lost"));
      const delay = Math.min(15000, 500 * 2 ** S.retry) + Math.random() * 500;
      S.retry = Math.min(S.retry + 1, 6);
      setTimeout(connect, delay);
    };
  }
  function send(frame) {
    if (!S.ws || S.ws.readyState !== 1) { status(t("conn.offline")); return null; }
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
      status(t("conn.connected"));
      send({ type: "auth", token: S.listenerToken });
    },
    authed(f) {
      S.me = f; S.topics = f.topics || []; S.languages = f.languages || [];
      $("who").textContent = t(f.role === "moderator" ? "who.moderator" : "who.listener", { name: f.display_name });
      $("token").value = "";
      $("signin").hidden = true;
      for (const id of ["setup", "queues", "chats-section", "signout"]) $(id).hidden = false;
      $("reports").hidden = f.role !== "moderator";
      renderTopicChoices();
      status(t("conn.signed.in"));
      if (S.listen) send(S.listen); else $("capacity").focus();
    },
    resumed(f) {
      S.resuming = false; S.token = f.resume_token;
      for (const room of Object.keys(S.lastSeq)) if (!(room in (f.rooms || {}))) delete S.lastSeq[room];
      status(t("conn.resumed"));
      for (const [room, chat] of S.chats) if (!(room in (f.rooms || {}))) endPane(chat, t("chat.closed.away"));
      if (S.listen) send(S.listen);
      resendUnanswered();
    },
    ack(f) { S.unanswered.delete(f.ref); },
    listening(f) { S.listening = f; renderListening(); $("listen-btn").textContent = t("setup.update"); },
    queue_status(f) { renderQueues(f.queues || []); },
    paired(f) { S.paired.set(f.room, f); },
    joined(f) {
      // a one-to-one room's history follows `joined` (a chat handed over, or words said
      // before this side was seated): start below it there; a group room after `joined.seq`
      if (!(f.room in S.lastSeq)) S.lastSeq[f.room] = S.paired.has(f.room) ? 0 : f.seq;
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
      if (f.handle !== c.handle) announce(t("announce.message", { handle: f.handle, chat: c.title, text: f.text }));
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
      system(c, t(f.event === "join" ? "presence.join" : "presence.leave", { handle: f.handle }));
    },
    presence_batch(f) { // several at once: the named ones update the people list, the rest are counted
      const c = S.chats.get(f.room);
      if (!c) return;
      for (const m of f.joins) if (m.handle !== c.handle) c.members.set(m.handle, m.role);
      for (const m of f.leaves) c.members.delete(m.handle);
      renderPeople(c);
      const names = (list) => list.filter((m) => m.handle !== c.handle).map((m) => m.handle);
      for (const [named, count, verb] of [[f.joins, f.joined, " joined."], [f.leaves, f.left, " left."]]) {
        const shown = names(named), more = count - named.length;
        if (shown.length || more > 0) system(c, (shown.length ? shown.join(", ") + (more > 0 ? " and " + more + " more" : "") : more + " people") + verb);
      }
    },
    done(f) {
      const a = S.acts.get(f.ref);
      S.acts.delete(f.ref);
      if (!a || !a.text) return; // slow mode: the room_mode line says it
      if (a.c) system(a.c, a.text); else { $("report-status").textContent = a.text; $("report-status").classList.remove("error"); $("report-card").replaceChildren(); $("next-report").focus(); }
      announce(a.text);
    },
    room_mode(f) {
      const c = S.chats.get(f.room);
      if (!c || !c.slow) return;
      if (![...c.slow.options].some((o) => o.value === String(f.slow))) c.slow.append(h("option", { value: String(f.slow), text: t("slow.option", { n: f.slow }) }));
      c.slow.value = String(f.slow);
      system(c, f.slow ? t("slow.on", { n: f.slow }) : t("slow.off"));
    },
    report(f) { renderReport(f); },
    escalation(f) { escalate(f); },
    chat_ended(f) {
      const c = S.chats.get(f.room);
      delete S.lastSeq[f.room];
      if (c) endPane(c, f.text, true);
    },
    consent(f) { const c = S.chats.get(f.room); if (c) system(c, t("consent", { handle: f.handle })); },
    reactions(f) { showReactions(f); },
    notice(f) {
      const c = f.room && S.chats.get(f.room);
      if (c) system(c, f.text, "", true); else status(f.text, false, true);
    },
    held(f) { S.unanswered.delete(f.ref); const c = S.chats.get(f.room); if (c) system(c, f.text, "warn", true); },
    crisis(f) { const c = f.room && S.chats.get(f.room); if (c) system(c, f.text, "warn", true); },
    pong() { clearTimeout(S.pongTimer); },
    error(f) {
      if (f.code === "resume_failed") {
        S.resuming = false; S.lastSeq = {}; S.token = S.welcome.resume_token;
        S.unanswered.clear(); // they belonged to the old session: never sent again later
        for (const c of S.chats.values()) endPane(c, t("chat.closed.dropped"));
        send({ type: "auth", token: S.listenerToken });
        return;
      }
      if (f.code === "auth_failed" && !S.me) {
        $("signin-error").textContent = f.message;
        S.signedOut = true; S.ws.close(1000); S.token = null;
        return;
      }
      if (f.code === "unavailable" && f.ref == null) return; // a typing frame (no ref): the `degraded` notice says it
      S.acts.delete(f.ref);
      S.unanswered.delete(f.ref);
      if (S.reportRefs.has(f.ref)) { S.reportRefs.delete(f.ref); $("report-status").textContent = f.message; $("report-status").classList.toggle("error", f.code !== "queue_empty"); return; }
      const target = [...S.chats.values()].find((c) => c.refs.has(f.ref));
      if (target) system(target, f.message, "error", true); else status(f.message, true, true);
    },
  };

  // The banner names the person once, and says where: their one-to-one chat or a group.
  function escalate(f) {
    const c = S.chats.get(f.room);
    const vars = { handle: f.handle, reason: risk(f.reason), ...(c ? topicVars(c.topic) : {}) };
    const text = t(!c ? "esc.elsewhere" : c.private ? "esc.private" : "esc.group", vars);
    const item = h("div", { class: "escalation", role: "alert" }, h("p", { text }),
      c ? h("button", { type: "button", class: "secondary", text: t("esc.go"), on: { click: () => { c.input.focus(); } } }) : null,
      h("button", { type: "button", class: "link", text: t("esc.dismiss"), on: { click: () => item.remove() } }));
    $("escalations").append(item);
    if (c) {
      c.el.classList.add("escalated");
      c.flag.hidden = false; c.flag.textContent = t("flag.risk", { reason: risk(f.reason) });
      const msg = c.log.querySelector('[data-id="' + CSS.escape(f.id) + '"]');
      if (msg) msg.classList.add("flagged");
    }
  }

  // ---- queues and availability ----
  function renderTopicChoices() {
    const box = $("topics");
    box.replaceChildren(h("legend", { text: t("setup.topics") }), ...S.topics.map((id) => h("div", { class: "check" },
      h("input", { type: "checkbox", id: "topic-" + id, value: id, checked: true }),
      h("label", { for: "topic-" + id, text: topicName(id) }))));
    $("group-topic").replaceChildren(...S.allTopics.map((id) => h("option", { value: id, text: topicName(id) })));
    // the languages of the sign-in code, all offered unless unticked (names from the browser)
    $("languages").replaceChildren(h("legend", { text: t("setup.languages") }), ...S.languages.map((code) => h("div", { class: "check" },
      h("input", { type: "checkbox", id: "lang-" + code, value: code, checked: true }),
      h("label", { for: "lang-" + code, lang: code, "data-src": "intl", text: langName(code) }))));
  }
  // "Listening on Grief. 1 of 2 chats": the count is the console's own open one-to-one chats,
  // so it changes as chats open and end (the server sends `listening` only on `listen`).
  function renderListening() {
    const f = S.listening;
    if (!f) return;
    const active = [...S.chats.values()].filter((c) => c.private && !c.ended).length;
    $("listening").textContent = f.capacity === 0 ? t("listening.paused") :
      t(f.auto ? "listening.auto" : "listening.manual", { topics: f.topics.map(topicName).join(", "), active, n: f.capacity });
  }
  function renderQueues(queues) {
    $("queue-rows").replaceChildren(...queues.flatMap((q) => [h("tr", { class: q.at_risk ? "risk" : "" },
      h("th", { scope: "row", text: topicName(q.topic) }),
      h("td", { text: q.reconnecting ? t("queues.waiting.reconnecting", { n: q.waiting, r: q.reconnecting }) : String(q.waiting) }),
      h("td", { text: q.waiting ? minutes(q.longest_wait) : "\u2014" }),
      h("td", {}, q.at_risk ? h("span", { class: "risk-mark", text: t("queues.at.risk", { n: q.at_risk }) }) : "0"),
      h("td", { class: "act" }, h("button", { type: "button", class: "secondary small", disabled: !q.waiting, "aria-label": t("queues.accept.in", topicVars(q.topic)), text: t("queues.accept"), on: { click: () => send({ type: "accept", topic: q.topic }) } }))),
    // who waits in which language, under the topic's row
    ...(q.languages || []).map((l) => h("tr", { class: "lang" + (l.at_risk ? " risk" : "") },
      h("th", { scope: "row" }, h("span", { "data-src": "intl", lang: l.language, text: langName(l.language) })),
      h("td", { text: String(l.waiting) }),
      h("td", { text: l.waiting ? minutes(l.longest_wait) : "\u2014" }),
      h("td", {}, l.at_risk ? h("span", { class: "risk-mark", text: t("queues.at.risk", { n: l.at_risk }) }) : "0"),
      h("td", {})))]));
  }
  // The local demo (no secret set, loopback): this machine may sign in without a code.
  async function offerLocal() {
    let token = null;
    try {
      const res = await fetch("/listener/local-token", { credentials: "omit" });
      if (res.ok) token = (await res.json()).token;
    } catch { return; }
    if (!token) return;
    $("local").hidden = false;
    $("local-signin").addEventListener("click", () => { $("token").value = token; $("signin-form").requestSubmit(); });
  }
  function wire() {
    offerLocal();
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
      const languages = [...$("languages").querySelectorAll("input:checked")].map((i) => i.value);
      S.listen = { type: "listen", capacity: Math.max(0, Number($("capacity").value) || 0), topics, auto: $("auto").checked };
      if (languages.length) S.listen.languages = languages;
      send(S.listen);
    });
    $("group-form").addEventListener("submit", (e) => { e.preventDefault(); send({ type: "join", room: $("group-topic").value }); });
    $("accept-any").addEventListener("click", () => send({ type: "accept" }));
    $("next-report").addEventListener("click", () => { const ref = send({ type: "next_report" }); if (ref) S.reportRefs.add(ref); });
    $("signout").addEventListener("click", () => {
      S.signedOut = true;
      if (S.ws) S.ws.close(1000, "signed out");
      location.replace("/listener" + location.search);
    });
  }

  // ---- chat panes ----
  function syncEmpty() { $("no-chats").hidden = S.chats.size > 0; renderListening(); }
  function openPane(f) {
    if (S.chats.has(f.room)) return;
    const p = S.paired.get(f.room);
    const isPrivate = !!p;
    const topic = isPrivate ? p.topic : f.room.replace(/-\d+$/, "");
    const title = isPrivate ? t("chat.title.private", { handle: p.peer.handle, ...topicVars(topic) }) : t("chat.title.group", topicVars(topic));
    const id = "chat-" + f.room.replace(/[^a-zA-Z0-9-]/g, "");
    const c = { room: f.room, title, topic, private: isPrivate, ended: false, handle: f.handle, typers: new Map(), refs: new Set(), peer: p ? p.peer.handle : null, rx: new Map(), rxViews: new Map(),
      members: new Map((f.members || []).filter((m) => m.handle !== f.handle).map((m) => [m.handle, m.role])) };
    c.log = h("ol", { class: "log" });
    const logBox = h("div", { class: "logbox", role: "log", "aria-label": t("chat.log", { chat: title }), tabindex: "0" }, c.log);
    c.typing = h("p", { class: "typing", "aria-hidden": "true" });
    c.flag = h("p", { class: "flag", hidden: true });
    c.input = h("textarea", { id: id + "-input", rows: "2", on: { keydown: (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(c); } }, input: () => typed(c) } });
    c.form = h("form", { class: "composer", on: { submit: (e) => { e.preventDefault(); sendText(c); } } },
      h("label", { for: id + "-input", class: "sr", text: t("chat.to", { chat: isPrivate ? p.peer.handle : title }) }), c.input,
      h("button", { type: "submit", class: "primary", text: t("send") }));
    c.el = h("article", { class: "chat", id, "aria-labelledby": id + "-title" },
      h("div", { class: "chat-head" },
        isPrivate ? h("h3", { id: id + "-title" }, h("span", { "data-src": "person", text: p.peer.handle }), " \u00b7 ", h("span", { text: topicName(topic) }))
          : h("h3", { id: id + "-title", text: title }),
        p && p.at_risk ? h("span", { class: "risk-mark", text: t("chat.at.risk") }) : null),
      c.flag, isPrivate ? null : roomTools(c, id), logBox, c.typing, c.form, h("div", { class: "row actions" }, chatActions(c, isPrivate)));
    S.chats.set(f.room, c);
    $("chats").append(c.el);
    syncEmpty();
    system(c, isPrivate ? t("chat.start.private", { handle: p.peer.handle, ...topicVars(topic) }) : t("chat.start.group", { handle: f.handle }));
    for (const line of aboutChat(p, f)) system(c, line, "about");
    announce(t(p && p.at_risk ? "announce.new.risk" : "announce.new", { chat: title }));
    if (p && p.at_risk) c.el.classList.add("escalated");
  }
  /* What the seeker asked for, shown when the chat opens: their language (and whether they
   * chose any listener), and their need when they said one; a group room's language. */
  function aboutChat(p, f) {
    if (!p) return f.language ? [t("room.language", { language: langName(f.language) })] : [];
    const out = [];
    if (p.language) out.push(t(p.shared === false ? "chat.language.any" : "chat.language", { language: langName(p.language) }));
    if (p.need === "listen") out.push(t("chat.need.listen"));
    if (p.need === "ideas") out.push(t("chat.need.ideas"));
    return out;
  }
  /* Buttons under each chat: leave / end room for a group, hand over / report / end chat for
   * a one-to-one chat. */
  function chatActions(c, isPrivate) {
    if (!isPrivate) {
      return [
        h("button", { type: "button", class: "secondary", text: t("room.leave"), on: { click: () => send({ type: "leave", room: c.room }) } }),
        h("button", { type: "button", class: "danger", text: t("room.end"), on: { click: () => confirmThen(t("room.end.confirm", { chat: c.title }), t("room.end"), () => act(c, { type: "end_room", room: c.room }, t("room.ended"))) } }),
      ];
    }
    return [
      h("button", { type: "button", class: "secondary", text: t("chat.handover"), on: { click: () => c.refs.add(send({ type: "handover", room: c.room })) } }),
      h("button", { type: "button", class: "secondary", text: t("chat.report"), "aria-label": t("report.title", { handle: c.peer }), on: { click: () => openReport(c) } }),
      h("button", { type: "button", class: "danger", text: t("chat.end"), on: { click: () => c.refs.add(send({ type: "end_chat", room: c.room })) } }),
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
      [0, 10, 30, 60].map((n) => h("option", { value: String(n), text: n ? t("slow.option", { n }) : t("slow.option.off") })));
    c.people = h("ul", { class: "people", "aria-labelledby": id + "-people" });
    renderPeople(c);
    return h("div", { class: "tools" },
      h("div", { class: "check" }, h("label", { for: id + "-slow", text: t("slow.label") }), c.slow),
      h("h4", { id: id + "-people", text: t("people.title") }), c.people);
  }
  function renderPeople(c) {
    if (!c.people) return;
    const people = [...c.members].sort((a, b) => a[0].localeCompare(b[0]));
    c.people.replaceChildren(...(people.length ? people.map(([handle, role]) => h("li", {},
      h("span", { class: "who", "data-src": "person", text: handle }),
      role !== "seeker" ? h("span", { class: "badge", text: t("role." + role) }) : null,
      role === "seeker" ? h("button", { type: "button", class: "danger small", text: t("people.remove"), "aria-label": t("people.remove.label", { handle }), on: { click: () => confirmThen(
        t("people.remove.confirm", { handle, chat: c.title }), t("people.remove"),
        () => act(c, { type: "remove", room: c.room, handle }, t("people.removed", { handle }))) } }) : null))
      : [h("li", { class: "muted", text: t("people.none") })]));
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
    $("report-title").textContent = t("report.title", { handle: c.peer });
    d.returnValue = "";
    d.onclose = () => {
      if (back && back.isConnected) back.focus();
      if (d.returnValue !== "send") return;
      const frame = { type: "report", room: c.room, reason: $("report-form").elements.reason.value, handle: c.peer };
      const note = $("report-note").value.trim();
      if (note) frame.note = note;
      act(c, frame, t("report.sent"));
    };
    d.showModal();
  }
  function renderReport(f) {
    S.report = f;
    const line = (m, reported) => h("li", { class: "msg" + (reported ? " flagged" : "") },
      h("p", { class: "meta" }, h("span", { class: "who", "data-src": "person", text: m.handle }),
        m.role && m.role !== "seeker" ? h("span", { class: "badge", text: t("role." + m.role) }) : null,
        h("time", { datetime: new Date(m.ts).toISOString(), text: clock(m.ts) }),
        reported ? h("span", { class: "reported", text: t("report.reported") }) : null),
      h("p", { class: "text", "data-src": "person", text: m.text }));
    const topic = f.room.replace(/-\d+$/, "");
    const where = f.room.startsWith("p-") ? t("report.where.private", { handle: f.handle }) : t("report.where.group", { handle: f.handle, room: f.room, ...topicVars(topic) });
    const moderate = (action, text, extra) => h("button", { type: "button", class: action === "dismiss" ? "secondary" : "danger", text,
      on: { click: () => act(null, { type: "moderate", report: f.id, action, ...extra }, t("report.done", { action: text })) } });
    $("report-status").textContent = "";
    $("report-card").replaceChildren(
      h("h3", { id: "report-reason", tabindex: "-1", text: known("reason." + f.reason) ? t("reason." + f.reason) : f.reason }),
      h("p", {}, h("span", { text: where }), " ", h("span", { text: t("report.expires", { time: clock(f.expires), date: new Date(f.expires).toLocaleDateString(tag) }) })),
      h("ol", { class: "log", "aria-label": f.message ? t("report.context.message") : t("report.context.room") },
        (f.context || []).map((m) => line(m, false)), f.message ? line(f.message, true) : null),
      f.note ? h("p", { class: "note" }, h("strong", { text: t("report.note.label") }), " ", h("span", { "data-src": "person", text: f.note })) : h("p", { class: "muted", text: t("report.no.note") }),
      h("div", { class: "row" },
        moderate("remove", t("mod.remove")),
        moderate("suspend", t("mod.suspend"), { minutes: 60 }),
        moderate("dismiss", t("mod.dismiss"))));
    $("report-reason").focus();
  }
  function endPane(c, text, fromServer) {
    system(c, text || t("chat.ended"), "", fromServer && !!text);
    c.ended = true;
    c.el.classList.add("ended");
    c.form.hidden = true;
    renderListening();
    const close = h("button", { type: "button", class: "secondary", text: t("chat.close"), on: { click: () => { c.el.remove(); S.chats.delete(c.room); syncEmpty(); $("accept-any").focus(); } } });
    c.el.querySelector(".actions").replaceChildren(close);
  }
  function logScroll(c) { const box = c.log.parentElement; box.scrollTop = box.scrollHeight; }
  function system(c, text, cls, fromServer) {
    c.log.append(h("li", { class: "system " + (cls || "") }, h("p", { "data-src": fromServer ? "server" : null, text })));
    logScroll(c);
  }
  function renderMessage(c, m) {
    const mine = m.handle === c.handle;
    const meta = h("p", { class: "meta" },
      mine ? h("span", { class: "who", text: t("you") }) : h("span", { class: "who", "data-src": "person", text: m.handle }),
      m.role !== "seeker" && !mine ? h("span", { class: "badge", text: t("role." + m.role) }) : null,
      h("time", { datetime: new Date(m.ts).toISOString(), text: clock(m.ts) }));
    const text = h("p", { class: "text", "data-src": "person", text: m.text });
    const rx = m.id ? reactionsFor(c, m, mine) : null; // behind a content warning, with the words
    const content = m.cw
      ? h("details", { class: "cw" }, h("summary", { text: t("cw.summary", { category: known("cw." + m.cw) ? t("cw." + m.cw) : words(m.cw).toLowerCase() }) }), text, rx)
      : [text, rx];
    c.log.append(h("li", { class: "msg" + (mine ? " mine" : ""), "data-id": m.id, "data-seq": String(m.seq) }, meta, content));
    logScroll(c);
  }
  // ---- supportive reactions: a toolbar under other people's messages (one Tab stop, arrow
  // keys between the four toggle buttons), and what others gave under your own ----
  const REACTIONS = { hear_you: "rx.hear_you", strength: "rx.strength", same_here: "rx.same_here", thanks_for_sharing: "rx.thanks_for_sharing" };
  function reactionsFor(c, m, mine) {
    const el = mine ? h("p", { class: "heard", hidden: true }) : h("div", { class: "reactions", role: "toolbar", "aria-label": t("rx.bar", { handle: m.handle }), on: { keydown: toolbarKey } });
    const update = () => {
      const got = c.rx.get(m.id) || { counts: {}, mine: [] };
      if (mine) {
        const given = Object.keys(REACTIONS).filter((r) => got.counts[r]);
        el.hidden = !given.length;
        el.replaceChildren(h("span", { text: t("rx.yours") }), ...given.map((r) => h("span", { class: "rx" }, h("span", { text: t(REACTIONS[r]) }), " ", h("span", { class: "n", text: String(got.counts[r]) }))));
        return;
      }
      const focused = el.contains(document.activeElement) ? [...el.children].indexOf(document.activeElement) : -1;
      el.replaceChildren(...Object.keys(REACTIONS).map((r, i) => {
        const n = got.counts[r] || 0, pressed = (got.mine || []).includes(r);
        return h("button", { type: "button", class: "rx", "aria-pressed": String(pressed), tabindex: i === Math.max(0, focused) ? "0" : "-1",
          "aria-label": n ? t("rx.label", { reaction: t(REACTIONS[r]), n }) : null,
          on: { click: () => { const ref = send({ type: "react", room: c.room, id: m.id, reaction: r, undo: pressed || undefined }); if (ref) c.refs.add(ref); } } },
        h("span", { text: t(REACTIONS[r]) }), n ? h("span", { class: "n", "aria-hidden": "true", text: String(n) }) : null);
      }));
      if (focused >= 0) el.children[focused].focus();
    };
    c.rxViews.set(m.id, update);
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
  function showReactions(f) {
    const c = S.chats.get(f.room);
    if (!c) return;
    const before = c.rx.get(f.id);
    c.rx.set(f.id, { counts: f.counts || {}, mine: f.mine || (before ? before.mine : []) });
    const update = c.rxViews.get(f.id);
    if (update) update();
  }
  function renderTyping(c) {
    const names = [...c.typers.keys()];
    c.typing.textContent = names.length ? t(names.length > 1 ? "typing.many" : "typing.one", { names: names.join(", ") }) : "";
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
    stopTyping(c);
  }
  // typing frames have no reply, so no `ref` (the server refuses one: SPEC 2.1 `typing`)
  function typing(c, active) { if (S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify({ type: "typing", room: c.room, active })); }
  function typed(c) {
    const now = Date.now();
    if (now - (c.typingSent || 0) > 3000) { c.typingSent = now; typing(c, true); }
    clearTimeout(c.typingTimer);
    c.typingTimer = setTimeout(() => stopTyping(c), 4000);
  }
  function stopTyping(c) {
    clearTimeout(c.typingTimer);
    if (c.typingSent) typing(c, false);
    c.typingSent = 0;
  }

  // ---- start: the words (this language, else English), then the page ----
  function translatePage() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    document.body.hidden = false;
  }
  async function catalogue(l) {
    const res = await fetch("/i18n/console." + l + ".json", { credentials: "omit" });
    if (!res.ok) throw new Error("catalogue " + l + ": " + res.status);
    return res.json();
  }
  (async () => {
    try { T = await catalogue(lang); } catch { T = await catalogue("en").catch(() => ({})); }
    translatePage();
    wire();
  })();
})();
