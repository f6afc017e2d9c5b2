/* walletvoucher customer pages 1.0: the redeem gesture and the live success screen.
   No inline script anywhere (the pages' Content-Security-Policy forbids it); every form works without this. */
(function () {
  "use strict";
  var HOLD_MS = 1200;
  document.documentElement.classList.add("js");

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function holdToRedeem(form) {
    var button = form.querySelector(".hold");
    if (!button) { return; }
    var timer = null;
    var text = button.querySelector(".text");
    text.textContent = button.getAttribute("data-hold-label");
    var hint = document.getElementById("hold-hint");
    if (hint) { hint.hidden = false; }
    var plain = document.getElementById("confirm-hint");
    if (plain) { plain.hidden = true; }
    function start(event) {
      if (event) { event.preventDefault(); }
      if (timer) { return; }
      button.classList.add("holding");
      timer = window.setTimeout(function () { timer = null; form.submit(); }, HOLD_MS);
    }
    function stop() {
      if (timer) { window.clearTimeout(timer); timer = null; }
      button.classList.remove("holding");
    }
    button.addEventListener("click", function (event) { event.preventDefault(); });
    button.addEventListener("pointerdown", start);
    button.addEventListener("pointerup", stop);
    button.addEventListener("pointerleave", stop);
    button.addEventListener("pointercancel", stop);
    button.addEventListener("keydown", function (event) {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) { start(event); }
    });
    button.addEventListener("keyup", stop);
  }

  function liveConfirmation(live) {
    var started = Date.now() - parseInt(live.getAttribute("data-age-ms") || "0", 10);
    var agoText = live.getAttribute("data-ago");
    var clock = document.getElementById("clock");
    var ago = document.getElementById("ago");
    var lastSeconds = -1;
    var zoned = null;
    try {  /* the shop's time zone, as on the rest of the page */
      zoned = new Intl.DateTimeFormat("en-GB", {timeZone: live.getAttribute("data-zone") || undefined,
        hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"});
    } catch (error) { zoned = null; }
    function tick() {
      var now = new Date();
      clock.textContent = zoned ? zoned.format(now)
        : two(now.getHours()) + ":" + two(now.getMinutes()) + ":" + two(now.getSeconds());
      var seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
      if (seconds !== lastSeconds) { ago.textContent = agoText.replace("{n}", String(seconds)); lastSeconds = seconds; }
      var settle = parseInt(live.getAttribute("data-settle-ms") || "180000", 10);
      if (Date.now() - started >= settle) {
        document.documentElement.classList.add("is-settled");
        return;
      }
      window.setTimeout(tick, 200);
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("redeem-form");
    if (form) { holdToRedeem(form); }
    var live = document.getElementById("live");
    if (live) { liveConfirmation(live); }
  });
})();
