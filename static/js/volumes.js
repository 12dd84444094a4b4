// Volume upload and download on the pool page.
//
// Upload: declare name and size, then POST the file in order, one chunk per request (the size the
// server names, small enough that Django keeps each in memory). The "sent" bar follows the server's
// acknowledgements; the "written" bar follows the worker's progress, which each acknowledgement
// carries, and the operation's live row in the panel tells how it ended.
// Download: a POST with the CSRF token; the answer is an attachment, so the page stays.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  async function post(url, body, contentType) {
    const headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
    if (contentType) headers["Content-Type"] = contentType;
    const response = await fetch(url, { method: "POST", body: body, headers: headers, credentials: "same-origin" });
    let data = {};
    try {
      data = await response.json();
    } catch (e) {
      data = { error: "The server answered " + response.status + "." };
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  function setBar(bar, percent) {
    const p = Math.max(0, Math.min(100, Math.floor(percent)));
    bar.style.width = p + "%";
    bar.parentElement.setAttribute("aria-valuenow", String(p));
  }

  function opStatus(id) {
    const row = document.getElementById("op-" + id);
    return row ? row.dataset.status : "";
  }

  async function upload(form) {
    const file = form.elements.file.files[0];
    const ui = {
      status: form.querySelector(".upload-status"),
      sent: form.querySelector(".upload-sent"),
      written: form.querySelector(".upload-written"),
      cancel: form.querySelector(".upload-cancel"),
      start: form.querySelector(".upload-start"),
    };
    const say = function (text, bad) {
      ui.status.textContent = text;
      ui.status.className = "small upload-status" + (bad ? " text-danger" : "");
    };
    if (!file) return say("Choose a file first.", true);
    const fields = new FormData();
    fields.append("name", form.elements.name.value || file.name);
    fields.append("size", String(file.size));
    if (form.elements.existing.checked) fields.append("existing", "on");
    ui.start.disabled = true;
    form.querySelector(".upload-bars").hidden = false;
    setBar(ui.sent, 0);
    setBar(ui.written, 0);
    say("Starting…");
    const started = await post(form.dataset.startUrl, fields);
    if (!started.ok) {
      ui.start.disabled = false;
      return say(started.data.error || "The upload could not start.", true);
    }
    const job = started.data;
    let cancelled = false;
    ui.cancel.hidden = false;
    ui.cancel.onclick = async function () {
      cancelled = true;
      ui.cancel.disabled = true;
      await post(job.cancel_url);
      say("Cancelled; the worker removes what was written.", true);
    };
    let offset = 0;
    let failures = 0;
    try {
      while (offset < job.size && !cancelled) {
        const end = Math.min(offset + job.chunk_size, job.size);
        const url = job.chunk_url + "?offset=" + offset + (end === job.size ? "&last=1" : "");
        let answer;
        try {
          answer = await post(url, file.slice(offset, end), "application/octet-stream");
        } catch (e) {
          if (++failures > 3) throw new Error("The connection failed: " + e.message);
          continue; // same offset again: the server accepts a repeat of a piece it already has
        }
        failures = 0;
        if (answer.status === 409 && typeof answer.data.received === "number") {
          offset = answer.data.received;
          continue;
        }
        if (!answer.ok) throw new Error(answer.data.error || "The server refused the data.");
        offset = answer.data.received;
        setBar(ui.sent, (100 * offset) / job.size);
        setBar(ui.written, answer.data.progress);
        say("Sent " + Math.floor((100 * offset) / job.size) + "%");
      }
    } catch (e) {
      if (!cancelled) {
        say(e.message, true);
        post(job.cancel_url); // let the worker clean up now rather than after its stall timeout
      }
      ui.cancel.hidden = true;
      ui.start.disabled = false;
      return;
    }
    if (cancelled) {
      ui.start.disabled = false;
      return;
    }
    say("All sent; the worker is finishing (operation #" + job.operation + ").");
    const settle = function () {
      const status = opStatus(job.operation);
      if (status === "succeeded") {
        setBar(ui.written, 100);
        say("Uploaded.");
      } else if (status === "failed" || status === "cancelled") {
        const row = document.getElementById("op-" + job.operation);
        const error = row && row.querySelector(".op-error");
        say((error && error.textContent) || "The upload " + status + ".", true);
      } else {
        return false;
      }
      ui.cancel.hidden = true;
      ui.start.disabled = false;
      document.body.removeEventListener("htmx:oobAfterSwap", settle);
      return true;
    };
    if (!settle()) document.body.addEventListener("htmx:oobAfterSwap", settle);
  }

  document.addEventListener("submit", function (evt) {
    const form = evt.target.closest("#volume-upload");
    if (!form) return;
    evt.preventDefault();
    upload(form);
  });

  document.addEventListener("click", function (evt) {
    const button = evt.target.closest("[data-kv-download]");
    if (!button) return;
    const form = document.createElement("form");
    form.method = "post";
    form.action = button.dataset.kvDownload;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrfToken();
    form.appendChild(token);
    document.body.appendChild(form);
    form.submit();
    form.remove();
  });

  // The backing volume only applies to qcow2.
  document.addEventListener("change", function (evt) {
    if (evt.target.id !== "vc-format") return;
    const backing = document.getElementById("vc-backing");
    if (backing) backing.disabled = evt.target.value !== "qcow2";
  });
})();
