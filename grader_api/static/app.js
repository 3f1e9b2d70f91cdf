// A little progressive enhancement: drag-and-drop onto upload forms, and live status polling.
document.addEventListener("DOMContentLoaded", () => {
  for (const zone of document.querySelectorAll("[data-dropzone]")) {
    const input = zone.querySelector("input[type=file]");
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault(); zone.classList.remove("over");
      if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; zone.requestSubmit(); }
    });
  }
  const result = document.getElementById("result");
  if (result && ["queued", "running"].includes(result.dataset.status)) {
    const poll = async () => {
      const response = await fetch(`/api/v1/submissions/${result.dataset.submission}`, {credentials: "same-origin"});
      if (!response.ok) return;
      const s = await response.json();
      const status = document.getElementById("status");
      if (s.status !== result.dataset.status || s.status === "queued") {
        if (["graded", "failed"].includes(s.status)) { window.location.reload(); return; }
        status.textContent = s.status + (s.run && s.run.position ? ` (position ${s.run.position})` : "")
          + (s.run && s.run.current_stage ? ` (stage ${s.run.current_stage})` : "");
        result.dataset.status = s.status;
      }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }
  const dryRun = document.getElementById("dry-run");
  if (dryRun) {
    const poll = async () => {
      const response = await fetch(`/api/v1/suites/checks/${dryRun.dataset.check}`, {credentials: "same-origin"});
      if (response.ok) {
        const check = await response.json();
        if (["done", "failed"].includes(check.status)) { window.location.reload(); return; }
        document.getElementById("dry-run-status").textContent = check.status;
      }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }
});
