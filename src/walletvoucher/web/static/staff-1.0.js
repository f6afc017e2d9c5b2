/* walletvoucher counter pages: the staff scanner's camera and the kiosk's input. No inline script.
 *
 * The scanner reads QR codes and barcodes with the vendored zxing-wasm decoder (static/vendor/zxing-wasm,
 * the same decoder on iOS Safari, which has no BarcodeDetector, and on Android Chrome). What it reads is
 * put into the page's own form and submitted: the server decides, the device token never reaches script.
 */
(function () {
  "use strict";
  var main = document.getElementById("main");

  var barcode = document.getElementById("barcode");
  if (barcode) { /* kiosk: a USB scanner types into whatever has focus, so keep it on the input */
    barcode.focus();
    barcode.addEventListener("blur", function () { setTimeout(function () { barcode.focus(); }, 100); });
    document.getElementById("kiosk-form").addEventListener("submit", function () {
      setTimeout(function () { barcode.readOnly = true; }, 0); /* one scan, one request */
    });
    if (main.dataset.state !== "kiosk") { /* the answer stays a while, then the next customer sees a clean screen */
      setTimeout(function () { if (!barcode.value) { window.location.replace("/kiosk"); } }, 12000);
    }
  }

  var camera = document.getElementById("camera");
  var video = document.getElementById("video");
  var hint = document.getElementById("camera-hint");
  var form = document.getElementById("scan-form");
  var input = document.getElementById("scan-value");
  if (!camera || !video || !form || !input) { return; }

  /* Answers show over the scanner instead of replacing the page, so the camera keeps running (and iOS
   * does not ask for it again); "Scan next" takes the answer away. Without script the forms post as usual. */
  var scanning = { state: main.dataset.state, className: main.className };
  var overlay = document.createElement("div");
  overlay.className = "overlay";
  overlay.id = "overlay";
  overlay.hidden = true;
  main.appendChild(overlay);
  var stream = null, busy = false, done = false;

  function answer(next) {
    overlay.innerHTML = next.innerHTML; /* our own server's escaped page */
    overlay.hidden = false;
    main.className = next.className;
    main.dataset.state = next.dataset.state;
    window.scrollTo(0, 0);
    var focus = overlay.querySelector("#stamp-button") || overlay.querySelector("#next");
    if (focus) { focus.focus(); }
  }

  function send(target) {
    done = true;
    var body = new URLSearchParams(new FormData(target));
    fetch(target.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!next) { throw new Error("no page"); }
        answer(next);
      })
      .catch(function () { HTMLFormElement.prototype.submit.call(target); });
  }

  function resume() {
    overlay.hidden = true;
    overlay.innerHTML = "";
    main.className = scanning.className;
    main.dataset.state = scanning.state;
    input.value = "";
    done = false;
    tick();
  }

  main.addEventListener("submit", function (event) {
    if (!event.target.matches("form[method=post]")) { return; }
    event.preventDefault();
    send(event.target);
  });
  overlay.addEventListener("click", function (event) {
    if (event.target.closest("#next")) { event.preventDefault(); resume(); }
  });

  if (!window.ZXingWASM || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    main.dataset.camera = "unavailable";
    hint.textContent = "No camera here: type or paste the code.";
    return;
  }
  var wasm = camera.dataset.wasm;
  window.ZXingWASM.prepareZXingModule({
    overrides: { locateFile: function (path, prefix) { return /\.wasm$/.test(path) ? wasm : prefix + path; } },
    fireImmediately: true
  });
  /* what passes draw for scan tokens and card serials (EAN/UPC codes are for the POS's own scanner) */
  var formats = ["QRCode", "Aztec", "PDF417", "Code128"];
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
  }

  function read(text) {
    main.dataset.camera = "read";
    input.value = text;
    send(form);
  }

  function tick() {
    if (done || !stream) { return; }
    if (!busy && video.readyState >= 2 && video.videoWidth) {
      busy = true;
      var scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      window.ZXingWASM.readBarcodes(image, { formats: formats, maxNumberOfSymbols: 1, tryHarder: true })
        .then(function (found) {
          busy = false;
          var hit = found.filter(function (r) { return r.isValid && r.text; })[0];
          if (hit && !done) { read(hit.text); }
        })
        .catch(function () { busy = false; main.dataset.camera = "decoder-failed"; });
    }
    setTimeout(tick, 100);
  }

  navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } }
  }).then(function (media) {
    stream = media;
    video.srcObject = media;
    camera.hidden = false;
    return video.play();
  }).then(function () {
    main.dataset.camera = "on";
    tick();
  }).catch(function () {
    main.dataset.camera = "unavailable";
    hint.textContent = "The camera is not available: allow it in the browser's settings, or type the code.";
  });
  window.addEventListener("pagehide", stop);
}());
