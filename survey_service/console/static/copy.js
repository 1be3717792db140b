/* Copy buttons on a school's page. The buttons stay hidden unless this script runs; without it each
   link and message is still a readonly field whose text can be selected and copied by hand.
   Plain ES5: WeChat's built-in browser on old Android phones. */
(function () {
  "use strict";

  function selectAll(field) {
    field.focus();
    field.select();
    try {
      field.setSelectionRange(0, field.value.length);
    } catch (ignored) {
      /* some field types refuse a selection range; select() did the work */
    }
  }

  function copyBySelection(field) {
    selectAll(field);
    try {
      return document.execCommand("copy");
    } catch (ignored) {
      return false;
    }
  }

  function say(button, text) {
    var box = button.parentNode;
    while (box && box.className.indexOf("share") === -1) {
      box = box.parentNode;
    }
    var status = box && box.querySelector(".copy-status");
    if (status) {
      status.textContent = text;
    }
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    var done = function () {
      say(button, button.getAttribute("data-done") || "已复制");
    };
    var failed = function () {
      selectAll(field);
      say(button, "无法自动复制，请长按已选中的文字复制");
    };
    var bySelection = function () {
      if (copyBySelection(field)) {
        done();
      } else {
        failed();
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, bySelection);
    } else {
      bySelection();
    }
  }

  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) {
      copy(event.currentTarget);
    });
  }
  var fields = document.querySelectorAll(".share input[readonly], .share textarea[readonly]");
  for (var j = 0; j < fields.length; j++) {
    fields[j].addEventListener("focus", function (event) {
      event.currentTarget.select();
    });
  }
})();
