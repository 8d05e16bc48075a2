// keywarden admin console: small progressive enhancements. Every page works without this.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons (hidden until this script shows them): copy the named input's value.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const input = document.getElementById(button.dataset.copy);
    if (!input || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  }

  // The realm switcher closes on a click elsewhere or on Escape.
  const switcher = document.querySelector("details.switcher");
  if (switcher) {
    document.addEventListener("click", (event) => {
      if (switcher.open && !switcher.contains(event.target)) switcher.open = false;
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && switcher.open) {
        switcher.open = false;
        switcher.querySelector("summary").focus();
      }
    });
  }
});

// A file input with data-fills (hidden until this script shows it) reads the chosen file
// into the named textarea, so a file can be sent by a form that has no upload.
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[type=file][data-fills]")) {
    const target = document.getElementById(input.dataset.fills);
    if (!target) continue;
    input.hidden = false;
    input.addEventListener("change", async () => {
      const [file] = input.files;
      if (file) target.value = await file.text();
    });
  }
});
