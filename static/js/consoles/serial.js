// The serial console: xterm.js over kvmweb's own WebSocket (/ws/vms/PK/serial/), which holds one
// libvirt console stream for this browser alone. Binary frames are the guest's output; text
// frames are JSON: {"type": "ready"} once attached, {"type": "held", "by": name} when another
// session holds the console (taking it over asks first, naming them: static/js/confirm.js).

import { Terminal } from "../../vendor/xterm/xterm.mjs";
import { FitAddon } from "../../vendor/xterm/addon-fit.mjs";
import { closeReason, comesBack, onConsoles, setStatus, socketUrl } from "./common.js";

function start(root) {
  const frame = root.querySelector(".console-terminal");
  const held = root.querySelector(".console-held");
  const force = root.querySelector(".console-force");
  const term = new Terminal({ convertEol: false, cursorBlink: true, scrollback: 5000, fontSize: 14 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(frame);
  fit.fit();
  const socket = new WebSocket(socketUrl(root.dataset.ws));
  socket.binaryType = "arraybuffer";
  setStatus(root, "connecting", "Connecting…");

  function send(message) {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }
  socket.addEventListener("message", function (evt) {
    if (typeof evt.data !== "string") {
      term.write(new Uint8Array(evt.data));
      return;
    }
    const message = JSON.parse(evt.data);
    if (message.type === "ready") {
      held.hidden = true;
      setStatus(root, "connected", "Connected");
      send({ type: "resize", cols: term.cols, rows: term.rows });
      term.focus();
    } else if (message.type === "held") {
      held.querySelector(".console-holder").textContent = message.by;
      force.dataset.confirm = "Take the serial console of " + root.dataset.name + " from " + message.by +
        "? Their session is closed and they are told you took it.";
      held.hidden = false;
      setStatus(root, "held", "Held by " + message.by);
    }
  });
  socket.addEventListener("close", function (evt) {
    held.hidden = true;
    if (comesBack(evt)) root.dataset.comesBack = "1";
    setStatus(root, "disconnected", "Disconnected: " + closeReason(evt));
  });
  const typed = term.onData(function (data) {
    send({ type: "input", data: data });
  });
  const resized = term.onResize(function (size) {
    send({ type: "resize", cols: size.cols, rows: size.rows });
  });
  const observer = new ResizeObserver(function () {
    if (frame.clientWidth > 0) fit.fit();
  });
  observer.observe(frame);

  // Reached only once the person confirmed (confirm.js asks first for data-confirm buttons).
  function onClick(evt) {
    const button = evt.target.closest("button");
    if (!button || !root.contains(button)) return;
    if (button === force) {
      held.hidden = true;
      setStatus(root, "connecting", "Taking over…");
      send({ type: "force" });
    } else if (button.matches(".console-popout")) {
      window.open(button.dataset.href, "kvmweb-serial-" + root.dataset.vm, "popup,width=1000,height=700");
    } else if (button.matches(".console-fullscreen")) {
      frame.requestFullscreen();
    }
  }
  root.addEventListener("click", onClick);

  return function stop() {
    root.removeEventListener("click", onClick);
    observer.disconnect();
    typed.dispose();
    resized.dispose();
    socket.close();
    term.dispose();
  };
}

onConsoles("serial", start);
