// Small behaviours shared by every staff page (no inline scripts: CSP).
"use strict";

// <form data-confirm="Question?">: ask before submitting destructive actions.
document.addEventListener("submit", (e) => {
  const q = e.target.dataset && e.target.dataset.confirm;
  if (q && !window.confirm(q)) e.preventDefault();
});

// A thumbnail the server cannot render (no pixel data, damaged file) shows a
// neutral placeholder instead of the browser's broken-image icon. Errors that
// happened before this deferred script ran are found by the scan below.
function markUnrendered(img) {
  const placeholder = document.createElement("span");
  placeholder.className = "no-preview";
  placeholder.dataset.src = img.getAttribute("src");
  img.replaceWith(placeholder);
}
document.addEventListener("error", (e) => {
  if (e.target.tagName === "IMG" && e.target.closest(".strip, .thumb")) markUnrendered(e.target);
}, true);
for (const img of document.querySelectorAll(".strip img, .thumb img")) {
  if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) markUnrendered(img);
}
