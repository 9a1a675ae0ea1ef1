// Livecart sandbox page: plain JavaScript, no build step, no libraries.
//
// Safety rule: text from the bot or a user is only ever put on the page with textContent /
// createTextNode. Formatting comes from the message's entities (offsets in UTF-16 code units,
// which is what JavaScript strings index), never from HTML.
"use strict";

(() => {
  const POLL_MS = 500;
  const HIDDEN_POLL_MS = 3000;
  const STATE_MS = 2000;
  const TYPING_MAX_MS = 6000;
  const ANSWER_GRACE_MS = 2500; // after a silent answer to a tap, how long an edit may take to show
  const DEFAULT_PLACEHOLDER = "消息 · Message";

  const S = {
    personas: [], byKey: {}, current: null, bot: { username: "", name: "Livecart", ready: false },
    etag: null, rendered: new Map(), counts: {}, lastSeen: {}, keyboardJson: null, kbdHidden: false,
    commands: [], links: [], samples: [], locations: [], waitingSince: 0, botSig: "",
    pollTimer: null, polling: false, pollAgain: false, chatGen: 0, firstRender: true, offline: false,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function api(path, body) {
    const init = body === undefined
      ? { cache: "no-store" }
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const res = await fetch(path, init);
    let data = {};
    try { data = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
    return data;
  }

  const persona = () => S.byKey[S.current];

  // ---------------------------------------------------------------- links and commands

  function startPayload(url) {
    // A t.me link to this bot: opening it sends "/start <payload>", as in Telegram.
    let u;
    try { u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `https://${url}`); } catch (_) { return null; }
    if (!/^https?:$/.test(u.protocol) || !["t.me", "telegram.me", "www.t.me"].includes(u.hostname)) return null;
    if (u.pathname.replace(/^\/+|\/+$/g, "").toLowerCase() !== S.bot.username.toLowerCase()) return null;
    const start = u.searchParams.get("start");
    return start && /^[A-Za-z0-9_-]{1,64}$/.test(start) ? start : "";
  }

  function startAppPayload(url) {
    // t.me/<bot>?startapp=<payload>: the bot's Main Mini App, opened at that payload.
    let u;
    try { u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `https://${url}`); } catch (_) { return null; }
    if (!["t.me", "telegram.me", "www.t.me"].includes(u.hostname)) return null;
    if (u.pathname.replace(/^\/+|\/+$/g, "").toLowerCase() !== S.bot.username.toLowerCase()) return null;
    const start = u.searchParams.get("startapp");
    return start !== null && /^[A-Za-z0-9_-]{0,64}$/.test(start) ? start : null;
  }

  // ---------------------------------------------------------------- the Mini App panel

  async function openMiniApp(pageUrl, start) {
    // As Telegram does: the page opens over the chat, signed in as the current persona, its init
    // data in the address's fragment (the sandbox signs it with the bot's token).
    let u;
    try { u = new URL(pageUrl, location.href); } catch (_) { return; }
    if (u.origin !== location.origin || !u.pathname.startsWith("/app/")) {
      toast("沙盒只打开本机的小程序 · The sandbox opens only its own Mini App");
      return;
    }
    let signed;
    try {
      signed = await api(`/api/webapp/${S.current}` + (start ? `?start=${encodeURIComponent(start)}` : ""));
    } catch (e) { toast(e.message); return; }
    const frame = $("miniapp-frame");
    frame.src = `${u.pathname}${u.search}#tgWebAppData=${encodeURIComponent(signed.init_data)}`;
    $("miniapp").hidden = false;
  }

  function closeMiniApp() {
    $("miniapp").hidden = true;
    $("miniapp-frame").src = "about:blank";
    pollSoon();
  }

  // The Mini App's contact request posts the persona's own contact into the chat, as Telegram does.
  window.__sandboxShareContact = async () => {
    await api(`/api/chats/${S.current}/contact`, {});
    pollSoon();
    return true;
  };

  function openUrl(url) {
    const app = startAppPayload(url);
    if (app !== null) {
      openMiniApp("/app/", app);
      return;
    }
    const payload = startPayload(url);
    if (payload !== null) {
      sendText(payload ? `/start ${payload}` : "/start");
      return;
    }
    let u;
    try { u = new URL(url); } catch (_) { return; }
    if (u.protocol === "http:" || u.protocol === "https:") window.open(u.href, "_blank", "noopener,noreferrer");
    else toast(`沙盒里打不开这个链接\nThe sandbox cannot open ${u.protocol} links`);
  }

  function linkNode(url) {
    const payload = startPayload(url);
    if (payload !== null) {
      const a = el("a");
      a.href = url.includes("://") ? url : `https://${url}`;
      a.title = "在此聊天中打开 · Opens in this chat";
      a.addEventListener("click", (e) => { e.preventDefault(); openUrl(url); });
      return a;
    }
    let u = null;
    try { u = new URL(url.includes("://") ? url : `https://${url}`); } catch (_) { /* not a URL */ }
    if (u && (u.protocol === "http:" || u.protocol === "https:")) {
      const a = el("a");
      a.href = u.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      return a;
    }
    return el("span");
  }

  function commandNode(command) {
    const span = el("span", "cmd");
    span.setAttribute("role", "link");
    span.addEventListener("click", () => sendText(command.split("@")[0]));
    return span;
  }

  // ---------------------------------------------------------------- text with entities

  const LINKIFY = /(https?:\/\/[^\s<>"'，。！？、；：）】」]+)|((?<=^|[\s(（:：，,])\/[A-Za-z][A-Za-z0-9_]{0,31}(?:@[A-Za-z0-9_]+)?(?![A-Za-z0-9_/]))/g;

  // linkify: "all" in the bot's messages (URLs and /commands, as Telegram apps show them), "urls" in a
  // person's own (their commands already carry bot_command entities), "" inside links and code.
  function appendPlain(parent, text, linkify) {
    if (!linkify) { parent.appendChild(document.createTextNode(text)); return; }
    let last = 0;
    for (const match of text.matchAll(LINKIFY)) {
      let found = match[0];
      if (match[1]) found = found.replace(/[.,;:!?)\]]+$/, "");
      if (!found || (!match[1] && linkify !== "all")) continue;
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      const node = match[1] ? linkNode(found) : commandNode(found);
      node.textContent = found;
      parent.appendChild(node);
      last = match.index + found.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function entityNode(entity, text) {
    const covered = text.slice(entity.offset, entity.offset + entity.length);
    switch (entity.type) {
      case "bold": return [el("strong"), true];
      case "italic": return [el("em"), true];
      case "underline": return [el("u"), true];
      case "strikethrough": return [el("s"), true];
      case "code": return [el("code"), false];
      case "pre": {
        const pre = el("pre");
        const code = el("code");
        pre.appendChild(code);
        return [pre, false, code];
      }
      case "blockquote": case "expandable_blockquote": return [el("blockquote"), true];
      case "spoiler": {
        const span = el("span", "spoiler");
        span.title = "点击显示 · Tap to reveal";
        span.addEventListener("click", () => span.classList.toggle("shown"));
        return [span, true];
      }
      case "text_link": return [linkNode(entity.url || ""), false];
      case "url": return [linkNode(covered), false];
      case "bot_command": return [commandNode(covered), false];
      case "mention": case "text_mention": return [el("span", "mention"), false];
      case "hashtag": case "cashtag": return [el("span", "tag"), false];
      default: return [el("span"), true];
    }
  }

  // Entities are well nested (Telegram's parser guarantees it); one that crosses its parent's
  // end is cut there, so a malformed set still renders all the text exactly once.
  function build(parent, text, start, end, entities, linkify) {
    let pos = start;
    let i = 0;
    while (i < entities.length) {
      const entity = entities[i];
      const entityEnd = Math.min(entity.offset + entity.length, end);
      const inner = [];
      let j = i + 1;
      while (j < entities.length && entities[j].offset < entityEnd) {
        const child = entities[j];
        inner.push(child.offset + child.length > entityEnd ? { ...child, length: entityEnd - child.offset } : child);
        j += 1;
      }
      const from = Math.max(entity.offset, pos);
      if (from > pos) appendPlain(parent, text.slice(pos, from), linkify);
      const [node, innerLinkify, target] = entityNode(entity, text);
      build(target || node, text, from, entityEnd, inner.filter((e) => e.offset >= from), innerLinkify ? linkify : "");
      parent.appendChild(node);
      pos = Math.max(pos, entityEnd);
      i = j;
    }
    if (pos < end) appendPlain(parent, text.slice(pos, end), linkify);
  }

  function renderText(text, entities, linkify) {
    const fragment = document.createDocumentFragment();
    const sorted = (entities || [])
      .filter((e) => e && e.length > 0 && e.offset >= 0 && e.offset < text.length)
      .map((e) => ({ ...e, length: Math.min(e.length, text.length - e.offset) }))
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    build(fragment, text, 0, text.length, sorted, linkify);
    return fragment;
  }

  // ---------------------------------------------------------------- one message

  function clock(seconds) {
    const d = new Date(seconds * 1000);
    return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  }

  function fileSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function photoNode(src, width, height, caption) {
    const img = el("img", "photo");
    img.src = src;
    img.alt = caption ? caption.slice(0, 80) : "photo";
    if (width && height) { img.width = width; img.height = height; }
    img.addEventListener("click", () => lightbox(src, caption));
    return img;
  }

  function renderMessage(m, flags) {
    const wrap = el("div", `msg ${m.out ? "out" : "in"}`);
    if (flags.first) wrap.classList.add("first");
    if (flags.last) wrap.classList.add("last");
    wrap.dataset.id = String(m.id);
    wrap.dataset.kind = m.kind;
    const bubble = el("div", "bubble");
    wrap.appendChild(bubble);

    if (m.reply_to) bubble.appendChild(el("div", "reply-quote", m.reply_to.text || "…"));
    let media = false;
    if (m.photo) {
      media = true;
      bubble.appendChild(photoNode(m.photo.src, m.photo.width, m.photo.height, m.text));
    } else if (m.document) {
      const doc = m.document;
      if (doc.image) {
        media = true;
        bubble.appendChild(photoNode(doc.src, 0, 0, m.text));
      }
      const row = el("a", "doc");
      row.href = doc.src;
      row.setAttribute("download", doc.name);
      row.appendChild(el("span", "doc-icon", doc.image ? "🖼" : "📄"));
      const info = el("span");
      info.appendChild(el("span", "doc-name", doc.name));
      info.appendChild(el("span", "doc-size", `${fileSize(doc.size)} · 下载 download`));
      row.appendChild(info);
      bubble.appendChild(row);
    } else if (m.contact) {
      const row = el("div", "card-row");
      row.appendChild(el("span", "contact-av", "📱"));
      const info = el("span");
      info.appendChild(el("span", "card-title", m.contact.name || "Contact"));
      info.appendChild(el("span", "card-sub", m.contact.phone));
      row.appendChild(info);
      bubble.appendChild(row);
    } else if (m.location) {
      const map = el("div", "map");
      map.appendChild(el("span", "pin", "📍"));
      bubble.appendChild(map);
      bubble.appendChild(el("div", "map-caption",
        `位置 Location · ${m.location.latitude.toFixed(4)}, ${m.location.longitude.toFixed(4)}`));
    } else if (m.invoice) {
      const inv = m.invoice;
      const row = el("div", "card-row");
      row.appendChild(el("span", "contact-av", "🧾"));
      const info = el("span");
      info.appendChild(el("span", "card-title", inv.title || "Invoice"));
      info.appendChild(el("span", "card-sub", `${inv.description || ""} · ${(inv.total_amount / 100).toFixed(2)} ${inv.currency}`));
      row.appendChild(info);
      bubble.appendChild(row);
    }
    if (media) { bubble.classList.add("media"); wrap.classList.add("with-media"); }

    const meta = el("span", "meta", `${m.edited ? "已编辑 edited · " : ""}${clock(m.date)}`);
    if (m.text) {
      const text = el("div", "text");
      text.appendChild(renderText(m.text, m.entities, m.out ? "urls" : "all"));
      text.appendChild(meta);
      bubble.appendChild(text);
    } else {
      if (media) bubble.classList.add("bare");
      bubble.appendChild(meta);
    }
    if (m.buttons && m.buttons.length) {
      wrap.classList.add("has-kbd");
      wrap.appendChild(renderInlineKeyboard(m));
    }
    return wrap;
  }

  function renderInlineKeyboard(m) {
    const box = el("div", "ikb");
    m.buttons.forEach((row, r) => {
      const rowNode = el("div", "ikb-row");
      row.forEach((b, c) => {
        const button = el("button", b.type === "url" ? "url" : "", b.text);
        button.type = "button";
        button.title = b.type === "url" ? `${b.text}\n${b.url}` : b.text;
        if (b.action) button.dataset.action = b.action;
        button.addEventListener("click", () => onInlineButton(m.id, r, c, b, button));
        rowNode.appendChild(button);
      });
      box.appendChild(rowNode);
    });
    return box;
  }

  async function onInlineButton(messageId, row, column, b, button) {
    if (b.type === "url") { openUrl(b.url); return; }
    if (b.type === "web_app") { openMiniApp(b.url, null); return; }
    if (b.type === "copy") {
      try { await navigator.clipboard.writeText(b.copy); toast("已复制 · Copied"); } catch (_) { toast(b.copy); }
      return;
    }
    if (b.type !== "callback") { toast("沙盒不支持这种按钮 · Not supported in the sandbox"); return; }
    if (button.classList.contains("busy")) return;
    const key = S.current;
    button.classList.add("busy");
    markWaiting();
    try {
      const answer = await api(`/api/chats/${key}/tap`, { message_id: messageId, row, column });
      if (key === S.current) stopTypingAfterAnswer(answer);
      if (answer.text && key === S.current) {
        if (answer.alert) await alertDialog(answer.text);
        else toast(answer.text);
      }
    } catch (e) {
      toast(e.message);
    } finally {
      button.classList.remove("busy");
      pollSoon();
    }
  }

  // ---------------------------------------------------------------- the chat

  function typingNode() {
    if (!S.typingEl) {
      S.typingEl = el("div", "typing-bubble");
      S.typingEl.setAttribute("aria-label", "typing");
      for (let i = 0; i < 3; i += 1) S.typingEl.appendChild(el("i"));
    }
    return S.typingEl;
  }

  function emptyNode() {
    if (!S.emptyEl) {
      const card = el("div", "empty");
      card.appendChild(el("span", "big", "🛒"));
      card.appendChild(el("b", "", "Livecart"));
      card.appendChild(el("span", "", "把直播间变成小店：扫码、下单，几下就好。"));
      card.appendChild(el("br"));
      card.appendChild(el("span", "", "Turns a livestream into a shop. Tap START to talk to the bot."));
      S.emptyEl = card;
    }
    return S.emptyEl;
  }

  function renderChat(data) {
    const chat = $("chat");
    const box = $("messages");
    const nearBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 120;
    const messages = data.messages;
    const seen = new Set();
    let newest = null;
    let added = false;
    messages.forEach((m, index) => {
      const previous = messages[index - 1];
      const next = messages[index + 1];
      const flags = { first: !previous || previous.out !== m.out, last: !next || next.out !== m.out };
      const json = JSON.stringify([m, flags]);
      seen.add(m.id);
      const known = S.rendered.get(m.id);
      if (known && known.json === json) return;
      const node = renderMessage(m, flags);
      if (known) known.node.replaceWith(node);
      else added = true;
      S.rendered.set(m.id, { json, node });
      newest = m;
    });
    for (const [id, known] of S.rendered) {
      if (!seen.has(id)) { known.node.remove(); S.rendered.delete(id); }
    }
    // Put nodes in message order (new ones are appended; edits keep their place).
    let cursor = box.firstChild;
    for (const m of messages) {
      const node = S.rendered.get(m.id).node;
      if (node !== cursor) box.insertBefore(node, cursor);
      else cursor = cursor.nextSibling;
    }
    if (S.emptyEl && S.emptyEl.parentNode) S.emptyEl.remove();
    if (!messages.length) box.appendChild(emptyNode());
    $("start-bar").hidden = messages.length > 0;
    $("composer").hidden = messages.length === 0;

    // The bot answered (a new or changed bot message): stop the typing dots.
    const botSig = messages.filter((m) => !m.out).map((m) => S.rendered.get(m.id).json).join("\n");
    if (botSig !== S.botSig) { S.botSig = botSig; S.waitingSince = 0; }
    updateTyping();

    renderReplyKeyboard(data.keyboard);
    S.commands = data.commands || [];
    if (S.firstRender || nearBottom || (added && newest && newest.out)) scrollToBottom();
    S.firstRender = false;
  }

  function scrollToBottom() {
    const chat = $("chat");
    chat.scrollTop = chat.scrollHeight;
    // Photos may still be loading without known sizes: once more after they paint.
    requestAnimationFrame(() => { chat.scrollTop = chat.scrollHeight; });
  }

  function markWaiting() {
    S.waitingSince = Date.now();
    updateTyping();
  }

  // The bot answered the tap. A toast or alert is its whole answer (nothing else is coming), so
  // the dots stop now; a silent answer usually comes with an edit, which stops them when it
  // shows, or they stop after a short grace if none does.
  function stopTypingAfterAnswer(answer) {
    if (!S.waitingSince) return;
    if (answer.text || !answer.answered) {
      S.waitingSince = 0;
      updateTyping();
      return;
    }
    const since = S.waitingSince;
    setTimeout(() => {
      if (S.waitingSince !== since) return;
      S.waitingSince = 0;
      updateTyping();
    }, ANSWER_GRACE_MS);
  }

  function updateTyping() {
    const waiting = S.waitingSince && Date.now() - S.waitingSince < TYPING_MAX_MS;
    const node = typingNode();
    const box = $("messages");
    if (waiting) {
      if (node.parentNode !== box || node !== box.lastChild) { box.appendChild(node); scrollToBottom(); }
    } else if (node.parentNode) {
      node.remove();
    }
    const sub = $("bot-sub");
    sub.classList.toggle("typing", Boolean(waiting));
    sub.textContent = S.offline ? "连接中… connecting…" : waiting ? "正在输入… typing…" : `机器人 bot · @${S.bot.username}`;
  }

  function renderReplyKeyboard(keyboard) {
    const json = JSON.stringify(keyboard);
    if (json === S.keyboardJson) return;
    S.keyboardJson = json;
    S.kbdHidden = false;
    const box = $("reply-kbd");
    const toggle = $("kbd-toggle");
    box.textContent = "";
    if (!keyboard) {
      box.hidden = true;
      toggle.hidden = true;
      updatePlaceholder();
      return;
    }
    for (const row of keyboard.rows) {
      const rowNode = el("div", "row");
      for (const key of row) {
        const button = el("button", "", key.text);
        button.type = "button";
        button.dataset.kind = key.type;
        button.addEventListener("click", () => onReplyKey(key));
        rowNode.appendChild(button);
      }
      box.appendChild(rowNode);
    }
    box.hidden = false;
    toggle.hidden = false;
    toggle.classList.add("on");
    updatePlaceholder();
  }

  function updatePlaceholder() {
    const p = persona();
    const keyboard = S.keyboardJson ? JSON.parse(S.keyboardJson) : null;
    $("input").placeholder = (keyboard && keyboard.placeholder) || DEFAULT_PLACEHOLDER;
    $("input").title = p ? `${p.role_zh} ${p.name} · ${p.role_en}` : "";
  }

  async function onReplyKey(key) {
    if (key.type === "contact") {
      const p = persona();
      const ok = await confirmDialog("分享你的手机号？ Share your phone number?",
        `${p.name} · ${p.phone}\n机器人将收到这个号码。The bot will receive this number.`, "分享 Share");
      if (ok) act("contact", { keyboard: true });
    } else if (key.type === "location") {
      locationSheet(true);
    } else {
      sendText(key.text, true);
    }
  }

  // ---------------------------------------------------------------- actions

  async function act(action, body) {
    const key = S.current;
    markWaiting();
    try {
      await api(`/api/chats/${key}/${action}`, body);
    } catch (e) {
      S.waitingSince = 0;
      updateTyping();
      toast(e.message);
    } finally {
      pollSoon();
    }
  }

  function sendText(text, viaKeyboard = false) {
    if (!text.trim()) return;
    act("send", { text, keyboard: viaKeyboard });
  }

  // ---------------------------------------------------------------- polling

  function pollSoon(delay = 0) {
    clearTimeout(S.pollTimer);
    S.pollTimer = setTimeout(pollChat, delay);
  }

  async function pollChat() {
    clearTimeout(S.pollTimer);
    if (S.polling) { S.pollAgain = true; return; }
    if (!S.current) { S.pollTimer = setTimeout(pollChat, POLL_MS); return; }
    S.polling = true;
    const generation = S.chatGen;
    try {
      const query = S.etag ? `?etag=${encodeURIComponent(S.etag)}` : "";
      const data = await api(`/api/chats/${S.current}${query}`);
      setOffline(false);
      if (generation === S.chatGen && !data.unchanged) {
        S.etag = data.etag;
        renderChat(data);
      }
    } catch (_) {
      setOffline(true);
    } finally {
      S.polling = false;
      updateTyping();
      const wait = S.pollAgain ? 0 : document.hidden ? HIDDEN_POLL_MS : POLL_MS;
      S.pollAgain = false;
      S.pollTimer = setTimeout(pollChat, wait);
    }
  }

  function setOffline(offline) {
    if (S.offline === offline) return;
    S.offline = offline;
    updateTyping();
  }

  async function pollState() {
    try {
      applyState(await api("/api/state"));
      setOffline(false);
    } catch (_) {
      setOffline(true);
    } finally {
      setTimeout(pollState, STATE_MS);
    }
  }

  function applyState(state) {
    const first = !S.personas.length;
    S.bot = state.bot;
    S.samples = state.samples;
    S.locations = state.locations;
    $("bot-name").textContent = state.bot.name;
    if (first) {
      S.personas = state.personas;
      for (const p of state.personas) S.byKey[p.key] = p;
      const wanted = decodeURIComponent(location.hash.slice(1));
      renderPersonas();
      switchPersona(S.byKey[wanted] ? wanted : state.personas[0].key);
    }
    for (const p of state.personas) {
      const before = S.counts[p.key];
      S.counts[p.key] = p.bot_messages;
      if (S.lastSeen[p.key] === undefined || p.key === S.current) S.lastSeen[p.key] = p.bot_messages;
      else if (before !== undefined && p.bot_messages > before) {
        const who = S.byKey[p.key];
        toast(`🔔 ${who.role_zh} ${who.name} 有新消息 · New message for ${who.role_en}`, () => switchPersona(p.key),
              { notice: true });
      }
    }
    updateBadges();
    renderLinks(state.links);
    document.body.classList.toggle("demo-open", state.links.some((link) => link.shop === state.demo_shop));
    updateTyping();
  }

  // ---------------------------------------------------------------- personas

  function renderPersonas() {
    const nav = $("personas");
    nav.textContent = "";
    for (const p of S.personas) {
      const button = el("button", "persona");
      button.type = "button";
      button.setAttribute("role", "tab");
      button.dataset.persona = p.key;
      button.title = `${p.role_zh} ${p.role_en} · ${p.name} · ${p.phone}`;
      // Like Telegram: the first letter of the name on a coloured circle.
      const avatar = el("span", "pav", Array.from(p.name)[0] || "?");
      avatar.style.background = p.color;
      const text = el("span", "ptext");
      text.append(el("span", "pname", p.role_zh), el("span", "prole", p.role_en));
      const badge = el("span", "badge");
      badge.hidden = true;
      button.append(avatar, text, badge);
      button.addEventListener("click", () => switchPersona(p.key));
      nav.appendChild(button);
    }
  }

  function updateBadges() {
    for (const button of $("personas").children) {
      const key = button.dataset.persona;
      button.setAttribute("aria-selected", String(key === S.current));
      const unread = key === S.current ? 0 : (S.counts[key] || 0) - (S.lastSeen[key] || 0);
      const badge = button.querySelector(".badge");
      badge.hidden = unread <= 0;
      badge.textContent = String(unread);
    }
  }

  function switchPersona(key) {
    if (!S.byKey[key]) return;
    closeSheet();
    if (key !== S.current) {
      S.current = key;
      S.chatGen += 1;
      S.etag = null;
      S.rendered.clear();
      S.keyboardJson = null;
      S.botSig = "";
      S.waitingSince = 0;
      S.firstRender = true;
      $("messages").textContent = "";
      $("reply-kbd").hidden = true;
      history.replaceState(null, "", `#${key}`);
    }
    if (S.counts[key] !== undefined) S.lastSeen[key] = S.counts[key];
    updateBadges();
    updatePlaceholder();
    pollSoon();
  }

  // ---------------------------------------------------------------- live links ("the stream")

  function linkCard(link, onOpen) {
    const card = el("button", "link-card");
    card.type = "button";
    card.dataset.payload = link.payload;
    if (link.thumb) {
      const img = el("img");
      img.src = link.thumb;
      img.alt = "";
      card.appendChild(img);
    } else {
      card.appendChild(el("span", "thumb"));
    }
    const info = el("span", "info");
    info.appendChild(el("span", "slot", `链接 ${link.slot} · LINK ${link.slot}`));
    info.appendChild(el("span", "name", link.name));
    // Several shops may be live at once (each merchant their own): say whose link it is.
    info.appendChild(el("span", "shop", `🏪 ${link.shop}`));
    info.appendChild(el("span", "price", `${link.price} · ${link.on_sale && link.stock > 0 ? `库存 ${link.stock}` : "售罄 sold out"}`));
    card.appendChild(info);
    card.appendChild(el("span", "go", "扫码 Scan ›"));
    card.title = "以当前身份打开 · Open as the person you are now";
    card.addEventListener("click", () => onOpen(link));
    return card;
  }

  function openLink(link) {
    closeSheet();
    sendText(`/start ${link.payload}`);
  }

  function renderLinks(links) {
    const json = JSON.stringify(links);
    if (json === S.linksJson) return;
    S.linksJson = json;
    S.links = links;
    const list = $("stream-list");
    list.textContent = "";
    for (const link of links) list.appendChild(linkCard(link, openLink));
    $("stream-empty").hidden = links.length > 0;
  }

  function streamSheet() {
    const body = openSheet("直播中的链接", "On the stream now: scan one");
    const list = el("div", "stream-list");
    for (const link of S.links) list.appendChild(linkCard(link, openLink));
    if (!S.links.length) list.appendChild(el("p", "hint", "还没有直播链接。先点 ✨ 演示店铺。 No live links yet: open the demo shop first."));
    body.appendChild(list);
  }

  // ---------------------------------------------------------------- sheets

  function openSheet(title, subtitle) {
    const sheet = $("sheet");
    sheet.textContent = "";
    const h = el("h3", "", `${title} `);
    if (subtitle) h.appendChild(el("span", "muted", subtitle));
    sheet.appendChild(h);
    const body = el("div");
    sheet.appendChild(body);
    sheet.hidden = false;
    $("scrim").hidden = false;
    return body;
  }

  function closeSheet() {
    $("sheet").hidden = true;
    $("scrim").hidden = true;
  }

  function sheetItem(icon, title, subtitle, onClick, cls) {
    const item = el("button", "sheet-item");
    item.type = "button";
    item.appendChild(el("span", "ico", icon));
    const text = el("span");
    text.appendChild(el("span", cls || "", title));
    if (subtitle) text.appendChild(el("small", "", subtitle));
    item.appendChild(text);
    item.addEventListener("click", onClick);
    return item;
  }

  function commandsSheet() {
    const body = openSheet("命令", "Commands");
    const list = el("div", "sheet-list");
    for (const c of S.commands) {
      list.appendChild(sheetItem("⌘", `/${c.command}`, c.description, () => { closeSheet(); sendText(`/${c.command}`); }, "cmd-name"));
    }
    if (!S.commands.length) list.appendChild(el("p", "hint", "机器人还没有设置命令 · The bot has set no commands yet"));
    body.appendChild(list);
  }

  function attachSheet() {
    const body = openSheet("发送", "Attach");
    const list = el("div", "sheet-list");
    list.appendChild(sheetItem("🖼", "本机照片 · Photo from this device", "选择一张图片 · pick a picture", () => $("file-input").click()));
    list.appendChild(sheetItem("🍊", "示例商品照片 · Sample product photos", "夏橙、猕猴桃、腊肉、茶叶 · ready-made pictures", samplesSheet));
    list.appendChild(sheetItem("📱", "我的手机号 · My phone number", persona().phone, async () => {
      closeSheet();
      const ok = await confirmDialog("分享你的手机号？ Share your phone number?", `${persona().name} · ${persona().phone}`, "分享 Share");
      if (ok) act("contact", {});
    }));
    list.appendChild(sheetItem("📍", "位置 · Location", "选一个地点 · choose a place", () => locationSheet(false)));
    list.appendChild(sheetItem("📺", "扫直播二维码 · Scan a live link", "像观众一样打开链接 · as a viewer would", streamSheet));
    body.appendChild(list);
  }

  function samplesSheet() {
    const body = openSheet("示例商品照片", "Sample product photos");
    const grid = el("div", "samples");
    for (const sample of S.samples) {
      const button = el("button", "sample");
      button.type = "button";
      const img = el("img");
      img.src = sample.src;
      img.alt = sample.title;
      button.append(img, el("span", "", sample.title));
      button.addEventListener("click", () => photoSheet({ sample: sample.key, src: sample.src,
        caption: persona().role === "merchant" ? sample.caption : "" }));
      grid.appendChild(button);
    }
    body.appendChild(grid);
  }

  function photoSheet(photo) {
    const body = openSheet("发送照片", "Send a photo");
    const img = el("img", "preview");
    img.src = photo.src;
    img.alt = "";
    const caption = el("textarea", "field");
    caption.rows = 2;
    caption.maxLength = 1024;
    caption.placeholder = "说明 · Caption";
    caption.value = photo.caption || "";
    body.append(img, caption);
    if (persona().role === "merchant") {
      body.appendChild(el("p", "hint", "说明写成“名称, 价格, 库存”，商品就直接上架。A caption “Name, price, stock” publishes a product."));
    }
    const actions = el("div", "sheet-actions");
    const cancel = el("button", "btn", "取消 Cancel");
    cancel.type = "button";
    cancel.addEventListener("click", closeSheet);
    const send = el("button", "btn primary", "发送 Send");
    send.type = "button";
    send.addEventListener("click", () => {
      closeSheet();
      const payload = { caption: caption.value.trim() };
      if (photo.sample) payload.sample = photo.sample;
      else payload.data = photo.src;
      act("photo", payload);
    });
    actions.append(cancel, send);
    body.appendChild(actions);
    caption.focus();
  }

  function locationSheet(viaKeyboard) {
    const body = openSheet("发送位置", "Share a location");
    const list = el("div", "sheet-list");
    for (const place of S.locations) {
      list.appendChild(sheetItem("📍", place.label, `${place.latitude.toFixed(4)}, ${place.longitude.toFixed(4)}`, () => {
        closeSheet();
        act("location", { latitude: place.latitude, longitude: place.longitude, keyboard: viaKeyboard });
      }));
    }
    body.appendChild(list);
  }

  // ---------------------------------------------------------------- toasts and dialogs

  // A notice about another persona's new message never covers what is on screen already (the bot's
  // answer to a tap, say): the persona's badge still shows it.
  function toast(text, onClick, { notice = false } = {}) {
    const node = $("toast");
    if (notice && !node.hidden && !S.toastIsNotice) return;
    S.toastIsNotice = notice;
    node.textContent = text;
    node.hidden = false;
    node.classList.toggle("clickable", Boolean(onClick));
    node.onclick = onClick ? () => { node.hidden = true; onClick(); } : null;
    clearTimeout(S.toastTimer);
    S.toastTimer = setTimeout(() => { node.hidden = true; }, Math.min(6000, 2200 + text.length * 40));
  }

  function dialog(title, text, buttons) {
    return new Promise((resolve) => {
      const d = $("dialog");
      d.textContent = "";
      if (title) d.appendChild(el("p", "title", title));
      d.appendChild(el("p", "", text));
      const actions = el("div", "dialog-actions");
      for (const [label, value, primary] of buttons) {
        const button = el("button", primary ? "btn primary" : "btn", label);
        button.type = "button";
        button.addEventListener("click", () => { d.close(); resolve(value); });
        actions.appendChild(button);
      }
      d.appendChild(actions);
      d.onclose = () => resolve(false);
      d.showModal();
      actions.lastChild.focus();
    });
  }

  const alertDialog = (text) => dialog("", text, [["好 OK", true, true]]);
  const confirmDialog = (title, text, yes) => dialog(title, text, [["取消 Cancel", false, false], [yes, true, true]]);

  function lightbox(src, caption) {
    const box = $("lightbox");
    box.textContent = "";
    const img = el("img");
    img.src = src;
    img.alt = caption || "";
    const bar = el("div", "lb-bar");
    bar.appendChild(el("span", "lb-caption", caption || ""));
    const save = el("a", "", "下载 Download");
    save.href = src;
    save.setAttribute("download", "");
    bar.appendChild(save);
    box.append(img, bar);
    box.onclick = (e) => { if (e.target !== save) box.close(); };
    box.showModal();
  }

  // ---------------------------------------------------------------- demo shop

  async function openDemo() {
    const buttons = document.querySelectorAll("[data-demo]");
    buttons.forEach((b) => { b.disabled = true; });
    switchPersona("merchant");
    toast("正在开店… 机器人正在上架商品\nSetting up the demo shop through the bot…");
    try {
      const result = await api("/api/demo", {});
      const slots = result.links.map((l) => l.slot);
      const range = slots.length ? `${Math.min(...slots)}–${Math.max(...slots)}` : "";
      toast(result.created
        ? `✨ ${result.shop} 开张了，直播链接 ${range} 已上架\nThe demo shop is open: be a buyer and scan a link`
        : `${result.shop} 已经开好了 · is already open`);
    } catch (e) {
      await alertDialog(`演示店铺没开成 · The demo shop could not be set up:\n${e.message}`);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      pollSoon();
    }
  }

  // ---------------------------------------------------------------- composer

  function autosize() {
    const input = $("input");
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
  }

  function setup() {
    const input = $("input");
    const fileInput = el("input");
    fileInput.type = "file";
    fileInput.accept = "image/png,image/jpeg,image/webp,image/gif";
    fileInput.id = "file-input";
    fileInput.hidden = true;
    document.body.appendChild(fileInput);
    fileInput.addEventListener("change", () => {
      const file = fileInput.files && fileInput.files[0];
      fileInput.value = "";
      if (!file) return;
      if (file.size > 10 * 1024 * 1024) { toast("照片最大 10 MB · A photo can be at most 10 MB"); return; }
      const reader = new FileReader();
      reader.onload = () => photoSheet({ src: reader.result, caption: input.value.trim() });
      reader.readAsDataURL(file);
    });

    $("composer").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value;
      if (!text.trim()) return;
      input.value = "";
      autosize();
      sendText(text);
    });
    input.addEventListener("keydown", (e) => {
      // Enter sends; Shift+Enter is a new line; never while an input method (pinyin) is composing.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        $("composer").requestSubmit();
      }
    });
    input.addEventListener("input", autosize);
    $("menu-btn").addEventListener("click", commandsSheet);
    $("attach-btn").addEventListener("click", attachSheet);
    $("stream-btn").addEventListener("click", streamSheet);
    $("miniapp-close").addEventListener("click", closeMiniApp);
    $("scrim").addEventListener("click", closeSheet);
    $("start-btn").addEventListener("click", () => sendText("/start"));
    $("kbd-toggle").addEventListener("click", () => {
      S.kbdHidden = !S.kbdHidden;
      $("reply-kbd").hidden = S.kbdHidden;
      $("kbd-toggle").classList.toggle("on", !S.kbdHidden);
    });
    document.querySelectorAll("[data-demo]").forEach((b) => b.addEventListener("click", openDemo));
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeSheet(); });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) pollSoon(); });
    window.addEventListener("hashchange", () => switchPersona(decodeURIComponent(location.hash.slice(1))));
    pollState();
  }

  setup();
})();
