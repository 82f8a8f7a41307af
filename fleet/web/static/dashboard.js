// The dashboard's only script: reload a page that asks for it (data-refresh, seconds) unless
// someone is typing in it, and start a job's arguments from the op's template.
(function () {
  var seconds = Number(document.body.dataset.refresh || 0);
  function typing() {
    var el = document.activeElement;
    return el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && el.type !== "hidden";
  }
  function tick() {
    if (typing()) { setTimeout(tick, seconds * 1000); } else { location.reload(); }
  }
  if (seconds > 0) { setTimeout(tick, seconds * 1000); }

  var op = document.getElementById("job-op"), args = document.getElementById("job-args");
  if (op && args) {
    op.addEventListener("change", function () {
      args.value = op.options[op.selectedIndex].dataset.args || "{}";
    });
  }
})();
