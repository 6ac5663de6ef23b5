// The lot page's event entry without a page load (progressive enhancement).
// Without this script the quick-add buttons are links (?type=...#record) and the
// form posts and redirects back to #record: the same endpoint, the same answers.
(function () {
  "use strict";

  function section(doc, id) {
    return doc.getElementById(id);
  }

  function chooseType(form, type) {
    var select = form.querySelector("select[name=type]");
    if (select) select.value = type;
    var buttons = document.querySelectorAll(".quick-type");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].classList.toggle("chosen", buttons[i].getAttribute("data-type") === type);
    }
    var quantity = form.querySelector("input[name=quantity]");
    (quantity || select).focus();
  }

  function bind() {
    var form = document.querySelector("form[data-enhance=event]");
    if (!form) return;
    var links = document.querySelectorAll(".quick-type");
    for (var i = 0; i < links.length; i++) {
      links[i].addEventListener("click", function (event) {
        event.preventDefault();
        chooseType(form, this.getAttribute("data-type"));
      });
    }
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.DOMParser) return; // the normal POST and redirect
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      })
        .then(function (response) {
          return response.text().then(function (html) {
            return { ok: response.ok, status: response.status, html: html };
          });
        })
        .then(function (answer) {
          var doc = new DOMParser().parseFromString(answer.html, "text/html");
          var record = section(doc, "record");
          var events = section(doc, "events");
          if (!record || !events) throw new Error("unexpected answer " + answer.status);
          section(document, "record").replaceWith(document.importNode(record, true));
          section(document, "events").replaceWith(document.importNode(events, true));
          var stale = document.querySelectorAll("main > .flash"); // the messages of the page's last load
          for (var j = 0; j < stale.length; j++) stale[j].remove();
          var status = section(document, "record-status");
          var flashes = doc.querySelectorAll("main > .flash");
          for (var i = 0; i < flashes.length; i++) status.appendChild(document.importNode(flashes[i], true));
          bind();
          var fresh = document.querySelector("form[data-enhance=event]");
          if (answer.ok) {
            var last = document.querySelector("#events .timeline > li:last-child");
            if (last) last.classList.add("just-recorded");
            fresh.querySelector("select[name=type]").focus();
          } else {
            var error = fresh.querySelector(".has-error input, .has-error select, .has-error textarea");
            if (error) error.focus();
          }
        })
        .catch(function () {
          // Not sent again by itself: the event may have been stored before the answer was lost.
          button.disabled = false;
          var status = section(document, "record-status");
          status.textContent = "";
          var message = document.createElement("p");
          message.className = "flash flash-error";
          message.textContent = form.getAttribute("data-failed");
          status.appendChild(message);
        });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bind);
  else bind();
})();
