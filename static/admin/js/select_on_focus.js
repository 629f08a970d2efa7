/* Select the whole value of [data-select-on-focus] fields when they get focus (the API key shown once), so it
 * can be copied in one go. A file rather than an onfocus attribute: the Content-Security-Policy allows no
 * inline script. */
document.addEventListener("focusin", function (event) {
  "use strict";
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) { event.target.select(); }
});
