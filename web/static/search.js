// search.js: the resource pages' small helpers — suggestions as one types in the search box
// (`/resources`), and the facets opened beside the results on a wide screen.
//
// Progressive enhancement: the search is a plain GET form the server answers in full; this only
// adds to it. Suggestions are titles the searcher may see (`GET /api/v1/search/suggest?q=`,
// with the session cookie), asked 150 ms after the last keystroke, older answers dropped. They
// are only ever set as text. The box is an ARIA combobox over a listbox: ↓ and ↑ move through
// the titles, Enter opens the highlighted one (or searches, when none is), Escape closes the
// list, and a tap or click opens a title.

const DELAY = 150;

const refine = document.querySelector("[data-refine]");
if (refine && window.matchMedia("(min-width: 720px)").matches) refine.open = true;

const input = document.querySelector("[data-suggest]");
const list = input && document.getElementById(input.getAttribute("aria-controls") || "");
if (input && list) suggest(input, list);

function suggest(input, list) {
  let timer = 0;
  let pending = null;
  let asked = "";
  let options = [];
  let active = -1;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    active = -1;
    asked = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function show(suggestions) {
    list.replaceChildren();
    options = suggestions.map((s, i) => {
      const option = document.createElement("li");
      option.id = `suggestion-${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = s.title;
      option.dataset.href = `/resources/${encodeURIComponent(s.id)}`;
      // Keep the focus in the box (a blur would close the list before the click lands).
      option.addEventListener("mousedown", (event) => event.preventDefault());
      option.addEventListener("click", () => open(option));
      list.append(option);
      return option;
    });
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (options.length === 0) {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      return;
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function move(to) {
    if (options.length === 0) return;
    const next = (to + options.length) % options.length;
    options.forEach((o, i) => o.setAttribute("aria-selected", String(i === next)));
    active = next;
    input.setAttribute("aria-activedescendant", options[next].id);
    options[next].scrollIntoView({ block: "nearest" });
  }

  function open(option) {
    window.location.assign(option.dataset.href);
  }

  async function ask() {
    const text = input.value.trim();
    if (!text) {
      if (pending) pending.abort();
      close();
      return;
    }
    if (text === asked) return;
    asked = text;
    if (pending) pending.abort();
    pending = new AbortController();
    try {
      const response = await fetch(`${input.dataset.suggest}?q=${encodeURIComponent(text)}`, {
        credentials: "same-origin",
        headers: { accept: "application/json" },
        signal: pending.signal,
      });
      if (!response.ok) {
        close();
        return;
      }
      const body = await response.json();
      // The box changed while the answer was on its way: a newer question is coming.
      if (input.value.trim() !== text) return;
      show(Array.isArray(body.suggestions) ? body.suggestions : []);
    } catch (err) {
      if (err.name !== "AbortError") close();
    }
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, DELAY);
  });

  input.addEventListener("keydown", (event) => {
    const expanded = !list.hidden && options.length > 0;
    switch (event.key) {
      case "ArrowDown":
        if (!expanded) return;
        event.preventDefault();
        move(active + 1);
        break;
      case "ArrowUp":
        if (!expanded) return;
        event.preventDefault();
        move(active - 1);
        break;
      case "Enter":
        if (expanded && active >= 0) {
          event.preventDefault();
          open(options[active]);
        }
        break;
      case "Escape":
        if (expanded) {
          event.preventDefault();
          close();
        }
        break;
      default:
    }
  });

  input.addEventListener("blur", () => {
    window.clearTimeout(timer);
    close();
  });
}
