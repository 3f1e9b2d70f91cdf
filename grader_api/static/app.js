// A little progressive enhancement: drag-and-drop onto upload forms, and live status polling.

// Poll a JSON resource every second: reload the page once ``finished(body)``, else ``update(body)``.
function pollUntilFinished(url, finished, update) {
  const poll = async () => {
    const response = await fetch(url, {credentials: "same-origin"});
    if (response.ok) {
      const body = await response.json();
      if (finished(body)) { window.location.reload(); return; }
      update(body);
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
}

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
    pollUntilFinished(`/api/v1/submissions/${result.dataset.submission}`,
      (s) => ["graded", "failed"].includes(s.status),
      (s) => {
        document.getElementById("status").textContent = s.status
          + (s.run && s.run.position ? ` (position ${s.run.position})` : "")
          + (s.run && s.run.current_stage ? ` (stage ${s.run.current_stage})` : "");
      });
  }
  const dryRun = document.getElementById("dry-run");
  if (dryRun) {
    pollUntilFinished(`/api/v1/suites/checks/${dryRun.dataset.check}`,
      (check) => ["done", "failed"].includes(check.status),
      (check) => { document.getElementById("dry-run-status").textContent = check.status; });
  }
});
