// live.js: the pages' realtime client over `/ws` (the protocol is docs/realtime.md).
//
// Loaded by the header for everyone signed in, it keeps the unread badge right. On the messaging
// pages it also appends new messages to an open conversation, updates edits, recalls and "read"
// marks in place, adds new notices to the inbox, ticks off confirmations on a sender's notice,
// and sends read receipts for the conversation on screen while the tab is visible.
//
// Progressive enhancement: every page works without it, and it only adds to what the server
// rendered. Text from the network is only ever set as text (textContent, text nodes), never as
// markup. The session cookie authenticates the socket; the browser answers the server's pings.

// Close codes after which reconnecting cannot help: the roster retired the person (4001), or
// every session of theirs was ended (4003: the next page load asks them to sign in).
const FINAL = [4001, 4003];
const MAX_DELAY = 60000;

const badges = [...document.querySelectorAll("[data-unread-badge]")];
const header = document.querySelector("[data-t-reminder]");
const inbox = document.querySelector("[data-inbox]");
const noticeView = document.querySelector("[data-notice]");
const conversationEl = document.querySelector("[data-conversation]");

// The conversation on screen. `live` when the page shows its newest messages (not an earlier
// page), so new ones belong at the bottom and reading them is worth a receipt.
const conv = conversationEl
  ? {
      id: conversationEl.dataset.conversation,
      list: conversationEl.querySelector("[data-messages]"),
      live: conversationEl.hasAttribute("data-live"),
      lastSeq: Number(conversationEl.dataset.lastSeq) || 0,
      // The server marked the newest page read when it rendered it.
      readSent: Number(conversationEl.dataset.lastSeq) || 0,
      direct: conversationEl.dataset.direct === "true",
      zone: conversationEl.dataset.zone,
      reads: parseReads(conversationEl.dataset.reads || ""),
    }
  : null;

// Unread counts as `ready` gave them, kept up to date from the frames that follow.
const unread = { notices: 0, conversations: new Map() };
// The highest seq seen per conversation, to turn one's own read receipts into counts.
const lastSeq = new Map();
if (conv && conv.live) lastSeq.set(conv.id, conv.lastSeq);

let me = null;
let socket = null;
let failures = 0;
let retryTimer = null;
let stopped = false;
// Between `resume` and `caught_up` the backlog arrives: it is already in ready's counts.
let resuming = false;

function parseReads(text) {
  const reads = new Map();
  for (const pair of text.split(" ")) {
    const at = pair.lastIndexOf(":");
    if (at > 0) reads.set(pair.slice(0, at), Number(pair.slice(at + 1)) || 0);
  }
  return reads;
}

/** A catalogue string the server put on `el` as `data-t-…`, with `{name}`s filled in. */
function t(el, key, vars = {}) {
  let text = (el && el.dataset[key]) || "";
  for (const [name, value] of Object.entries(vars)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "07:00" on the school's clock. */
function clock(iso, zone) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (zone) options.timeZone = zone;
  try {
    return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
  } catch {
    return new Date(iso).toTimeString().slice(0, 5);
  }
}

function timeEl(iso, zone) {
  const node = el("time", "", clock(iso, zone));
  node.dateTime = iso;
  return node;
}

function visible() {
  return document.visibilityState === "visible";
}

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

// --- Links in message text: the same rule as the server's `messaging::pages::pieces`. ---

function firstScheme(text) {
  const a = text.indexOf("http://");
  const b = text.indexOf("https://");
  if (a < 0) return b;
  if (b < 0) return a;
  return Math.min(a, b);
}

function trimUrl(url) {
  const count = (c) => url.split(c).length - 1;
  for (;;) {
    if (!url) return url;
    const last = url[url.length - 1];
    let trim = ".,;:!?".includes(last);
    if (last === ")") trim = count(")") > count("(");
    if (last === "]") trim = count("]") > count("[");
    if (!trim) return url;
    url = url.slice(0, -1);
  }
}

/** Append `text` to `parent` as text nodes, with http(s) addresses as links. */
function appendText(parent, text) {
  let rest = text;
  let plain = "";
  for (let start = firstScheme(rest); start >= 0; start = firstScheme(rest)) {
    plain += rest.slice(0, start);
    const tail = rest.slice(start);
    const graphic = tail.match(/^[\x21-\x7e]*/)[0];
    const stop = graphic.search(/[<>"'`]/);
    const url = trimUrl(stop < 0 ? graphic : graphic.slice(0, stop));
    const scheme = url.startsWith("https://") ? 8 : 7;
    if (url.length <= scheme) {
      plain += tail.slice(0, scheme);
      rest = tail.slice(scheme);
      continue;
    }
    if (plain) parent.append(plain);
    plain = "";
    const a = el("a", "", url);
    a.href = url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    parent.append(a);
    rest = tail.slice(url.length);
  }
  plain += rest;
  if (plain) parent.append(plain);
}

// --- The unread badge. ---

function total() {
  let sum = unread.notices;
  for (const n of unread.conversations.values()) sum += n;
  return sum;
}

function showCounts() {
  const n = total();
  for (const badge of badges) {
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = n === 0;
  }
  if (!inbox) return;
  for (const line of inbox.querySelectorAll("[data-inbox-conversation]")) {
    const count = unread.conversations.get(line.dataset.inboxConversation) || 0;
    const badge = line.querySelector("[data-count]");
    if (badge) {
      badge.textContent = String(count);
      badge.title = t(inbox, "tUnreadCount", { n: count });
      badge.hidden = count === 0;
    }
    line.classList.toggle("unread", count > 0);
  }
}

function setUnread(counts) {
  unread.notices = counts.notices || 0;
  unread.conversations = new Map(Object.entries(counts.conversations || {}));
  // The conversation on screen is being read.
  if (conv && conv.live && visible()) unread.conversations.delete(conv.id);
}

// --- The open conversation. ---

function markRead() {
  if (!conv || !conv.live || !visible() || conv.lastSeq <= conv.readSent) return;
  if (send({ type: "read", conversation: conv.id, seq: conv.lastSeq })) {
    conv.readSent = conv.lastSeq;
  }
}

function receiptText(seq) {
  let n = 0;
  for (const read of conv.reads.values()) if (read >= seq) n += 1;
  if (conv.direct) return t(conversationEl, n > 0 ? "tRead" : "tUnread");
  return t(conversationEl, "tReadBy", { n });
}

function showReceipts() {
  if (!conv) return;
  for (const item of conv.list.querySelectorAll(".msg.own")) {
    const mark = item.querySelector("[data-receipt]");
    const seq = Number(item.dataset.seq);
    if (mark && seq > 0) mark.textContent = receiptText(seq);
  }
}

/** Write a message's body, attachments and edited mark into its list item. */
function fillMessage(item, m) {
  item.querySelectorAll(".msg-body, .msg-files").forEach((node) => node.remove());
  const meta = item.querySelector(".msg-meta");
  const body = el("p", "msg-body");
  const parts = [body];
  if (m.recalled) {
    meta.querySelector(".msg-edited")?.remove();
    body.classList.add("msg-recalled");
    body.textContent = t(conversationEl, "tRecalled");
    item.classList.add("recalled");
    item.querySelector(".msg-actions")?.remove();
  } else {
    appendText(body, m.body || "");
    if (m.attachments && m.attachments.length) {
      const files = el("ul", "msg-files");
      for (const a of m.attachments) {
        const link = el("a", "", a.name);
        link.href = `/api/v1/attachments/${encodeURIComponent(a.id)}`;
        const li = el("li");
        li.append(link);
        files.append(li);
      }
      parts.push(files);
    }
  }
  meta.after(...parts);
  if (m.edited_at && !m.recalled && !meta.querySelector(".msg-edited")) {
    meta.append(" ", el("span", "msg-edited", t(conversationEl, "tEdited")));
  }
}

function messageItem(m) {
  const own = m.sender.sourced_id === me;
  const item = el("li", `msg ${own ? "own" : "theirs"}`);
  item.id = `m-${m.id}`;
  item.dataset.id = m.id;
  item.dataset.seq = String(m.seq || 0);
  const meta = el("p", "msg-meta");
  meta.append(el("span", "msg-sender", m.sender.name), " ", timeEl(m.sent_at, conv.zone));
  item.append(meta);
  fillMessage(item, m);
  if (own) {
    const state = el("p", "msg-state");
    if (m.seq == null && m.held_until) {
      const time = clock(m.held_until, conv.zone);
      state.append(el("span", "msg-held", t(conversationEl, "tHeld", { time })));
    } else {
      const mark = el("span", "", receiptText(m.seq || 0));
      mark.dataset.receipt = "";
      state.append(mark);
    }
    item.append(state);
  }
  return item;
}

/** A message for the conversation on screen; says whether it was shown. Messages are placed
 * by `seq`, never by arrival: a live one may overtake the catch-up that `resume` sends. */
function showMessage(m) {
  if (!conv || !conv.live || m.conversation !== conv.id) return false;
  const shown = document.getElementById(`m-${m.id}`);
  if (shown && !(shown.dataset.seq === "0" && m.seq != null)) return true;
  // A held message of the reader's own was released: it moves up among the delivered ones.
  shown?.remove();
  const items = [...conv.list.querySelectorAll(".msg")];
  const seqOf = (item) => Number(item.dataset.seq) || 0;
  if (m.seq != null && items.some((item) => seqOf(item) === m.seq)) return true;
  conversationEl.querySelector("[data-empty]")?.remove();
  const item = messageItem(m);
  // Before the first later message; held ones (seq 0, the reader's own) stay at the bottom.
  const next =
    m.seq == null ? null : items.find((other) => seqOf(other) === 0 || seqOf(other) > m.seq);
  if (next) next.before(item);
  else conv.list.append(item);
  if (m.seq != null) conv.lastSeq = Math.max(conv.lastSeq, m.seq);
  if (visible() && !next) item.scrollIntoView({ block: "nearest" });
  return true;
}

// --- The inbox. ---

function inboxList(kind) {
  if (!inbox || !inbox.hasAttribute("data-first-page")) return null;
  return inbox.querySelector(kind);
}

function dropEmptyNote(list) {
  const note = list.previousElementSibling;
  if (note && note.hasAttribute("data-empty")) note.remove();
}

function bumpConversation(m) {
  const list = inboxList("[data-conversation-list]");
  if (!list) return;
  let line = list.querySelector(`[data-inbox-conversation="${CSS.escape(m.conversation)}"]`);
  if (!line) {
    line = el("li", "line");
    line.dataset.inboxConversation = m.conversation;
    const link = el("a", "line-link");
    link.href = `/messages/${encodeURIComponent(m.conversation)}`;
    link.append(el("span", "line-title", m.sender.name), el("span", "line-meta"));
    const tags = el("span", "line-tags");
    const count = el("span", "count");
    count.dataset.count = "";
    tags.append(count);
    line.append(link, tags);
    dropEmptyNote(list);
  }
  const meta = line.querySelector(".line-meta");
  if (meta) meta.replaceChildren(timeEl(m.sent_at, inbox.dataset.zone));
  list.prepend(line);
}

function addNotice(n) {
  const list = inboxList("[data-notice-list]");
  if (!list || list.querySelector(`[data-inbox-notice="${CSS.escape(n.id)}"]`)) return;
  const line = el("li", n.read ? "line" : "line unread");
  line.dataset.inboxNotice = n.id;
  const link = el("a", "line-link");
  link.href = `/notices/${encodeURIComponent(n.id)}`;
  const title = el("span", "line-title");
  if (n.urgent) title.append(el("span", "tag tag-urgent", t(inbox, "tUrgent")), " ");
  title.append(n.title);
  const meta = el("span", "line-meta", `${n.sender.name} · `);
  meta.append(timeEl(n.sent_at, inbox.dataset.zone));
  link.append(title, meta);
  const tags = el("span", "line-tags");
  if (!n.read) {
    const tag = el("span", "tag tag-unread", t(inbox, "tUnread"));
    tag.dataset.unreadTag = "";
    tags.append(tag);
  }
  const due = (n.children || []).some((c) => !c.confirmed);
  if (n.requires_confirmation && due) tags.append(el("span", "tag tag-due", t(inbox, "tToConfirm")));
  line.append(link, tags);
  dropEmptyNote(list);
  list.prepend(line);
}

function noticeRead(id) {
  const line = inbox && inbox.querySelector(`[data-inbox-notice="${CSS.escape(id)}"]`);
  if (!line) return;
  line.classList.remove("unread");
  line.querySelector("[data-unread-tag]")?.remove();
}

// --- A sender's notice: confirmations tick off as they arrive. ---

function confirmed(frame) {
  if (!noticeView || frame.notice !== noticeView.dataset.notice || !frame.student) return;
  const key = `${frame.person}:${frame.student}`;
  const pending = noticeView.querySelector("[data-pending-list]");
  const done = noticeView.querySelector("[data-confirmed-list]");
  const row = pending && pending.querySelector(`[data-row="${CSS.escape(key)}"]`);
  if (!row || !done) return;
  row.classList.add("just-confirmed");
  done.prepend(row);
  const pendingCount = noticeView.querySelector("[data-pending-count]");
  const doneCount = noticeView.querySelector("[data-confirmed-count]");
  if (pendingCount) pendingCount.textContent = String(pending.children.length);
  if (doneCount) doneCount.textContent = String(done.children.length);
}

function toast(id, title) {
  const note = el("div", "live-toast");
  note.setAttribute("role", "status");
  const link = el("a", "", t(header, "tReminder", { title }));
  link.href = `/notices/${encodeURIComponent(id)}`;
  note.append(link);
  document.body.append(note);
  setTimeout(() => note.remove(), 20000);
}

// --- Frames. ---

function onMessage(m) {
  const own = m.sender.sourced_id === me;
  if (m.seq != null) lastSeq.set(m.conversation, Math.max(lastSeq.get(m.conversation) || 0, m.seq));
  const onScreen = showMessage(m);
  if (m.seq == null || own) return;
  if (onScreen && visible()) {
    markRead();
  } else if (!resuming) {
    unread.conversations.set(m.conversation, (unread.conversations.get(m.conversation) || 0) + 1);
  }
  bumpConversation(m);
}

function onReceipt(frame) {
  if (frame.person === me) {
    // Read on this or another device: what is left unread there.
    const last = lastSeq.get(frame.conversation);
    const left = last === undefined ? 0 : Math.max(0, last - frame.read);
    if (left) unread.conversations.set(frame.conversation, left);
    else unread.conversations.delete(frame.conversation);
  } else if (conv && frame.conversation === conv.id) {
    conv.reads.set(frame.person, Math.max(conv.reads.get(frame.person) || 0, frame.read));
    showReceipts();
  }
}

function handle(frame) {
  switch (frame.type) {
    case "ready":
      me = frame.person;
      setUnread(frame.unread || {});
      break;
    case "unread":
      setUnread(frame);
      break;
    case "digest":
      // The day's digest, for someone who chose it over live delivery: its counts are current.
      setUnread(frame.unread || {});
      break;
    case "caught_up":
      resuming = false;
      markRead();
      break;
    case "message":
      onMessage(frame);
      break;
    case "message_updated": {
      const item = document.getElementById(`m-${frame.id}`);
      if (item && conversationEl) fillMessage(item, frame);
      break;
    }
    case "notice":
      if (frame.sender.sourced_id !== me && !frame.read && !resuming) unread.notices += 1;
      if (frame.sender.sourced_id !== me) addNotice(frame);
      break;
    case "notice_reminder":
      toast(frame.id, frame.title);
      break;
    case "receipt":
      onReceipt(frame);
      break;
    case "notice_receipt":
      if (frame.person === me && frame.read && !frame.confirmed) {
        unread.notices = Math.max(0, unread.notices - 1);
        noticeRead(frame.notice);
      }
      if (frame.confirmed) confirmed(frame);
      break;
    default:
      // `sent`, `pong`, `error`: the pages send through their forms, not the socket.
      return;
  }
  showCounts();
}

// --- The socket: reconnect with backoff, resume from the cursors. ---

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (socket || stopped) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let ws;
  try {
    ws = new WebSocket(`${scheme}//${location.host}/ws`);
  } catch {
    schedule();
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    failures = 0;
    // Pages that show messages catch up on what they may have missed; elsewhere `ready`'s
    // counts are all the badge needs.
    if ((conv && conv.live) || inbox) {
      resuming = true;
      const cursors = conv && conv.live ? { [conv.id]: conv.lastSeq } : {};
      send({ type: "resume", conversations: cursors });
    }
  });
  ws.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame && typeof frame.type === "string") handle(frame);
  });
  ws.addEventListener("close", (event) => {
    if (socket === ws) socket = null;
    resuming = false;
    if (FINAL.includes(event.code)) {
      stopped = true;
      return;
    }
    schedule();
  });
}

function schedule() {
  if (stopped || retryTimer) return;
  const delay = Math.min(MAX_DELAY, 1000 * 2 ** failures) * (0.5 + Math.random() / 2);
  failures += 1;
  retryTimer = setTimeout(connect, delay);
}

document.addEventListener("visibilitychange", () => {
  if (!visible()) return;
  if (!socket) connect();
  markRead();
});
window.addEventListener("online", () => {
  failures = 0;
  if (!socket) connect();
});

if ("WebSocket" in window) connect();
