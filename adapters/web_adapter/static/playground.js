// seedbot playground: draws the timeline from the server's JSON, sends requests, and follows
// the server-sent events that carry every change (queue position, progress, results).
//
// Safety: every piece of user text (prompts, file names, answers) is put on the page with
// textContent inside a <bdi> (so right-to-left overrides can't spill into the page around
// it); nothing is ever written with innerHTML. Every state-changing request carries the
// session's CSRF token in a header.
"use strict";

(() => {
  const body = document.body;
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const CSRF_HEADER = body.dataset.csrfHeader;
  const MAX_REFERENCES = Number(body.dataset.maxReferences);
  const MAX_BYTES = Number(body.dataset.maxBytes);
  const MAX_BODY = Number(body.dataset.maxBody);
  const TOO_LARGE = body.dataset.tooLarge;
  // Every word the script shows, in the page's language (the server renders them: no catalog here).
  const LABELS = JSON.parse(body.dataset.labels);
  const label = (name, n) => LABELS[name].replace("%(n)s", String(n));
  const MAX_PROMPT = Number(body.dataset.maxPrompt);
  // The server sends a "ping" event every HEARTBEAT seconds on an idle stream: missing two and
  // more, the connection is dead (half-open: Wi-Fi lost, a laptop's lid) though no error says so.
  const SILENCE = (Number(body.dataset.heartbeat) * 2 + 5) * 1000;
  const DRAFTS = "seedbot-drafts"; // sessionStorage: what was typed, kept across a reload

  const timeline = document.getElementById("timeline");
  const empty = document.getElementById("empty");
  const usage = document.getElementById("usage");
  const toastBox = document.getElementById("toast");
  const connection = document.getElementById("connection");
  const announcer = document.getElementById("announce");
  const threads = new Map(); // thread id -> {node, list, form, tray, entries: Map(id -> {rev, node})}

  // -- small DOM helpers --------------------------------------------------------------------

  // An element with attributes (set with setAttribute, never as event handlers) and children
  // (nodes, or strings added as text).
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) throw new Error("no inline handlers");
      node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  // User text: isolated from the page's direction, shown as text.
  function userText(text, className = "") {
    const node = el("bdi", { class: className || null });
    node.textContent = text;
    return node;
  }

  // The core's answers mark what to type as `code` (Discord and Slack show it so): each span
  // becomes a <code> element, still set as text. With `pick`, each is a button that hands its
  // words to pick (which puts them in a box, to send as they are or change first).
  function botText(text, pick = null) {
    const node = el("bdi");
    text.split(/(\x60[^\x60\n]+\x60)/).forEach((part, i) => {
      if (!(i % 2)) { if (part) node.append(part); return; }
      const code = el("code", {}, part.slice(1, -1));
      if (!pick) { node.append(code); return; }
      const button = el("button", { type: "button", class: "say", title: LABELS.put_in_box }, code);
      button.addEventListener("click", () => pick(part.slice(1, -1)));
      node.append(button);
    });
    return node;
  }

  // Words put in a box by a click: it keeps the focus, ready to send.
  function fill(box, words) {
    box.value = words;
    box.dispatchEvent(new Event("input")); // its count
    box.focus();
  }

  // A refusal in red, kept until closed (it says why nothing was made); anything else the bot
  // says (saved, removed) as a note, gone after 8 s unless the pointer or the focus is on it.
  function toast(text, refused = true) {
    const close = el("button", { type: "button", class: "close", "aria-label": LABELS.close }, "×");
    close.addEventListener("click", hideToast);
    toastBox.replaceChildren(el("p", {}, botText(text)), close);
    toastBox.classList.toggle("said", !refused);
    toastBox.hidden = false;
    toast.lasting = refused;
    holdToast(false);
  }

  function hideToast() {
    if (toastBox.contains(document.activeElement)) prompt.focus();
    toastBox.hidden = true;
    clearTimeout(toast.timer);
  }

  function holdToast(held) {
    clearTimeout(toast.timer);
    if (!held && !toast.lasting) toast.timer = setTimeout(hideToast, 8000);
  }

  for (const name of ["mouseenter", "focusin"]) toastBox.addEventListener(name, () => holdToast(true));
  toastBox.addEventListener("mouseleave", () => holdToast(toastBox.contains(document.activeElement)));
  toastBox.addEventListener("focusout", (event) => holdToast(toastBox.contains(event.relatedTarget)));

  // Said to a screen reader once, as a request changes stage: one polite region, not each entry.
  function announce(text) {
    announcer.textContent = "";
    setTimeout(() => { announcer.textContent = text; }, 50);
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 160;
  }

  // Smooth, unless the system asks for reduced motion.
  function motion() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  }

  function scrollToBottom() {
    window.scrollTo({ top: document.body.scrollHeight, behavior: motion() });
  }

  // -- drafts: what was typed survives the reload a restarted server's 401 makes --------------

  function saveDrafts() {
    const options = {};
    for (const field of composer.elements) {
      if (field.name && field.name !== "text" && field.type !== "file") options[field.name] = field.value;
    }
    // A reply keeps the result its Edit chose: restored alone, it edited the thread's latest one.
    const replies = {};
    for (const [id, view] of threads) {
      const text = view.form.querySelector("textarea").value;
      if (text) replies[id] = { text, job: view.form.dataset.job || "", prompt: view.form.dataset.prompt || "" };
    }
    try {
      sessionStorage.setItem(DRAFTS, JSON.stringify({ prompt: prompt.value, options, replies }));
    } catch (_) { /* storage refused (private mode, full): the reload goes ahead */ }
  }

  function reloadKeepingDrafts() {
    saveDrafts();
    location.reload();
  }

  function takeDrafts() {
    try {
      const drafts = JSON.parse(sessionStorage.getItem(DRAFTS) || "null");
      sessionStorage.removeItem(DRAFTS);
      return drafts && typeof drafts === "object" ? drafts : null;
    } catch (_) {
      return null;
    }
  }

  // -- talking to the server ----------------------------------------------------------------

  async function send(url, options = {}) {
    const headers = { [CSRF_HEADER]: CSRF };
    let response;
    try {
      response = await fetch(url, { method: "POST", credentials: "same-origin", headers, ...options });
    } catch (_) {
      toast(LABELS.unreachable); // the network, or the server is not there (a restart)
      return null;
    }
    if (response.status === 401) { reloadKeepingDrafts(); return null; }
    let data;
    try { data = await response.json(); } catch (_) { data = null; } // a proxy's error page
    if (!data || typeof data !== "object") { toast(LABELS.unreachable); return null; }
    if (!response.ok) {
      toast(data.error || LABELS.unreachable);
      return null;
    }
    return data;
  }

  async function getJSON(url) {
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin" });
    } catch (_) {
      return null; // the server is not there (a restart): the caller tries again or says nothing
    }
    if (response.status === 401) { reloadKeepingDrafts(); return null; }
    return response.ok ? response.json() : null;
  }

  // -- attached images: a tray per form -----------------------------------------------------

  class Tray {
    constructor(node, numbered) {
      this.node = node;
      this.numbered = numbered; // the composer numbers them (image 1 = fox.png); replies follow the result
      this.files = [];
      this.urls = [];
    }

    add(files) {
      for (const file of files) this.files.push(file);
      this.render();
    }

    // The focus goes to the next image's ×, the last one's, or the box: not lost to the page.
    remove(index) {
      this.files.splice(index, 1);
      this.render();
      const buttons = this.node.querySelectorAll(".remove");
      const next = buttons[Math.min(index, buttons.length - 1)];
      (next || this.node.closest("form").querySelector("textarea")).focus();
    }

    clear() {
      this.files = [];
      this.render();
    }

    render() {
      for (const url of this.urls) URL.revokeObjectURL(url);
      this.urls = [];
      const items = this.files.map((file, index) => {
        const caption = this.numbered ? `${label("image", index + 1)} = ` : "+ ";
        const figure = el("figure", { class: "ref" });
        if (file.type.startsWith("image/")) {
          const url = URL.createObjectURL(file);
          this.urls.push(url);
          figure.append(el("img", { src: url, alt: "" }));
        } else {
          figure.append(el("span", { class: "not-image" }, "?"));
        }
        const remove = el("button", { type: "button", class: "remove", "aria-label": LABELS.remove }, "×");
        remove.addEventListener("click", () => this.remove(index));
        figure.append(el("figcaption", {}, caption, userText(file.name)), remove);
        return figure;
      });
      this.node.replaceChildren(...items);
      this.node.classList.toggle("filled", items.length > 0);
    }

    // Files over the per-image limit are not sent but declared (name, size, type): the server
    // refuses them in the chat's words before anything is spent. So are all of them when there
    // are more than the most allowed at once.
    appendTo(form) {
      let bytes = 0;
      const tooMany = this.files.length > MAX_REFERENCES;
      for (const file of this.files) {
        if (tooMany || file.size > MAX_BYTES) {
          form.append("declared", JSON.stringify({ name: file.name, size: file.size, type: file.type }));
        } else {
          form.append("image", file, file.name);
          bytes += file.size;
        }
      }
      return bytes;
    }
  }

  function imagesOf(transfer) {
    return transfer ? Array.from(transfer.files || []) : [];
  }

  // Attach, drop or paste into a form's tray.
  function acceptFiles(form, tray, input) {
    input.addEventListener("change", () => { tray.add(Array.from(input.files)); input.value = ""; });
    form.addEventListener("dragover", (event) => { event.preventDefault(); form.classList.add("dragging"); });
    form.addEventListener("dragleave", () => form.classList.remove("dragging"));
    form.addEventListener("drop", (event) => {
      event.preventDefault();
      event.stopPropagation();
      form.classList.remove("dragging");
      tray.add(imagesOf(event.dataTransfer));
    });
    form.addEventListener("paste", (event) => {
      const files = imagesOf(event.clipboardData);
      if (files.length) { event.preventDefault(); tray.add(files); }
    });
  }

  // One send at a time per form: Enter pressed again (or the button clicked) while a big upload
  // is still on its way sent the request twice, and charged it twice.
  // A prompt over the limit is not sent (the server would refuse it): said, the box kept.
  // The focus stays in the box while the button is disabled (it fell to the page).
  async function submit(url, formNode, tray, extra = {}) {
    if (formNode.dataset.sending) return null;
    const box = formNode.querySelector("textarea");
    if (promptLength(box.value) > MAX_PROMPT) { toast(label("too_long", MAX_PROMPT)); box.focus(); return null; }
    if (formNode.contains(document.activeElement)) box.focus();
    const form = new FormData(formNode);
    form.delete("files");
    for (const [name, value] of Object.entries(extra)) form.set(name, value);
    if (tray.appendTo(form) > MAX_BODY) { toast(TOO_LARGE); return null; }
    const buttons = formNode.querySelectorAll("button[type=submit]");
    formNode.dataset.sending = "1";
    for (const button of buttons) button.disabled = true;
    try {
      return await send(url, { body: form });
    } finally {
      delete formNode.dataset.sending;
      for (const button of buttons) button.disabled = false;
    }
  }

  // -- the timeline --------------------------------------------------------------------------

  function chips(list) {
    return list.length ? el("ul", { class: "chips" }, ...list.map((c) => el("li", {}, userText(c)))) : null;
  }

  function refsOf(entry) {
    if (entry.refs && entry.refs.length) {
      return el("div", { class: "refs" }, ...entry.refs.map((ref) =>
        el("figure", { class: "ref" },
          el("a", { href: ref.url, target: "_blank", rel: "noopener" }, el("img", { src: ref.thumb, alt: ref.name, loading: "lazy" })),
          el("figcaption", {}, userText(ref.name)))));
    }
    if (entry.files && entry.files.length) {
      return el("ul", { class: "files" }, ...entry.files.map((name) => el("li", {}, userText(name))));
    }
    return null;
  }

  function renderAsk(entry) {
    const node = el("div", { class: "entry ask" }, el("span", { class: "who" }, LABELS.you));
    if (entry.pressed) {
      node.append(el("p", { class: "pressed" }, `${entry.pressed} · ${entry.job}`));
    } else {
      if (entry.edits) node.append(el("p", { class: "pressed" }, `${LABELS.edit} · ${entry.edits}`));
      node.append(el("p", { class: "text" }, userText(entry.text)));
    }
    node.append(chips(entry.options || []) || "", refsOf(entry) || "");
    return node;
  }

  // Updated in place, each progress step: the Cancel button stays the same element, so it keeps
  // the keyboard's focus and a click that spans an update still lands (it was rebuilt each time).
  function fillStatus(node, entry) {
    node.dataset.stage = entry.stage || "";
    const parts = [el("span", { class: "status-text" }, userText(entry.text))];
    if (entry.stage === "running" || entry.stage === "queued") node.classList.add("live");
    if (entry.percent !== null && entry.percent !== undefined) {
      const bar = el("progress", { max: 100, value: entry.percent, "aria-label": LABELS.progress });
      parts.push(bar, el("span", { class: "percent" }, `${Math.round(entry.percent)}%`));
    } else if (entry.stage === "running") {
      parts.push(el("progress", { "aria-label": LABELS.progress })); // indeterminate
    }
    const line = node.querySelector(".status-line") || node.appendChild(el("div", { class: "status-line" }));
    line.replaceChildren(...parts);
    const wanted = entry.actions && entry.actions.length && entry.job
      ? `${entry.job} ${entry.actions.map((action) => action.action).join(" ")}` : "";
    let actions = node.querySelector(".actions");
    if (actions && actions.dataset.key !== wanted) { actions.remove(); actions = null; }
    if (!actions && wanted) {
      // Cancel, while the job is queued or running (the core refunds it)
      actions = el("div", { class: "actions", "data-key": wanted }, ...entry.actions.map((action) => {
        const button = el("button", { type: "button", "data-action": action.action }, action.label);
        button.addEventListener("click", () => press(entry.job, action.action, null, button));
        return button;
      }));
      line.after(actions);
    }
    let footer = node.querySelector(".footer");
    if (!entry.footer) { if (footer) footer.remove(); return; }
    if (!footer) footer = node.appendChild(el("p", { class: "footer" }));
    footer.replaceChildren(botText(entry.footer));
  }

  function renderStatus(entry) {
    const node = el("div", { class: "entry status" });
    fillStatus(node, entry);
    return node;
  }

  function renderResult(entry, view) {
    const gallery = el("div", { class: "gallery" }, ...entry.images.map((image, i) =>
      el("figure", {},
        el("a", { href: image.url, target: "_blank", rel: "noopener" },
          el("img", { src: image.thumb, alt: entry.prompt, loading: "lazy", width: image.width, height: image.height })),
        el("figcaption", {}, `${label("image", i + 1)} · `,
          el("a", { href: image.url, target: "_blank", rel: "noopener", class: "original" }, LABELS.original),
          " · ", castButton(entry.job, i + 1)))));
    const actions = el("div", { class: "actions" }, ...entry.actions.map((action) => {
      const button = el("button", { type: "button", "data-action": action.action }, action.label);
      if (action.pick) button.dataset.pick = String(action.pick);
      button.addEventListener("click", () => press(entry.job, action.action, view, button, action.pick));
      return button;
    }));
    return el("div", { class: "entry result", "data-job": entry.job },
      gallery, el("p", { class: "caption" }, userText(entry.caption)), actions);
  }

  // A flag a refusal suggests ("add `--model 4.5`") is added to the message it refused, its own
  // value in place of one the message gave; sent alone, a flag is no message to make or edit.
  function withFlag(sent, flag) {
    const name = flag.split(/\s+/)[0];
    const given = new RegExp(`(^|\\s)${name}(\\s+[^\\s-]\\S*)?(?=\\s|$)`); // flags are --letters
    return given.test(sent) ? sent.replace(given, `$1${flag}`) : `${sent.trim()} ${flag}`;
  }

  function renderNote(entry, view) {
    const box = view.form.querySelector("textarea"); // what it says to type goes in the reply box
    const pick = (words) => {
      const sent = entry.kind === "refusal" && words.startsWith("--") ? lastAsk(view, entry.id) : "";
      fill(box, sent ? withFlag(sent, words) : words);
    };
    return el("div", { class: `entry ${entry.kind}` },
      el("p", { class: "text" }, botText(entry.text, pick)));
  }

  // The text of the message a thread's entry answers (the last ask before it).
  function lastAsk(view, entryId) {
    let text = "";
    for (const [id, known] of view.entries) {
      if (id === entryId) break;
      if (known.ask !== undefined) text = known.ask;
    }
    return text;
  }

  function renderEntry(entry, view) {
    switch (entry.kind) {
      case "ask": return renderAsk(entry);
      case "status": return renderStatus(entry);
      case "result": return renderResult(entry, view);
      default: return renderNote(entry, view);
    }
  }

  // "Save to cast": keep this image under a name, for the Cast field or --ref NAME.
  function castButton(job, n) {
    const button = el("button", { type: "button", class: "save-cast", "data-n": String(n) }, LABELS.save_to_cast);
    button.addEventListener("click", async () => {
      const name = window.prompt(label("save_prompt", n));
      if (!name) return;
      const form = new FormData();
      form.append("name", name.trim());
      form.append("n", String(n));
      const data = await send(`/api/jobs/${encodeURIComponent(job)}/cast`, { body: form });
      if (data && data.say) toast(data.say, data.refused);
      refreshCastNames();
    });
    return button;
  }

  async function refreshCastNames() {
    const data = await getJSON("/api/cast");
    if (!data) return [];
    document.getElementById("cast-names").replaceChildren(
      ...data.entries.map((entry) => el("option", { value: entry.name })));
    return data.entries;
  }

  // Busy while its request is on its way: aria-disabled, not disabled (which took the
  // keyboard's focus off the button, to the page).
  async function press(job, action, view, button, pick) {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    const query = pick ? `?pick=${encodeURIComponent(pick)}` : "";
    const data = await send(`/api/jobs/${encodeURIComponent(job)}/${action}${query}`);
    button.removeAttribute("aria-disabled");
    if (data && data.say) toast(data.say, data.refused);
    if (data && data.edit) editing(view, data.edit);
  }

  // Edit pressed: the reply box edits that result (the core's form: its job and prompt).
  function editing(view, edit, focus = true) {
    view.form.dataset.job = edit ? edit.job : "";
    view.form.dataset.prompt = edit ? edit.prompt : "";
    view.target.replaceChildren();
    if (edit) {
      const cancel = el("button", { type: "button", "aria-label": LABELS.edit_latest }, "×");
      cancel.addEventListener("click", () => editing(view, null));
      const prompt = edit.prompt.length > 200 ? `${edit.prompt.slice(0, 200)}…` : edit.prompt;
      view.target.append(`${LABELS.edit} · `, userText(prompt, "prompt"), " ", cancel);
    }
    view.target.hidden = !edit;
    if (focus) view.form.querySelector("textarea").focus();
  }

  function threadView(thread) {
    let view = threads.get(thread.id);
    if (view) return view;
    const node = el("article", { class: "thread", id: `thread-${thread.id}`, "data-thread-id": thread.id });
    const hide = el("button", { type: "button", class: "hide", title: LABELS.hide_thread, "aria-label": LABELS.hide_thread }, "×");
    hide.addEventListener("click", () => send(`/api/threads/${thread.id}/hide`));
    const title = el("h2", {}, userText(thread.title));
    const when = el("time", { datetime: thread.created }, new Date(thread.created).toLocaleTimeString());
    const list = el("div", { class: "entries" });
    const trayNode = el("div", { class: "tray" });
    const target = el("p", { class: "editing", hidden: true });
    const input = el("input", { type: "file", accept: "image/*", multiple: true, class: "files" });
    const text = el("textarea", {
      name: "text", rows: 1, "aria-label": LABELS.reply, placeholder: LABELS.reply_placeholder,
    });
    const draft = drafts && drafts.replies ? drafts.replies[thread.id] : null;
    if (draft && typeof draft.text === "string") text.value = draft.text;
    const count = el("p", { class: "count", id: `count-${thread.id}`, hidden: true });
    text.setAttribute("aria-describedby", count.id);
    const form = el("form", { class: "reply", autocomplete: "off" },
      target, trayNode,
      el("div", { class: "row" }, text,
        el("div", { class: "buttons" },
          el("label", { class: "button attach" }, LABELS.attach, input),
          el("button", { type: "submit" }, LABELS.send))),
      count);
    counted(text, count);
    node.append(el("header", {}, title, when, hide), list, form);
    view = { node, list, form, target, tray: new Tray(trayNode, false), entries: new Map() };
    if (draft && draft.job) editing(view, { job: draft.job, prompt: draft.prompt || "" }, false);
    acceptFiles(form, view.tray, input);
    text.addEventListener("keydown", (event) => submitOnEnter(event, form));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const sent = await submit(`/api/threads/${thread.id}/reply`, form, view.tray, { job: form.dataset.job || "" });
      if (sent) { form.reset(); view.tray.clear(); editing(view, null); count.hidden = true; } // the box keeps the focus
    });
    threads.set(thread.id, view);
    timeline.append(node);
    empty.hidden = true;
    return view;
  }

  // `live`: a change as it happens (not the snapshot a page opens with): a stage it reaches is
  // announced, in a few words.
  function showThread(thread, live = false) {
    const follow = nearBottom();
    const fresh = !threads.has(thread.id);
    const view = threadView(thread);
    const nodes = [];
    const seen = new Set();
    const focused = document.activeElement;
    let said = "";
    for (const entry of thread.entries) {
      seen.add(entry.id);
      const known = view.entries.get(entry.id);
      let node = known ? known.node : null;
      if (!known) {
        node = renderEntry(entry, view);
        if (!fresh || live) said = stageWords(entry) || said;
      } else if (known.rev !== entry.rev) {
        if (known.stage !== (entry.stage || "")) said = stageWords(entry) || said;
        if (entry.kind === "status") fillStatus(node, entry);
        else {
          const renewed = renderEntry(entry, view);
          node.replaceWith(renewed);
          if (node.contains(focused)) focusLike(renewed, focused, view);
          node = renewed;
        }
      }
      view.entries.set(entry.id, {
        rev: entry.rev, node, stage: entry.stage || "",
        ask: entry.kind === "ask" && !entry.pressed ? entry.text : undefined,
      });
      nodes.push(node);
    }
    if (said && (live || !fresh)) announce(said.replace("%(title)s", thread.title));
    for (const id of Array.from(view.entries.keys())) if (!seen.has(id)) view.entries.delete(id);
    // Only what is out of place moves: putting every entry back took the keyboard's focus off
    // the one it was on (Cancel, at each step of its queue).
    const list = view.list;
    const kept = new Set(nodes);
    for (const child of Array.from(list.children)) {
      if (kept.has(child)) continue; // first: moving a gone entry to the end moved the rest
      const hadFocus = child.contains(focused);
      child.remove();
      if (hadFocus) view.form.querySelector("textarea").focus({ preventScroll: true }); // Delete pressed
    }
    nodes.forEach((node, i) => { if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null); });
    if (follow) scrollToBottom();
  }

  // What a screen reader is told of an entry: a stage reached, never its buttons or progress.
  function stageWords(entry) {
    if (entry.kind === "status") {
      if (entry.stage === "queued") return LABELS.announce_queued;
      if (entry.stage === "running") return LABELS.announce_running;
      return "";
    }
    if (entry.kind === "result") return LABELS.announce_ready;
    if (entry.kind === "refusal") return LABELS.announce_failed;
    return "";
  }

  // A re-drawn entry that had the focus: the same button in the new one, or the reply box.
  function focusLike(node, focused, view) {
    const action = focused.dataset ? focused.dataset.action : undefined;
    const same = action ? node.querySelector(`[data-action="${CSS.escape(action)}"]`) : null;
    (same || view.form.querySelector("textarea")).focus({ preventScroll: true });
  }

  function removeThread(id) {
    const view = threads.get(id);
    if (!view) return;
    const hadFocus = view.node.contains(document.activeElement);
    const next = view.node.nextElementSibling || view.node.previousElementSibling;
    view.node.remove();
    threads.delete(id);
    empty.hidden = threads.size > 0;
    if (hadFocus) (next ? next.querySelector("textarea") : prompt).focus({ preventScroll: true });
  }

  function showAll(list) {
    const keep = new Set(list.map((t) => t.id));
    for (const id of Array.from(threads.keys())) if (!keep.has(id)) removeThread(id);
    for (const thread of list) showThread(thread);
    empty.hidden = threads.size > 0;
  }

  // -- the event stream -----------------------------------------------------------------------

  // Offline: a red border and a line that says so (read out politely: role=status).
  function offline(yes) {
    body.classList.toggle("offline", yes);
    connection.hidden = !yes;
  }

  let watchdog = null;

  function connect() {
    const source = new EventSource("/api/events");
    let heard = Date.now();
    const hear = (handle) => (event) => { heard = Date.now(); handle(event); };
    const on = (name, handle) => source.addEventListener(name, hear(handle));
    on("snapshot", (event) => {
      const list = JSON.parse(event.data).threads;
      showAll(list);
      if (list.length) scrollToBottom(); // an empty page stays at its top (a phone showed no header)
    });
    on("thread", (event) => showThread(JSON.parse(event.data), true));
    on("gone", (event) => removeThread(JSON.parse(event.data).id));
    on("usage", (event) => { usage.textContent = JSON.parse(event.data).text; });
    on("ping", () => {});
    on("open", () => offline(false));
    source.addEventListener("error", () => {
      offline(true);
      // Closed (a 502 from a proxy while seedbot restarts, a session a restart forgot): try
      // again until the server answers; getJSON reloads the page for a session it no longer has.
      if (source.readyState === EventSource.CLOSED) { clearInterval(watchdog); reconnect(2000); }
    });
    // Nothing at all for longer than two keep-alives: the connection is dead without saying so.
    // Opened again, the stream starts with a fresh snapshot.
    clearInterval(watchdog);
    watchdog = setInterval(() => {
      if (Date.now() - heard < SILENCE) return;
      clearInterval(watchdog);
      source.close();
      offline(true);
      reconnect(500);
    }, 5000);
  }

  function reconnect(delay) {
    setTimeout(async () => {
      if (await getJSON("/api/usage")) connect();
      else reconnect(Math.min(delay * 2, 30000));
    }, delay);
  }

  // -- the composer ---------------------------------------------------------------------------

  function submitOnEnter(event, form) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  }

  // A live count against the prompt's limit, once it is near (90%) or over.
  // The fewest characters the server can count for the prompt (the limit is the prompt's, not
  // its flags'): every dashed word (`--ar`, `—ar` as phones type it, `--4k`) is left out with
  // the word after it, and characters are counted as the server does (an emoji is one). Never
  // more than the server's count, so only a prompt surely over the limit is held back.
  function promptLength(text) {
    const words = text.split(/\s+/).filter(Boolean);
    const kept = [];
    for (let i = 0; i < words.length; i += 1) {
      if (/^[-\u2010-\u2015\u2212]{1,2}[a-z0-9]/i.test(words[i])) { i += 1; continue; }
      kept.push(words[i]);
    }
    return Array.from(kept.join(" ")).length;
  }

  function counted(box, counter) {
    const update = () => {
      const n = promptLength(box.value);
      counter.hidden = n < MAX_PROMPT * 0.9;
      counter.textContent = `${n.toLocaleString(document.documentElement.lang)} / ${MAX_PROMPT.toLocaleString(document.documentElement.lang)}`;
      counter.classList.toggle("over", n > MAX_PROMPT);
    };
    box.addEventListener("input", update);
    update();
  }

  const composer = document.getElementById("composer");
  const prompt = document.getElementById("prompt");
  const drafts = takeDrafts();
  if (drafts) {
    if (typeof drafts.prompt === "string") prompt.value = drafts.prompt;
    for (const [name, value] of Object.entries(drafts.options || {})) {
      const field = composer.elements.namedItem(name);
      if (field && typeof value === "string" && field.type !== "file") field.value = value;
    }
  }
  counted(prompt, document.getElementById("prompt-count"));
  // The toasts sit above the composer, whatever its height (a phone's is taller).
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--composer-height", `${composer.offsetHeight}px`);
  }).observe(composer);
  const composerTray = new Tray(document.getElementById("composer-tray"), true);
  acceptFiles(composer, composerTray, document.getElementById("composer-files"));
  prompt.addEventListener("keydown", (event) => submitOnEnter(event, composer));
  // An example fills the box, flags and all, to send as it is or change first.
  for (const example of empty.querySelectorAll(".example")) {
    example.addEventListener("click", () => fill(prompt, example.dataset.prompt));
  }
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!prompt.value.trim() && !composerTray.files.length) { prompt.focus(); return; }
    const sent = await submit("/api/ask", composer, composerTray);
    if (sent) {
      prompt.value = "";
      prompt.dispatchEvent(new Event("input"));
      composerTray.clear();
      scrollToBottom();
    }
  });
  // Images dropped anywhere else go to the composer.
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => { event.preventDefault(); composerTray.add(imagesOf(event.dataTransfer)); });

  // -- history, help, sign-out ------------------------------------------------------------------

  function dialog(id) {
    const node = document.getElementById(id);
    node.querySelector(".close").addEventListener("click", () => node.close());
    node.addEventListener("click", (event) => { if (event.target === node) node.close(); });
    return node;
  }

  const historyDialog = dialog("history");
  const historyGallery = document.getElementById("history-gallery");
  document.getElementById("show-history").addEventListener("click", async () => {
    const data = await getJSON("/api/history");
    if (!data) return;
    const cards = data.jobs.map((job) => {
      const images = job.images.slice(0, 4).map((image) => {
        const img = el("img", { src: image.thumb, alt: job.prompt, loading: "lazy" });
        img.addEventListener("error", () => img.parentElement.remove()); // no longer kept
        return el("a", { href: image.url, target: "_blank", rel: "noopener" }, img);
      });
      const card = el("figure", { class: `card ${job.status}` },
        el("div", { class: "thumbs" }, ...images),
        el("figcaption", {}, userText(job.prompt, "prompt"),
          el("span", { class: "meta" }, `${LABELS.kinds[job.kind] || job.kind} · ${LABELS.statuses[job.status] || job.status} · ${new Date(job.created).toLocaleString(document.documentElement.lang)}`)));
      if (job.thread) {
        const go = el("button", { type: "button" }, LABELS.show_thread);
        go.addEventListener("click", () => {
          historyDialog.close();
          document.getElementById(`thread-${job.thread}`).scrollIntoView({ behavior: motion() });
        });
        card.querySelector("figcaption").append(go);
      }
      return card;
    });
    historyGallery.replaceChildren(...(cards.length ? cards : [el("p", {}, LABELS.no_images)]));
    historyDialog.showModal();
  });

  const castDialog = dialog("cast");
  const castGallery = document.getElementById("cast-gallery");
  async function showCast() {
    const entries = await refreshCastNames();
    const cards = entries.map((entry, index) => {
      const remove = el("button", { type: "button", class: "remove-cast" }, LABELS.remove);
      remove.addEventListener("click", async () => {
        const data = await send(`/api/cast/${encodeURIComponent(entry.name)}/remove`);
        if (data && data.say) toast(data.say, data.refused);
        await showCast();
        // The focus goes to the next card's Remove (the last one's), or the dialog's ×.
        const buttons = castGallery.querySelectorAll(".remove-cast");
        (buttons[Math.min(index, buttons.length - 1)] || castDialog.querySelector(".close")).focus();
      });
      return el("figure", { class: "card", "data-name": entry.name },
        el("div", { class: "thumbs" },
          el("a", { href: entry.url, target: "_blank", rel: "noopener" },
            el("img", { src: entry.thumb, alt: entry.name, loading: "lazy" }))),
        el("figcaption", {}, userText(entry.name, "prompt"),
          el("span", { class: "meta" }, `${entry.width}x${entry.height}`), remove));
    });
    castGallery.replaceChildren(...(cards.length ? cards : [el("p", {}, LABELS.nothing_saved)]));
  }
  document.getElementById("show-cast").addEventListener("click", async () => {
    await showCast();
    if (!castDialog.open) castDialog.showModal();
  });

  const helpDialog = dialog("help");
  document.getElementById("show-help").addEventListener("click", async () => {
    const data = await getJSON("/api/help");
    if (!data) return;
    const pick = (words) => { helpDialog.close(); fill(prompt, words); };
    document.getElementById("help-text").replaceChildren(botText(data.text, pick));
    helpDialog.showModal();
  });

  const signOut = document.getElementById("sign-out");
  if (signOut) {
    signOut.addEventListener("click", async () => {
      await fetch("/logout", { method: "POST", credentials: "same-origin", headers: { [CSRF_HEADER]: CSRF } });
      location.assign("/login");
    });
  }

  // The language menu: the page again in the language picked (the server keeps it in a cookie).
  const language = document.getElementById("language");
  language.addEventListener("change", () => {
    location.assign(`/?lang=${encodeURIComponent(language.value)}`);
  });

  connect();
})();
