/* Keyboard entry of paper forms, on top of a plain form that works without it: Enter in the number
   field goes to the first item; a digit picks that option of the current item (as printed beside its
   box; 0 = left blank) and moves on; Enter moves on, and after the last item saves; Backspace on an
   item goes back one. No mouse needed. Plain ES5, no library. */
(function () {
  "use strict";
  var form = document.getElementById("paper-entry");
  if (!form) {
    return;
  }
  var hint = form.querySelector(".entry-hint");
  var number = document.getElementById("number");
  var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-entry-item], textarea[data-entry-text]"));
  var save = document.getElementById("save");

  function say(text) {
    if (hint) {
      hint.textContent = text;
    }
  }

  function stepOf(element) {
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] === element || steps[i].contains(element)) {
        return i;
      }
    }
    return -1;
  }

  function focusStep(i) {
    if (i < 0) {
      number.focus();
      number.select();
      return;
    }
    if (i >= steps.length) {
      save.focus();
      return;
    }
    var step = steps[i];
    if (step.tagName === "TEXTAREA") {
      step.focus();
      return;
    }
    var target = step.querySelector("input:checked") || step.querySelector("input");
    target.focus();
    if (step.scrollIntoView) {
      step.scrollIntoView({ block: "center" });
    }
  }

  function answered(step) {
    return step.tagName === "TEXTAREA" || step.querySelector("input:checked") !== null;
  }

  form.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var target = event.target;
    if (target === number) {
      if (event.key === "Enter") {
        event.preventDefault();
        if (number.value.replace(/\s+/g, "") === "") {
          say("请先输入问卷编号。");
          return;
        }
        say("");
        focusStep(0);
      }
      return;
    }
    if (target === save) {
      return; /* Enter on the button submits, as a button does */
    }
    var i = stepOf(target);
    if (i < 0) {
      return;
    }
    var step = steps[i];
    if (step.tagName === "TEXTAREA") {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        focusStep(i + 1);
      } else if (event.key === "Backspace" && step.value === "") {
        event.preventDefault();
        focusStep(i - 1);
      }
      return;
    }
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      var radio = step.querySelector('input[value="' + event.key + '"]');
      if (!radio) {
        say("第 " + (i + 1) + " 题没有选项 " + event.key + "，请按问卷上印的数字（未作答按 0）。");
        return;
      }
      radio.checked = true;
      say("");
      focusStep(i + 1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!answered(step)) {
        say("第 " + (i + 1) + " 题还没有录入：请按所选方框旁的数字，未作答按 0。");
        return;
      }
      focusStep(i + 1);
    } else if (event.key === "Backspace") {
      event.preventDefault();
      focusStep(i - 1);
    }
  });

  form.addEventListener("submit", function (event) {
    for (var i = 0; i < steps.length; i++) {
      if (!answered(steps[i])) {
        event.preventDefault();
        say("第 " + (i + 1) + " 题还没有录入。");
        focusStep(i);
        return;
      }
    }
  });

  /* After an error the page comes back with the first marked field first. */
  var invalid = form.querySelector('[aria-invalid="true"]');
  if (invalid && invalid !== number) {
    focusStep(stepOf(invalid));
  }
})();
