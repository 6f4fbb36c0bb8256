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

// Batch and import progress: a page marks a block with data-progress (a
// stream of batches, rows marked data-batch) or data-import-progress; the
// fields marked data-field are updated in place (fixed-size bars, so the
// layout does not move). Without scripts the page shows the state it was
// drawn with, and a reload updates it.
(function () {
  if (!window.EventSource) { return; }
  function fill(root, e) {
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var f = el.getAttribute("data-field");
      if (f === "percent") {
        if (e.state === "queued" || (e.state === "running" && e.percent === undefined)) { el.removeAttribute("value"); return; }
        var p = e.final ? 100 : (e.percent || 0);
        el.value = p;
        el.textContent = p + "%";
      } else if (f === "state") {
        el.textContent = e.state;
        el.className = "state state-" + e.state;
      } else if (e[f] !== undefined) {
        el.textContent = e[f];
      }
    });
  }
  function follow(el, url, onEvent) {
    var src = new EventSource(url);
    src.addEventListener("progress", function (m) { onEvent(JSON.parse(m.data)); });
    src.addEventListener("done", function () {
      src.close();
      if (el.hasAttribute("data-reload")) { window.location.reload(); }
    });
    src.onerror = function () { if (src.readyState === EventSource.CLOSED) { src.close(); } };
  }
  document.querySelectorAll("[data-progress]").forEach(function (el) {
    follow(el, el.getAttribute("data-progress"), function (e) {
      el.querySelectorAll('[data-batch="' + e.batchNo + '"]').forEach(function (row) { fill(row, e); });
    });
  });
  document.querySelectorAll("[data-import-progress]").forEach(function (el) {
    el.setAttribute("data-reload", "1");
    follow(el, el.getAttribute("data-import-progress"), function (e) { fill(el, e); });
  });
})();

// Uploads: a form marked data-upload takes a dropped file and is sent by
// XMLHttpRequest, its bar following the bytes sent; the server answers
// {"location"} (the batch or import page, which follows the rest) or
// {"error"}. Without scripts the form posts as usual.
(function () {
  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (ev) {
      ev.preventDefault();
      if (ev.dataTransfer && ev.dataTransfer.files.length) { input.files = ev.dataTransfer.files; }
    });
  });
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      ev.preventDefault();
      var box = form.querySelector("[data-upload-progress]");
      var bar = box.querySelector("progress");
      var status = box.querySelector("[data-upload-status]");
      var button = form.querySelector("button[type=submit]");
      box.hidden = false;
      button.disabled = true;
      var data = new FormData(form);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", form.querySelector("input[name=csrf]").value);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var p = Math.floor(e.loaded * 100 / e.total);
          bar.value = p;
          bar.textContent = p + "%";
          status.textContent = "Sending: " + p + "%";
        }
      });
      xhr.upload.addEventListener("load", function () { status.textContent = "Sent; the server is reading the file."; });
      xhr.onload = function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {error: "The server's answer could not be read (status " + xhr.status + "); reload the page and try again."}; }
        if (answer.location) {
          bar.value = 100;
          window.location.assign(answer.location);
          return;
        }
        button.disabled = false;
        bar.value = 0;
        status.textContent = "";
        box.hidden = true;
        var msg = document.getElementById("page-error");
        if (!msg) {
          msg = document.createElement("p");
          msg.className = "error";
          msg.id = "page-error";
          msg.setAttribute("role", "alert");
          document.querySelector(".messages").appendChild(msg);
        }
        msg.textContent = answer.error;
        msg.scrollIntoView();
      };
      xhr.onerror = function () {
        button.disabled = false;
        status.textContent = "The upload was cut off; check the connection and send it again.";
      };
      xhr.send(data);
    });
  });
})();
