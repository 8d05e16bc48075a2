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

// The access policy form: "Add rule" copies the blank rule of its template, "Remove" takes a
// rule out, and each rule shows only the fields its kind uses. Without this script both
// buttons post the form, which comes back with a rule more or less.
document.addEventListener("DOMContentLoaded", () => {
  const list = document.querySelector("[data-rule-list]");
  const template = document.getElementById("rule-template");
  const count = document.querySelector("[data-rule-count]");
  if (!list || !template || !count) return;

  const renumber = () => {
    list.querySelectorAll("[data-rule-number]").forEach((number, k) => {
      number.textContent = String(k + 1);
    });
  };
  const sync = (card) => {
    const target = card.querySelector("[data-shows=target]").value;
    const who = card.querySelector("[data-shows=who]").value;
    for (const field of card.querySelectorAll("[data-when-target]")) {
      field.hidden = !field.dataset.whenTarget.split(" ").includes(target);
    }
    for (const field of card.querySelectorAll("[data-when-who]")) {
      const filled = field.querySelector("textarea")?.value.trim();
      field.hidden = !field.dataset.whenWho.split(" ").includes(who) && !filled;
    }
    const name = card.querySelector("input[list]");
    if (name) name.setAttribute("list", who === "group" ? "policy-groups" : "policy-roles");
    card.classList.toggle("deny", card.querySelector("select.effect").value === "deny");
  };
  const wire = (card) => {
    card.addEventListener("change", () => sync(card));
    card.querySelector(".remove-rule")?.addEventListener("click", (event) => {
      event.preventDefault();
      card.remove();
      renumber();
    });
    sync(card);
  };

  list.querySelectorAll(".rule-card").forEach(wire);
  document.querySelector("[data-add-rule]")?.addEventListener("click", (event) => {
    event.preventDefault();
    const index = Number(count.value);
    const html = template.innerHTML
      .replaceAll("__i__", String(index))
      .replaceAll("__n__", String(list.children.length + 1));
    list.insertAdjacentHTML("beforeend", html);
    count.value = String(index + 1);
    const card = list.lastElementChild;
    wire(card);
    renumber();
    card.querySelector("input[type=text]")?.focus();
  });
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
