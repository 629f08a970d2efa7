/* Drawing redaction boxes on a photo in the admin (reports.admin_photos). Progressive: the text area of boxes,
 * one "x,y,width,height" a line in the stored photo's own pixels, is the form; this script lets a moderator drag
 * boxes on the photo (mouse, pen or finger), writes each into the text area, and shows every box in the text
 * area over the photo, so typed and drawn boxes can be checked together. Nothing is loaded from elsewhere. */
(function () {
  "use strict";

  function start() {
    var stage = document.querySelector("[data-redact-stage]");
    var text = document.querySelector("textarea.redact-boxes");
    if (!stage || !text) return;
    var image = stage.querySelector("img");
    var clear = document.querySelector("[data-redact-clear]");
    var naturalWidth = parseInt(stage.getAttribute("data-width"), 10);
    var naturalHeight = parseInt(stage.getAttribute("data-height"), 10);
    var drag = null;
    var preview = null;

    // Shown pixels -> the stored photo's pixels (the image is scaled to fit the page).
    function scale() {
      var rect = image.getBoundingClientRect();
      return {rect: rect, x: naturalWidth / rect.width, y: naturalHeight / rect.height};
    }

    function clamp(value, low, high) {
      return Math.max(low, Math.min(high, value));
    }

    function parse() {
      var boxes = [];
      text.value.split(/\r?\n/).forEach(function (line) {
        var parts = line.split(/[,;]/).map(function (part) { return parseInt(part.trim(), 10); });
        if (parts.length === 4 && parts.every(function (n) { return !isNaN(n); })) boxes.push(parts);
      });
      return boxes;
    }

    function place(element, box) {
      var s = scale();
      element.style.left = (box[0] / s.x) + "px";
      element.style.top = (box[1] / s.y) + "px";
      element.style.width = (box[2] / s.x) + "px";
      element.style.height = (box[3] / s.y) + "px";
    }

    function draw() {
      stage.querySelectorAll(".redact-box").forEach(function (element) { element.remove(); });
      parse().forEach(function (box) {
        var element = document.createElement("div");
        element.className = "redact-box";
        element.setAttribute("aria-hidden", "true");
        place(element, box);
        stage.appendChild(element);
      });
    }

    function point(event) {
      var s = scale();
      return {
        x: clamp(Math.round((event.clientX - s.rect.left) * s.x), 0, naturalWidth),
        y: clamp(Math.round((event.clientY - s.rect.top) * s.y), 0, naturalHeight)
      };
    }

    function boxOf(a, b) {
      return [Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(a.x - b.x), Math.abs(a.y - b.y)];
    }

    stage.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      event.preventDefault();
      drag = point(event);
      preview = document.createElement("div");
      preview.className = "redact-box";
      preview.setAttribute("aria-hidden", "true");
      stage.appendChild(preview);
      stage.setPointerCapture(event.pointerId);
    });
    stage.addEventListener("pointermove", function (event) {
      if (drag && preview) place(preview, boxOf(drag, point(event)));
    });
    function finish(event) {
      if (!drag) return;
      var box = boxOf(drag, point(event));
      drag = null;
      if (preview) preview.remove();
      preview = null;
      if (box[2] < 2 || box[3] < 2) return; // a click, not a box
      var value = text.value.replace(/\s+$/, "");
      text.value = (value ? value + "\n" : "") + box.join(",");
      draw();
    }
    stage.addEventListener("pointerup", finish);
    stage.addEventListener("pointercancel", function () {
      drag = null;
      if (preview) preview.remove();
      preview = null;
    });
    text.addEventListener("input", draw);
    window.addEventListener("resize", draw);
    if (image.complete) draw(); else image.addEventListener("load", draw);
    if (clear) {
      clear.hidden = false;
      clear.addEventListener("click", function () {
        text.value = "";
        draw();
        text.focus();
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
