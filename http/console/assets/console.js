// trueup console: small progressive enhancements; every page works without
// them.
"use strict";
document.addEventListener("click", function (ev) {
  var t = ev.target.closest("[data-confirm]");
  if (t && !window.confirm(t.getAttribute("data-confirm"))) {
    ev.preventDefault();
    return;
  }
  var c = ev.target.closest("[data-copy]");
  if (c) {
    var src = document.getElementById(c.getAttribute("data-copy"));
    if (src && navigator.clipboard) {
      navigator.clipboard.writeText(src.value || src.textContent).then(function () {
        c.textContent = "Copied";
      });
    } else if (src) {
      src.select();
    }
  }
});
