#!/bin/sh
# Refresh the barcode decoder the staff scanner page uses (src/walletvoucher/web/static/vendor/zxing-wasm).
#
# Why zxing-wasm, and why directly:
# - iOS Safari has no BarcodeDetector, so the page needs a decoder of its own. zxing-wasm is ZXing-C++
#   (the decoder our tests already use as their oracle, through the zxing-cpp Python package) compiled to
#   WebAssembly, MIT licensed and released often (https://github.com/Sec-ant/zxing-wasm).
# - The `barcode-detector` ponyfill is a BarcodeDetector-shaped wrapper over the same zxing-wasm. Using
#   zxing-wasm directly means one decoder, the same on every phone (Android Chrome's native detector
#   differs per device), one package fewer, and its small IIFE "reader" build (no bundler, no modules).
# - Everything is served from our own static files: the page points locateFile at our copy of
#   zxing_reader.wasm, so nothing is fetched from a CDN. The pages' CSP allows 'wasm-unsafe-eval'.
#
# Usage: scripts/vendor-zxing-wasm.sh [VERSION]   (default: the pinned version below; needs npm)
set -eu
VERSION="${1:-3.1.8}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$HERE/src/walletvoucher/web/static/vendor/zxing-wasm"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "zxing-wasm@$VERSION" >/dev/null && tar xzf "zxing-wasm-$VERSION.tgz")
mkdir -p "$DEST"
cp "$WORK/package/dist/iife/reader/index.js" "$DEST/zxing-wasm-reader.js"
cp "$WORK/package/dist/reader/zxing_reader.wasm" "$DEST/zxing_reader.wasm"
cp "$WORK/package/LICENSE" "$DEST/LICENSE"
{
  echo "zxing-wasm $VERSION (npm), MIT licence (LICENSE); refreshed by scripts/vendor-zxing-wasm.sh"
  echo "zxing-wasm-reader.js  = dist/iife/reader/index.js   sha256 $(sha256sum "$DEST/zxing-wasm-reader.js" | cut -d' ' -f1)"
  echo "zxing_reader.wasm     = dist/reader/zxing_reader.wasm sha256 $(sha256sum "$DEST/zxing_reader.wasm" | cut -d' ' -f1)"
} > "$DEST/VERSION"
cat "$DEST/VERSION"
