// The send dialog: shows the contacts back as they will be used (E.164 phone,
// email typo hints) while staff type, and stops a double click sending twice.
// Without script the server checks the same on submit.
(function () {
  "use strict";
  var input = document.getElementById("contacts");
  var out = document.getElementById("contacts-preview");
  var form = document.getElementById("send-form");
  if (!input || !out || !form) return;
  var timer = 0, seq = 0;

  function show(parts, bad) {
    out.textContent = parts.join(" · ");
    out.className = bad ? "small field-error" : "small";
    input.setAttribute("aria-invalid", bad ? "true" : "false");
  }

  function text(x) { return typeof x === "string" ? x : x.message; }

  function check() {
    var mine = ++seq;
    var value = input.value;
    if (!value.trim()) { show([], false); return; }
    fetch(input.dataset.check, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": input.dataset.csrf },
      body: JSON.stringify({ contacts: value })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
      if (!j || mine !== seq) return;
      if (j.errors && j.errors.length) { show(j.errors.map(text), true); return; }
      var parts = [];
      if (j.email) parts.push(input.dataset.email + ": " + j.email);
      if (j.phone) parts.push(input.dataset.phone + ": " + (j.phone_display || j.phone));
      (j.warnings || []).forEach(function (w) { parts.push(text(w)); });
      show(parts, false);
    }).catch(function () { /* the server checks again on submit */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  if (input.value) check();

  form.addEventListener("submit", function () {
    var b = document.getElementById("send-submit");
    // After the request leaves: disabling first would drop the button's value.
    setTimeout(function () { if (b) b.disabled = true; }, 0);
  });
})();
