/* walletvoucher counter pages: the staff scanner's camera and the kiosk's input and camera. No inline script.
 *
 * Both read QR codes and barcodes with the vendored zxing-wasm decoder (static/vendor/zxing-wasm, the same
 * decoder on iOS Safari, which has no BarcodeDetector, and on Android Chrome). What they read is put into
 * the page's own form and posted: the server decides, the device token never reaches script.
 */
(function () {
  "use strict";
  var main = document.getElementById("main");
  /* what passes draw for scan tokens and card serials (EAN/UPC codes are for the POS's own scanner) */
  var FORMATS = ["QRCode", "Aztec", "PDF417", "Code128"];

  function cameraPossible() {
    return !!(window.ZXingWASM && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  /* The camera and the decoder: calls read(text) for every valid code it sees (about ten frames a second)
   * until stop(); failed(why) when there is no camera to use. */
  function Camera(section, video, read, failed) {
    var stream = null, busy = false, stopped = false, timer = null;
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var wasm = section.dataset.wasm;
    window.ZXingWASM.prepareZXingModule({
      overrides: { locateFile: function (path, prefix) { return /\.wasm$/.test(path) ? wasm : prefix + path; } },
      fireImmediately: true
    });

    function tick() {
      timer = null;
      if (stopped || !stream) { return; }
      if (!busy && video.readyState >= 2 && video.videoWidth) {
        busy = true;
        var scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        window.ZXingWASM.readBarcodes(image, { formats: FORMATS, maxNumberOfSymbols: 1, tryHarder: true })
          .then(function (found) {
            busy = false;
            var hit = found.filter(function (r) { return r.isValid && r.text; })[0];
            if (hit && !stopped) { read(hit.text); }
          })
          .catch(function () { busy = false; main.dataset.camera = "decoder-failed"; });
      }
      timer = setTimeout(tick, 100);
    }

    this.resume = function () { if (!timer && !stopped) { tick(); } };
    this.stop = function () {
      stopped = true;
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
      stream = null;
      section.hidden = true;
    };
    navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } }
    }).then(function (media) {
      if (stopped) { media.getTracks().forEach(function (track) { track.stop(); }); return null; }
      stream = media;
      video.srcObject = media;
      section.hidden = false;
      return video.play();
    }).then(function () {
      if (stopped) { return; }
      main.dataset.camera = "on";
      tick();
    }).catch(function () {
      main.dataset.camera = "unavailable";
      failed();
    });
    window.addEventListener("pagehide", this.stop);
  }

  /* Post a form in the background; answer(next main element, its document) or, failing that, post it
   * the ordinary way. */
  function post(target, answer) {
    var body = new URLSearchParams(new FormData(target));
    fetch(target.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("main");
        if (!next) { throw new Error("no page"); }
        answer(next, doc);
      })
      .catch(function () { HTMLFormElement.prototype.submit.call(target); });
  }

  var kioskForm = document.getElementById("kiosk-form");
  if (kioskForm) { kiosk(kioskForm); return; }
  staff();

  /* The kiosk: a USB scanner types into the focused input and presses Enter; with the camera on (the
   * toggle, or /kiosk?camera=on, remembered on the device) the camera reads cards unattended. */
  function kiosk(form) {
    var barcode = document.getElementById("barcode");
    var section = document.getElementById("kiosk-camera");
    var video = document.getElementById("kiosk-video");
    var toggle = document.getElementById("camera-toggle");
    var idleMs = parseInt(section.dataset.idleMs, 10) || 10000;
    /* the same code seen again within this long of its last sighting is the same card still held up */
    var COOLDOWN_MS = 6000;
    var KEY = "walletvoucher.kiosk.camera";
    var idle = { html: null, state: "kiosk", className: main.className, tone: "kiosk-answer tone-idle" };
    var camera = null, sending = false, last = "", lastSeen = 0, back = null;

    barcode.focus();
    barcode.addEventListener("blur", function () { setTimeout(function () { barcode.focus(); }, 100); });

    function stored() {
      var asked = new URLSearchParams(window.location.search).get("camera");
      try {
        if (asked === "on" || asked === "off") { window.localStorage.setItem(KEY, asked); }
        return window.localStorage.getItem(KEY) === "on";
      } catch (error) { return asked === "on"; }
    }

    function remember(on) {
      try { window.localStorage.setItem(KEY, on ? "on" : "off"); } catch (error) { /* private mode */ }
    }

    function show(next, doc) {
      var answer = document.getElementById("answer");
      var fresh = next.querySelector("#answer");
      if (fresh) {
        fresh = document.importNode(fresh, true);
        fresh.lang = doc.documentElement.lang; /* the customer's language, maybe not the idle screen's */
        fresh.dir = doc.documentElement.dir;
        answer.replaceWith(fresh);
      }
      main.className = next.className;
      main.dataset.state = next.dataset.state;
    }

    function toIdle() {
      back = null;
      var answer = document.getElementById("answer");
      var fresh = document.createElement("section");
      fresh.innerHTML = idle.html;
      fresh.className = idle.tone;
      fresh.id = "answer";
      fresh.setAttribute("aria-live", "assertive");
      answer.replaceWith(fresh);
      main.className = idle.className;
      main.dataset.state = idle.state;
      var hint = document.getElementById("camera-hint");
      if (hint) { hint.hidden = !camera; }
    }

    function submit(value) {
      sending = true;
      barcode.value = value;
      post(form, function (next, doc) {
        sending = false;
        barcode.value = "";
        barcode.focus();
        show(next, doc);
        if (back) { clearTimeout(back); }
        back = setTimeout(toIdle, idleMs); /* the answer stays a while, then the next customer sees a clean screen */
      });
    }

    function read(text) {
      var now = Date.now();
      if (text === last && now - lastSeen < COOLDOWN_MS) { lastSeen = now; return; } /* still held up */
      last = text;
      lastSeen = now;
      if (!sending) { main.dataset.camera = "read"; submit(text); }
    }

    function start() {
      if (idle.html === null) { idle.html = document.getElementById("answer").innerHTML; }
      toggle.textContent = toggle.dataset.off;
      var hint = document.getElementById("camera-hint");
      camera = new Camera(section, video, read, function () { stop(); });
      if (hint) { hint.hidden = false; }
      barcode.inputMode = "none"; /* a USB scanner still types here, but no on-screen keyboard covers the camera */
    }

    function stop() {
      if (camera) { camera.stop(); }
      camera = null;
      toggle.textContent = toggle.dataset.on;
      barcode.removeAttribute("inputmode");
      var hint = document.getElementById("camera-hint");
      if (hint) { hint.hidden = true; }
    }

    var idleScreen = main.dataset.state === "kiosk";
    if (cameraPossible()) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var on = !camera;
        remember(on);
        if (on && !idleScreen) { window.location.replace(form.getAttribute("action")); return; }
        if (on) { start(); } else { stop(); }
        barcode.focus();
      });
    }

    if (cameraPossible() && stored() && idleScreen) {
      start();
      /* typed codes too stay on this page, so the camera keeps running */
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!sending && barcode.value) { submit(barcode.value); }
      });
      return;
    }
    form.addEventListener("submit", function () {
      setTimeout(function () { barcode.readOnly = true; }, 0); /* one scan, one request */
    });
    if (main.dataset.state !== "kiosk") {
      setTimeout(function () { if (!barcode.value) { window.location.replace(form.getAttribute("action")); } }, idleMs);
    }
  }

  /* The staff scanner: answers show over the scanner instead of replacing the page, so the camera keeps
   * running (and iOS does not ask for it again); "Scan next" takes the answer away. Without script the
   * forms post as usual. */
  function staff() {
    var section = document.getElementById("camera");
    var video = document.getElementById("video");
    var hint = document.getElementById("camera-hint");
    var form = document.getElementById("scan-form");
    var input = document.getElementById("scan-value");
    if (!section || !video || !form || !input) { return; }

    var scanning = { state: main.dataset.state, className: main.className };
    var overlay = document.createElement("div");
    overlay.className = "overlay";
    overlay.id = "overlay";
    overlay.hidden = true;
    main.appendChild(overlay);
    var camera = null, done = false;

    function answer(next, doc) {
      overlay.innerHTML = next.innerHTML; /* our own server's escaped page */
      /* the answers are English, left to right, whatever the scanner's own language */
      overlay.lang = doc.documentElement.lang;
      overlay.dir = doc.documentElement.dir;
      overlay.hidden = false;
      main.className = next.className;
      main.dataset.state = next.dataset.state;
      window.scrollTo(0, 0);
      var focus = overlay.querySelector("#stamp-button") || overlay.querySelector("#next");
      if (focus) { focus.focus(); }
    }

    function send(target) {
      done = true;
      post(target, answer);
    }

    function resume() {
      overlay.hidden = true;
      overlay.innerHTML = "";
      main.className = scanning.className;
      main.dataset.state = scanning.state;
      input.value = "";
      done = false;
      if (camera) { camera.resume(); }
    }

    main.addEventListener("submit", function (event) {
      if (!event.target.matches("form[method=post]")) { return; }
      event.preventDefault();
      send(event.target);
    });
    overlay.addEventListener("click", function (event) {
      if (event.target.closest("#next")) { event.preventDefault(); resume(); }
    });

    if (!cameraPossible()) {
      main.dataset.camera = "unavailable";
      hint.textContent = hint.dataset.noCamera;
      return;
    }
    camera = new Camera(section, video, function (text) {
      if (done) { return; }
      main.dataset.camera = "read";
      input.value = text;
      send(form);
    }, function () { hint.textContent = hint.dataset.blocked; });
  }
}());
