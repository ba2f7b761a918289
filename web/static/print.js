// Print buttons (`[data-print]`) on the activation-code sheet. They start hidden: without this
// module the page tells people to use the browser's own print command instead.
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
