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
  var stream = null, busy = false, done = false;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
  }

  function submit(text) {
    done = true;
    stop();
    main.dataset.camera = "read";
    input.value = text;
    form.submit();
  }

  function tick() {
    if (done) { return; }
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
          if (hit && !done) { submit(hit.text); }
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
