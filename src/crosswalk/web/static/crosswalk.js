// Crosswalk's web UI: the few things a page does in the browser. No inline script
// anywhere (the pages' Content-Security-Policy allows only files like this one).
"use strict";

// Keyboard shortcuts for clerical review: a button with data-key="m" is pressed by the
// key m, unless the focus is in a text field (where the key is typing).
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) {
    return;
  }
  var target = event.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) {
    return;
  }
  var button = document.querySelector('button[data-key="' + event.key.toLowerCase() + '"]');
  if (button && !button.disabled) {
    event.preventDefault();
    button.click();
  }
});

// j: the next pair of the review queue (a link marked data-key-link="j").
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey || (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
    return;
  }
  var link = document.querySelector('a[data-key-link="' + event.key.toLowerCase() + '"]');
  if (link) {
    event.preventDefault();
    window.location.assign(link.getAttribute("href"));
  }
});
