// Small behaviours shared by every staff page (no inline scripts: CSP).
"use strict";

// <form data-confirm="Question?">: ask before submitting destructive actions.
document.addEventListener("submit", (e) => {
  const q = e.target.dataset && e.target.dataset.confirm;
  if (q && !window.confirm(q)) e.preventDefault();
});
