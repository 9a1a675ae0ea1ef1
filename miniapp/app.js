// The Livecart Mini App: the shop's live links, a product, the cart, checkout, the placed order and
// the buyer's orders, inside Telegram. Every call to the bot's API carries Telegram's signed init
// data; the server checks it and does what the chat would (handlers/miniapp.py). No build step:
// this file is served as it is.

const tg = window.Telegram ? window.Telegram.WebApp : null;
const $ = (selector) => document.querySelector(selector);
const view = $("#view");

const state = {
  shop: null,        // the shop's slug
  bag: null,         // the live bag as the API gave it
  texts: {},
  stack: [],         // views to go back to (Telegram's BackButton)
  cart: [],          // [{product, variant, quantity, slot}], kept in the page's storage per shop
  me: null,
  others: [],        // products opened by a product link that are on no live link
};
const BAG_REFRESH_MS = 10000;  // units left, deals and recent buys move during a live
let mainAction = null;
let ticker = null;

// ---------------------------------------------------------------- words and money

function T(key, values = {}) {
  let text = state.texts[key] || key;
  for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

function money(minor) {
  const currency = state.bag ? state.bag.shop.currency : "CNY";
  const digits = ["JPY", "KRW", "VND"].includes(currency) ? 0 : 2;
  return new Intl.NumberFormat(state.bag && state.bag.language === "zh" ? "zh-CN" : "en", {
    style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(minor / 10 ** digits);
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3500);
}

function haptic(kind) {
  if (!tg || !tg.HapticFeedback) return;
  if (kind === "success" || kind === "error" || kind === "warning") tg.HapticFeedback.notificationOccurred(kind);
  else tg.HapticFeedback.impactOccurred(kind || "light");
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, text) { super(text); this.status = status; }
}

async function call(name, { body, query } = {}) {
  const url = `api/${name}` + (query ? `?${new URLSearchParams(query)}` : "");
  const headers = { Authorization: `tma ${tg ? tg.initData : ""}` };
  if (body) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method: body ? "POST" : "GET", headers, body: body ? JSON.stringify(body) : undefined });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    state.texts = { ...(data.texts || {}), ...state.texts };  // the words loaded with the bag win
    showExpired();
    throw new ApiError(401, T("app.expired"));
  }
  if (!response.ok) throw new ApiError(response.status, data.error || T("app.error"));
  return data;
}

// ---------------------------------------------------------------- Telegram's buttons

function setMain(text, action, { enabled = true } = {}) {
  mainAction = action;
  if (!tg) return;
  tg.MainButton.setParams({ text, is_visible: true, is_active: enabled });
}

function hideMain() {
  mainAction = null;
  if (tg) tg.MainButton.hide();
}

function go(render, ...args) {
  state.stack.push([render, args]);
  show();
}

function back() {
  if (state.stack.length > 1) state.stack.pop();
  show();
}

function show() {
  clearInterval(ticker);
  ticker = null;
  hideMain();
  const [render, args] = state.stack[state.stack.length - 1];
  if (tg) { if (state.stack.length > 1) tg.BackButton.show(); else tg.BackButton.hide(); }
  window.scrollTo(0, 0);
  render(...args);
  updateCartButton();
}

// ---------------------------------------------------------------- the cart (kept if the page closes)

function cartKey() { return `livecart.cart.${state.shop}`; }
function loadCart() {
  try { state.cart = JSON.parse(localStorage.getItem(cartKey()) || "[]").filter((line) => line && line.product); }
  catch { state.cart = []; }
}
function saveCart() { localStorage.setItem(cartKey(), JSON.stringify(state.cart)); updateCartButton(); }
function cartCount() { return state.cart.reduce((sum, line) => sum + line.quantity, 0); }

function updateCartButton() {
  const button = $("#cart-button");
  const count = cartCount();
  button.hidden = count === 0 || !state.bag;
  button.textContent = `🛒 ${T("app.cart")} · ${count}`;
}

function linkOf(productId) {
  return state.bag.links.find((link) => link.product === productId) || state.others.find((p) => p.product === productId);
}

function lineItem(line) {
  const link = linkOf(line.product);
  const variant = link && line.variant ? link.variants.find((v) => v.id === line.variant) : null;
  return { link, variant, price: variant ? variant.price : link ? link.price : 0 };
}

// ---------------------------------------------------------------- the live bag

function countdown(endsAt) {
  const left = Math.max(0, Math.round(endsAt - Date.now() / 1000));
  const minutes = Math.floor(left / 60);
  return `${minutes}:${String(left % 60).padStart(2, "0")}`;
}

function dealLine(link) {
  if (!link.deal_ends_at) return null;
  return el("div", { class: "deal", "data-ends": link.deal_ends_at }, T("app.deal_ends_in", { time: countdown(link.deal_ends_at) }));
}

function tickDeals() {
  clearInterval(ticker);
  ticker = setInterval(() => {
    for (const node of document.querySelectorAll("[data-ends]")) {
      node.textContent = T("app.deal_ends_in", { time: countdown(Number(node.dataset.ends)) });
    }
  }, 1000);
}

function picture(url, name) {
  return url ? el("img", { class: "pic", src: url, alt: name, loading: "lazy" }) : el("div", { class: "pic", "aria-hidden": true }, "🛍");
}

function renderBag() {
  const bag = state.bag;
  $("#title").textContent = bag.shop.name;
  view.replaceChildren(
    el("p", {}, bag.shop.live ? el("span", { class: "badge live" }, T("app.live_now")) : el("span", { class: "hint" }, T("app.no_live")),
      bag.shop.title ? ` ${bag.shop.title}` : ""),
    el("div", { class: "links" }, bag.links.map((link) => el("button", {
      class: `link${link.left > 0 ? "" : " sold-out"}`, type: "button", "data-slot": link.slot,
      onclick: () => { haptic(); openLink(link); },
    },
    picture(link.photo, link.name),
    el("div", { class: "body" },
      el("span", { class: "slot" }, T("app.link", { slot: link.slot })),
      el("span", { class: "name" }, link.name),
      el("span", { class: "price" }, link.price_text, link.regular_text ? el("span", { class: "regular" }, link.regular_text) : null),
      dealLine(link),
      el("span", { class: "hint" }, link.left > 0 ? T("app.left", { n: link.left }) : T("app.sold_out")),
      link.recent > 0 ? el("span", { class: "hint" }, T("app.bought_recently", { n: link.recent })) : null)))),
    el("div", { class: "actions" }, el("button", { type: "button", onclick: () => go(renderOrders) }, T("app.my_orders"))),
  );
  tickDeals();
  refreshLater();
}

function refreshLater() {
  // While the bag is on screen: fetch it again now and then and redraw it if it is still shown.
  clearTimeout(refreshLater.timer);
  refreshLater.timer = setTimeout(async () => {
    const showing = state.stack.length === 1;
    if (!showing || document.hidden) { if (showing) refreshLater(); return; }
    await refreshBag();
    if (state.stack.length !== 1) return;
    const y = window.scrollY;  // redrawn where the buyer was reading, not from the top
    renderBag();
    window.scrollTo(0, y);
    updateCartButton();
  }, BAG_REFRESH_MS);
}

function openLink(link) {
  call("open", { body: { shop: state.shop, slot: link.slot } }).catch(() => {});  // the funnel; never in the way
  go(renderProduct, link);
}

// ---------------------------------------------------------------- a product

function renderProduct(link) {
  let variant = link.variants.length === 1 ? link.variants[0] : null;
  let quantity = 1;
  const top = () => Math.max(1, Math.min(99, (variant ? variant.left : link.left) || 1, link.limit || 99));
  const picBox = el("div", {}, picture(link.photo, link.name));
  const priceLine = el("p", { class: "price" });
  const leftLine = el("p", { class: "hint" });
  const qty = el("output", {}, "1");
  const refresh = () => {
    const photo = variant && variant.photo ? variant.photo : link.photo;
    picBox.replaceChildren(picture(photo, link.name));
    priceLine.replaceChildren(variant ? variant.price_text : link.price_text,
      !variant && link.regular_text ? el("span", { class: "regular" }, link.regular_text) : "");
    const left = variant ? variant.left : link.left;
    leftLine.textContent = left > 0 ? T("app.left", { n: left }) : T("app.sold_out");
    quantity = Math.min(quantity, top());
    qty.textContent = String(quantity);
    const ready = (!link.variants.length || variant) && left > 0;
    setMain(T("app.buy_now"), () => buyNow(link, variant, quantity), { enabled: Boolean(ready) });
    addButton.disabled = !ready;
  };
  const chips = link.variants.map((v) => el("button", {
    class: "chip", type: "button", "aria-pressed": String(variant === v), disabled: v.left <= 0,
    onclick: (event) => {
      variant = v;
      haptic("light");
      for (const chip of chips) chip.setAttribute("aria-pressed", String(chip === event.currentTarget));
      refresh();
    },
  }, `${v.name} · ${v.price_text}`));
  const addButton = el("button", { type: "button", onclick: () => {
    const line = state.cart.find((l) => l.product === link.product && (l.variant || null) === (variant ? variant.id : null));
    if (line) line.quantity = Math.min(99, line.quantity + quantity);
    else state.cart.push({ product: link.product, variant: variant ? variant.id : null, quantity, slot: link.slot });
    saveCart();
    haptic("success");
    toast(`✓ ${T("app.add_to_cart")}`);
  } }, T("app.add_to_cart"));
  view.replaceChildren(el("section", { class: "sheet" },
    picBox,
    el("h2", {}, link.slot ? `${T("app.link", { slot: link.slot })} · ${link.name}` : link.name),
    priceLine, dealLine(link),
    link.ships ? el("p", { class: "hint" }, link.ships) : null,
    link.description ? el("p", {}, link.description) : null,
    link.variants.length ? el("p", { class: "hint" }, T("app.choose_variant")) : null,
    link.variants.length ? el("div", { class: "chips" }, chips) : null,
    leftLine,
    el("div", { class: "stepper" }, el("span", {}, T("app.quantity")),
      el("button", { type: "button", "aria-label": "-", onclick: () => { quantity = Math.max(1, quantity - 1); haptic(); refresh(); } }, "−"),
      qty,
      el("button", { type: "button", "aria-label": "+", onclick: () => { quantity = Math.min(top(), quantity + 1); haptic(); refresh(); } }, "+")),
    el("div", { class: "actions" }, addButton)));
  refresh();
  tickDeals();
}

// ---------------------------------------------------------------- the cart

function renderCart() {
  const rows = state.cart.map((line, index) => {
    const { link, variant, price } = lineItem(line);
    if (!link) return null;
    const change = (delta) => {
      line.quantity += delta;
      if (line.quantity <= 0) state.cart.splice(index, 1);
      saveCart();
      haptic();
      renderCart();
    };
    return el("div", { class: "row" },
      el("span", {}, `${link.name}${variant ? ` · ${variant.name}` : ""}`),
      el("span", {}, el("button", { type: "button", onclick: () => change(-1), "aria-label": "-" }, "−"),
        ` ${line.quantity} `, el("button", { type: "button", onclick: () => change(1), "aria-label": "+" }, "+"),
        ` ${money(price * line.quantity)}`));
  }).filter(Boolean);
  view.replaceChildren(el("h2", {}, T("app.cart")), ...(rows.length ? rows : [el("p", { class: "hint" }, T("app.cart_empty"))]));
  if (rows.length) setMain(T("app.checkout"), () => checkout(state.cart.map((line) => ({ ...line }))));
}

// ---------------------------------------------------------------- checkout

function newToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function buyNow(link, variant, quantity) {
  haptic("medium");
  await checkout([{ product: link.product, variant: variant ? variant.id : null, quantity, slot: link.slot }], true);
}

async function checkout(items, single = false) {
  const token = newToken();
  if (tg) tg.MainButton.showProgress();
  try {
    const held = await call("hold", { body: { shop: state.shop, token, items } });
    for (const notice of held.notices) toast(notice);
    go(renderCheckout, { token, items: held.items, heldText: held.held_text, fromCart: !single });
  } catch (error) {
    haptic("error");
    if (error.status !== 401) toast(error.message);
  } finally {
    if (tg) tg.MainButton.hideProgress();
  }
}

function renderCheckout(checkoutState) {
  const me = state.me || {};
  const form = {
    recipient: el("input", { id: "recipient", autocomplete: "name", value: me.recipient || "" }),
    phone: el("input", { id: "phone", type: "tel", autocomplete: "tel", value: me.phone_text || "" }),
    address: el("textarea", { id: "address", autocomplete: "street-address" }),
    note: el("input", { id: "note" }),
  };
  form.address.value = me.address || "";
  const summary = el("div", {});
  const regionBox = el("div", {});
  const methodsBox = el("div", { class: "methods" });
  const problem = el("p", { class: "error" });
  let quote = null;
  let region = null;
  let method = null;

  const body = () => ({
    shop: state.shop, token: checkoutState.token, items: checkoutState.items, address: form.address.value,
    recipient: form.recipient.value, phone: form.phone.value, note: form.note.value, region, method,
  });

  const draw = () => {
    if (!quote) return;
    summary.replaceChildren(
      ...quote.lines.map((line) => el("div", { class: "row" }, el("span", {}, `${line.name} × ${line.quantity}`,
        line.ships ? el("div", { class: "hint" }, line.ships) : null), el("span", {}, line.subtotal_text))),
      ...quote.shipping.map((line) => el("div", { class: "row hint" }, el("span", {}, line))),
      el("div", { class: "row total" }, el("span", {}, T("app.total")), el("span", {}, quote.total_text)));
    regionBox.replaceChildren();
    if (quote.region_choices.length) {
      const select = el("select", { id: "region", onchange: () => { region = select.value || null; refreshQuote(); } },
        el("option", { value: "" }, "—"),
        quote.region_choices.map((choice) => el("option", { value: choice.code, selected: choice.code === region }, choice.name)));
      regionBox.append(el("label", { for: "region" }, T("app.region_pick")), select);
    }
    methodsBox.replaceChildren(el("label", {}, T("app.payment")), ...quote.methods.map((m, i) => {
      if (!method && i === 0) method = m.value;
      return el("label", {}, el("input", { type: "radio", name: "method", value: m.value, checked: m.value === method,
        onchange: () => { method = m.value; haptic(); } }), m.name);
    }));
    problem.textContent = quote.refused || "";
    const ready = !quote.refused && !quote.region_choices.length;
    setMain(T("app.place_order", { total: quote.total_text }), () => placeOrder(body, checkoutState), { enabled: ready });
  };

  let timer = null;
  const refreshQuote = async () => {
    try {
      quote = await call("quote", { body: body() });
      draw();
    } catch (error) {
      if (error.status === 400 && form.address.value.trim().length < 5) {  // no address yet: the lines alone
        quote = null;
        summary.replaceChildren(...checkoutState.items.map((item) => {
          const { link, variant, price } = lineItem(item);
          return link ? el("div", { class: "row" }, el("span", {}, `${link.name}${variant ? ` · ${variant.name}` : ""} × ${item.quantity}`),
            el("span", {}, money(price * item.quantity))) : null;
        }));
        setMain(T("app.place_order", { total: "…" }), () => {}, { enabled: false });
      } else if (error.status !== 401) {
        problem.textContent = error.message;
      }
    }
  };
  form.address.addEventListener("input", () => { clearTimeout(timer); region = null; timer = setTimeout(refreshQuote, 500); });

  const share = el("button", { type: "button", id: "share-phone", onclick: sharePhone }, T("app.share_phone"));
  async function sharePhone() {
    if (!tg || !tg.requestContact) return;
    tg.requestContact(async (shared) => {
      if (!shared) return;
      for (let i = 0; i < 20; i += 1) {  // the bot stores it when Telegram's contact message arrives
        const fresh = await call("me", { query: { shop: state.shop } }).catch(() => null);
        if (fresh && fresh.phone) { state.me = fresh; form.phone.value = fresh.phone_text; haptic("success"); return; }
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    });
  }

  view.replaceChildren(
    el("h2", {}, T("app.checkout")), summary,
    el("p", { class: "hint" }, checkoutState.heldText),
    el("label", { for: "recipient" }, T("app.recipient")), form.recipient,
    el("label", { for: "phone" }, T("app.phone")), form.phone, el("div", { class: "actions" }, share),
    el("label", { for: "address" }, T("app.address")), form.address, regionBox,
    el("label", { for: "note" }, T("app.note")), form.note,
    methodsBox, problem);
  refreshQuote();
}

async function allowMessages() {
  if (!tg || !tg.requestWriteAccess) return false;
  const granted = await new Promise((resolve) => tg.requestWriteAccess((ok) => resolve(Boolean(ok))));
  if (!granted) return false;
  const allowed = await call("allow", { body: {} });
  if (state.me) state.me.can_message = allowed.can_message;
  return allowed.can_message;
}

async function placeOrder(body, checkoutState) {
  if (state.me && !state.me.can_message) {
    toast(T("app.ask_write"));
    await allowMessages().catch(() => false);
  }
  if (tg) tg.MainButton.showProgress();
  try {
    const placed = await call("place", { body: body() });
    haptic("success");
    if (checkoutState.fromCart) { state.cart = []; saveCart(); }
    state.stack = [state.stack[0]];
    go(renderPlaced, placed);
    refreshBag();
  } catch (error) {
    haptic("error");
    if (error.status !== 401) toast(error.message);
  } finally {
    if (tg) tg.MainButton.hideProgress();
  }
}

function orderCard(order) {
  return el("section", { class: "notice order" },
    el("div", { class: "name" }, `${T("app.order_number", { n: order.number })} · ${order.shop}`),
    el("div", { class: "hint" }, order.status),
    order.items.map((item) => el("div", { class: "row" }, el("span", {}, `${item.name} × ${item.quantity}`), el("span", {}, item.subtotal_text))),
    order.fee_text ? el("div", { class: "row" }, el("span", {}, T("app.shipping")), el("span", {}, order.fee_text)) : null,
    el("div", { class: "row total" }, el("span", {}, T("app.total")), el("span", {}, order.total_text)),
    el("div", { class: "hint" }, order.payment),
    order.ships ? el("div", { class: "hint" }, order.ships) : null);
}

function renderPlaced(placed) {
  view.replaceChildren(
    el("h2", { id: "placed" }, T("app.placed_title", { n: placed.orders.map((o) => o.number).join(" #") })),
    ...placed.orders.map(orderCard),
    el("p", { class: "notice" }, placed.receipt_in_chat ? T("app.receipt_in_chat") : T("app.receipt_here")));
  setMain(T("app.back_to_bag"), () => { state.stack = [state.stack[0]]; show(); });
}

async function renderOrders() {
  view.replaceChildren(el("h2", {}, T("app.my_orders")));
  try {
    const { orders } = await call("orders");
    view.append(...(orders.length ? orders.map(orderCard) : [el("p", { class: "hint" }, T("app.no_orders"))]));
  } catch (error) {
    if (error.status !== 401) view.append(el("p", { class: "error" }, error.message));
  }
}

// ---------------------------------------------------------------- start

function showExpired() {
  hideMain();
  view.replaceChildren(el("p", { class: "notice", id: "expired" }, T("app.expired")),
    el("button", { class: "primary", type: "button", onclick: () => tg && tg.close() }, T("app.reopen")));
}

function whereFrom() {
  // t.me/<bot>?startapp=l_<shop>_<slot> (a QR code), p_<shop>_<product> (a posted card), s_<shop>;
  // or ?shop=&slot= (the chat card's button).
  const start = tg && tg.initDataUnsafe ? tg.initDataUnsafe.start_param || "" : "";
  const match = /^([lsp])_([a-z0-9]{4,16})(?:_(\d{1,12}))?/.exec(start);
  if (match) {
    const number = match[3] ? Number(match[3]) : null;
    return { shop: match[2], slot: match[1] === "l" ? number : null, product: match[1] === "p" ? number : null };
  }
  const query = new URLSearchParams(location.search);
  return { shop: query.get("shop"), slot: query.get("slot") ? Number(query.get("slot")) : null, product: null };
}

async function refreshBag() {
  try { state.bag = await call("bag", { query: { shop: state.shop } }); state.me = state.bag.me; } catch { /* shown already */ }
}

async function start() {
  if (tg) {
    tg.ready();
    tg.expand();
    tg.MainButton.onClick(() => { if (mainAction) mainAction(); });
    tg.BackButton.onClick(() => { haptic(); back(); });
  }
  $("#cart-button").addEventListener("click", () => go(renderCart));
  const from = whereFrom();
  state.shop = from.shop;
  loadCart();
  try {
    state.bag = await call("bag", { query: { shop: state.shop || "" } });
  } catch (error) {
    if (error.status !== 401) view.replaceChildren(el("p", { class: "notice error" }, error.message));
    return;
  }
  state.texts = state.bag.texts;
  state.me = state.bag.me;
  document.documentElement.lang = state.bag.language === "zh" ? "zh-CN" : "en";
  state.stack = [[renderBag, []]];
  show();
  const link = from.slot ? state.bag.links.find((l) => l.slot === from.slot) : null;
  if (link) { openLink(link); return; }
  call("open", { body: { shop: state.shop } }).catch(() => {});
  if (from.product) {
    try {
      const product = await call("product", { query: { shop: state.shop, id: from.product } });
      if (!linkOf(product.product)) state.others.push(product);
      go(renderProduct, linkOf(product.product));
    } catch (error) {
      if (error.status !== 401) toast(error.message);
    }
  }
}

start();
