// The graphical console: noVNC over kvmweb's own WebSocket (/ws/vms/PK/vnc/). kvmweb's relay has
// already authenticated to the VM's VNC server and offers the browser no security at all, so no
// password ever reaches this page. The toolbar: scaling, full screen, clipboard, send keys,
// paste as keystrokes; the status line says why the console closed.

import RFB from "../../vendor/novnc/core/rfb.js";
import { initLogging } from "../../vendor/novnc/core/util/logging.js";
import { closeReason, comesBack, onConsoles, setStatus, socketUrl } from "./common.js";
import { keyEvents, keystrokes, untypable } from "./keymaps.js";

// noVNC logs a closed socket as a console error; the status line says it to the person instead.
initLogging("none");

const XK = { Control_L: 0xffe3, Alt_L: 0xffe9, Print: 0xff61, F1: 0xffbe };
// Keys typed one every TYPE_INTERVAL ms: a guest's keyboard buffer (the PS/2 queue) drops keys
// that arrive all at once.
const TYPE_INTERVAL = 15;
const SCALING_KEY = "kvmweb.console.scaling";

function start(root) {
  const screen = root.querySelector(".console-screen");
  const viewOnly = "viewOnly" in root.dataset;
  const socket = new WebSocket(socketUrl(root.dataset.ws));
  let rfb = null;
  let typing = null;
  setStatus(root, "connecting", "Connecting…");

  socket.addEventListener("close", function (evt) {
    root.dataset.closeCode = evt.code;
    if (comesBack(evt)) root.dataset.comesBack = "1";
    stopTyping();
    setStatus(root, "disconnected", "Disconnected: " + closeReason(evt));
  });
  rfb = new RFB(screen, socket, { shared: true });
  rfb.viewOnly = viewOnly;
  rfb.addEventListener("connect", function () {
    setStatus(root, "connected", viewOnly ? "Connected, view only: you may watch this screen, not use it." : "Connected");
    if (!viewOnly) rfb.focus({ preventScroll: true });
  });
  rfb.addEventListener("clipboard", function (evt) {
    const box = root.querySelector(".console-clipboard-text");
    if (box) box.value = evt.detail.text;
  });
  rfb.addEventListener("desktopname", function (evt) {
    root.dataset.desktop = evt.detail.name;
  });
  applyScaling(root, rfb, localStorage.getItem(SCALING_KEY) || "fit");

  function stopTyping() {
    if (typing) clearTimeout(typing.timer);
    typing = null;
    const button = root.querySelector(".console-paste-type");
    if (button) button.disabled = viewOnly;
  }

  // Type `text` key by key in the chosen guest layout, or say which characters it cannot type.
  function typeText(text, layout) {
    const note = root.querySelector(".console-paste-note");
    if (root.dataset.state !== "connected") {
      note.textContent = "The console is not connected: nothing was typed.";
      note.dataset.state = "refused";
      return;
    }
    const missing = untypable(text, layout);
    if (missing.length) {
      note.textContent = "The " + layout + " layout has no key for: " + missing.join(" ") + " — nothing was typed.";
      note.dataset.state = "refused";
      return;
    }
    const strokes = keystrokes(text, layout);
    root.querySelector(".console-paste-type").disabled = true;
    typing = { timer: null };
    let done = 0;
    // One character (its modifiers and key, down and up) per tick.
    function next() {
      if (!typing) return;
      keyEvents(strokes[done]).forEach(([keysym, code, down]) => rfb.sendKey(keysym, code, down));
      done += 1;
      note.textContent = "Typed " + done + " of " + strokes.length + " keys.";
      note.dataset.state = done < strokes.length ? "typing" : "done";
      if (done < strokes.length) typing.timer = setTimeout(next, TYPE_INTERVAL);
      else stopTyping();
    }
    if (strokes.length) next();
  }

  function onClick(evt) {
    const button = evt.target.closest("button, [data-keys]");
    if (!button || !root.contains(button)) return;
    if (button.matches(".console-fullscreen")) {
      screen.requestFullscreen();
    } else if (button.matches(".console-popout")) {
      window.open(button.dataset.href, "kvmweb-console-" + root.dataset.vm, "popup,width=1100,height=800");
      closeMenus(root);
    } else if (button.matches("[data-keys]")) {
      sendCombo(rfb, button.dataset.keys);
      closeMenus(root);
      rfb.focus({ preventScroll: true });
    } else if (button.matches(".console-clipboard-send")) {
      rfb.clipboardPasteFrom(root.querySelector(".console-clipboard-text").value);
    } else if (button.matches(".console-paste-type")) {
      typeText(root.querySelector(".console-paste-text").value, root.querySelector(".console-paste-layout").value);
    } else {
      return;
    }
    evt.preventDefault();
  }
  function onChange(evt) {
    if (!evt.target.matches(".console-scaling")) return;
    localStorage.setItem(SCALING_KEY, evt.target.value);
    applyScaling(root, rfb, evt.target.value);
  }
  root.addEventListener("click", onClick);
  root.addEventListener("change", onChange);

  return function stop() {
    stopTyping();
    root.removeEventListener("click", onClick);
    root.removeEventListener("change", onChange);
    if (rfb) rfb.disconnect();
  };
}

// Scale to fit the frame, show the guest's pixels 1:1 (scroll to see the rest), or ask the guest
// to take the frame's size (needs a guest display driver that follows, e.g. virtio-gpu).
function applyScaling(root, rfb, mode) {
  const select = root.querySelector(".console-scaling");
  if (select) select.value = mode;
  rfb.scaleViewport = mode === "fit";
  rfb.resizeSession = mode === "remote";
  rfb.clipViewport = false;
  root.querySelector(".console-screen").dataset.scaling = mode;
}

// "ctrl-alt-del", "ctrl-alt-f3", "print": press the keys in order, release in reverse.
function sendCombo(rfb, combo) {
  if (combo === "ctrl-alt-del") return rfb.sendCtrlAltDel();
  if (combo === "print") return rfb.sendKey(XK.Print, "PrintScreen");
  const f = Number(combo.replace("ctrl-alt-f", ""));
  const keys = [
    [XK.Control_L, "ControlLeft"],
    [XK.Alt_L, "AltLeft"],
    [XK.F1 + f - 1, "F" + f],
  ];
  keys.forEach(([keysym, code]) => rfb.sendKey(keysym, code, true));
  keys.reverse().forEach(([keysym, code]) => rfb.sendKey(keysym, code, false));
}

function closeMenus(root) {
  root.querySelectorAll("details[open]").forEach((d) => d.removeAttribute("open"));
}

onConsoles("vnc", start);
