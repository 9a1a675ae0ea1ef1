// A stand-in for https://telegram.org/js/telegram-web-app.js, for the sandbox and the browser tests:
// what the Mini App uses of Telegram.WebApp, with Telegram's own buttons drawn at the bottom of the
// page (where the Telegram app draws them). Whoever loads it sets, before it runs:
//   window.__tgInitData    the signed init data (the tests sign it like Telegram); else it is read
//                          from the address's #tgWebAppData=..., where Telegram puts it (the sandbox)
//   window.__tgTheme       optional theme params ({bg_color, text_color, ...}), "light" when left out
//   window.__tgShareContact optional async function: post the user's contact into the chat
//   window.__tgAllowWrite  whether the user grants the write-access request (default true)
(function () {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData");
  const initData = window.__tgInitData || fromHash || "";
  const params = new URLSearchParams(initData);
  const unsafe = {};
  for (const [key, value] of params) {
    try { unsafe[key] = key === "user" ? JSON.parse(value) : value; } catch { unsafe[key] = value; }
  }
  const theme = window.__tgTheme || { bg_color: "#ffffff", text_color: "#000000", hint_color: "#707579",
    link_color: "#3390ec", button_color: "#3390ec", button_text_color: "#ffffff", secondary_bg_color: "#f4f4f5",
    destructive_text_color: "#e53935" };
  const root = document.documentElement.style;
  for (const [key, value] of Object.entries(theme)) root.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
  window.__haptics = [];

  function bar() {
    let node = document.getElementById("tg-bar");
    if (!node) {
      node = document.createElement("div");
      node.id = "tg-bar";
      node.style.cssText = "position:sticky;bottom:0;display:flex;gap:8px;padding:8px 0;background:var(--tg-theme-bg-color)";
      document.body.append(node);
    }
    return node;
  }

  function telegramButton(id, label) {
    const handlers = [];
    let node = null;
    const button = {
      text: label, isVisible: false, isActive: true, isProgressVisible: false,
      setText(text) { return button.setParams({ text }); },
      setParams(p) {
        if (p.text !== undefined) button.text = p.text;
        if (p.is_visible !== undefined) button.isVisible = p.is_visible;
        if (p.is_active !== undefined) button.isActive = p.is_active;
        draw();
        return button;
      },
      show() { return button.setParams({ is_visible: true }); },
      hide() { return button.setParams({ is_visible: false }); },
      enable() { return button.setParams({ is_active: true }); },
      disable() { return button.setParams({ is_active: false }); },
      showProgress() { button.isProgressVisible = true; draw(); return button; },
      hideProgress() { button.isProgressVisible = false; draw(); return button; },
      onClick(fn) { handlers.push(fn); return button; },
      offClick(fn) { const i = handlers.indexOf(fn); if (i >= 0) handlers.splice(i, 1); return button; },
    };
    function draw() {
      if (!document.body) { document.addEventListener("DOMContentLoaded", draw, { once: true }); return; }
      if (!node) {
        node = document.createElement("button");
        node.id = id;
        node.type = "button";
        node.style.cssText = id === "tg-main-button"
          ? "flex:1;padding:12px;border:0;border-radius:10px;font:inherit;font-weight:600;background:var(--tg-theme-button-color);color:var(--tg-theme-button-text-color)"
          : "padding:12px;border:0;border-radius:10px;font:inherit;background:var(--tg-theme-secondary-bg-color);color:var(--tg-theme-text-color)";
        node.addEventListener("click", () => { if (button.isActive && !button.isProgressVisible) handlers.forEach((fn) => fn()); });
        if (id === "tg-back-button") bar().prepend(node); else bar().append(node);
      }
      node.hidden = !button.isVisible;
      node.disabled = !button.isActive || button.isProgressVisible;
      node.textContent = button.isProgressVisible ? "…" : button.text;
    }
    return button;
  }

  window.Telegram = {
    WebApp: {
      initData,
      initDataUnsafe: unsafe,
      version: "8.0",
      platform: "sandbox",
      colorScheme: "light",
      themeParams: theme,
      MainButton: telegramButton("tg-main-button", ""),
      BackButton: telegramButton("tg-back-button", "‹ Back"),
      HapticFeedback: {
        impactOccurred(style) { window.__haptics.push(`impact:${style}`); },
        notificationOccurred(type) { window.__haptics.push(`notification:${type}`); },
        selectionChanged() { window.__haptics.push("selection"); },
      },
      ready() {},
      expand() {},
      close() { window.__tgClosed = true; },
      requestContact(callback) {
        // The sandbox's chat page (the parent frame) posts the contact as its persona.
        const share = window.__tgShareContact || (window.parent !== window && window.parent.__sandboxShareContact);
        Promise.resolve(share ? share() : false).then((ok) => callback(Boolean(ok)));
      },
      requestWriteAccess(callback) { callback(window.__tgAllowWrite !== false); },
    },
  };
})();
