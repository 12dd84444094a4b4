// Which physical keys type a text in the guest, for "Paste as keystrokes": a guest with no agent
// (an installer's password prompt, a firmware menu) reads scan codes and turns them into
// characters with its own keyboard layout, so typing "z" into a German guest means pressing the
// key a US keyboard calls Y. Each layout maps a character to the physical key (a KeyboardEvent
// `code`, which noVNC turns into the scan code QEMU gets) and the modifiers the guest layout
// needs. Pure functions, no page: tests import this module on its own.

const SHIFT = { keysym: 0xffe1, code: "ShiftLeft" };
const ALTGR = { keysym: 0xfe03, code: "AltRight" }; // ISO_Level3_Shift: AltGr in Linux and Windows guests
const ENTER = { keysym: 0xff0d, code: "Enter" };
const TAB = { keysym: 0xff09, code: "Tab" };
const SPACE = { keysym: 0x20, code: "Space" };

// One row of keys: the characters typed without modifier, with Shift, and (optionally) with
// AltGr, in the order of `codes`. A space in a string stands for "nothing on that level".
function rows(spec) {
  const map = {};
  for (const [codes, ...levels] of spec) {
    // A row shorter or longer than its keys would shift every character after the slip.
    if (levels.some((level) => level.length !== codes.length)) throw new Error("keymap row does not match its keys: " + levels);
    const [plain, shifted, altgr] = levels;
    codes.forEach(function (code, i) {
      if (plain[i] && plain[i] !== " " && !(plain[i] in map)) map[plain[i]] = { code };
      if (shifted && shifted[i] && shifted[i] !== " " && !(shifted[i] in map)) map[shifted[i]] = { code, shift: true };
      if (altgr && altgr[i] && altgr[i] !== " " && !(altgr[i] in map)) map[altgr[i]] = { code, altgr: true };
    });
  }
  return map;
}

const DIGITS = ["Backquote", "Digit1", "Digit2", "Digit3", "Digit4", "Digit5", "Digit6", "Digit7", "Digit8", "Digit9", "Digit0", "Minus", "Equal"];
const TOP = ["KeyQ", "KeyW", "KeyE", "KeyR", "KeyT", "KeyY", "KeyU", "KeyI", "KeyO", "KeyP", "BracketLeft", "BracketRight"];
const HOME = ["KeyA", "KeyS", "KeyD", "KeyF", "KeyG", "KeyH", "KeyJ", "KeyK", "KeyL", "Semicolon", "Quote", "Backslash"];
const BOTTOM = ["IntlBackslash", "KeyZ", "KeyX", "KeyC", "KeyV", "KeyB", "KeyN", "KeyM", "Comma", "Period", "Slash"];

const EN_US = rows([
  [DIGITS, "`1234567890-=", "~!@#$%^&*()_+"],
  [TOP, "qwertyuiop[]", "QWERTYUIOP{}"],
  [HOME, "asdfghjkl;'\\", 'ASDFGHJKL:"|'],
  [BOTTOM.slice(1), "zxcvbnm,./", "ZXCVBNM<>?"],
]);

// German (QWERTZ) as Linux's "de" and Windows type it. ^ ´ ` are dead keys there: pressed alone
// they wait for the next key, so each is followed by Space to come out as itself.
const DE = rows([
  [DIGITS, "^1234567890ß´", "°!\"§$%&/()=?`", "  ²³   {[]}\\ "],
  [TOP, "qwertzuiopü+", "QWERTZUIOPÜ*", "@ €        ~"],
  [HOME, "asdfghjklöä#", "ASDFGHJKLÖÄ'"],
  [BOTTOM, "<yxcvbnm,.-", ">YXCVBNM;:_", "|      µ   "],
]);
for (const dead of ["^", "´", "`"]) DE[dead] = { ...DE[dead], dead: true };

export const LAYOUTS = { "en-us": EN_US, de: DE };

// The X keysym of a character (what a VNC server without scan codes would use): Latin-1 is its
// own code point, the euro sign has a legacy keysym, the rest of Unicode is 0x01000000 + code point.
// Dead keys send their dead_* keysym.
const DEAD_KEYSYMS = { "^": 0xfe52, "´": 0xfe51, "`": 0xfe50 };
function keysymOf(ch, dead) {
  if (dead) return DEAD_KEYSYMS[ch];
  const cp = ch.codePointAt(0);
  if (cp === 0x20ac) return 0x20ac;
  return cp < 0x100 ? cp : 0x01000000 + cp;
}

function split(text) {
  // One Enter per line break, whichever convention the clipboard used.
  return Array.from(String(text).replace(/\r\n?/g, "\n"));
}

// The characters of `text` that `layout` cannot type, each once, in the order they first appear.
export function untypable(text, layout) {
  const map = LAYOUTS[layout];
  if (!map) throw new Error("Unknown keyboard layout: " + layout);
  const missing = [];
  for (const ch of split(text)) {
    if (ch === "\n" || ch === "\t" || ch === " " || ch in map) continue;
    if (!missing.includes(ch)) missing.push(ch);
  }
  return missing;
}

// [{keysym, code, shift, altgr}] pressing one key each (with its modifiers held), that type
// `text` into a guest whose keyboard layout is `layout`. Throws when a character cannot be typed
// (see `untypable`), rather than typing the rest of a password without it.
export function keystrokes(text, layout) {
  const missing = untypable(text, layout);
  if (missing.length) {
    const error = new Error("The " + layout + " layout cannot type: " + missing.join(" "));
    error.chars = missing;
    throw error;
  }
  const map = LAYOUTS[layout];
  const strokes = [];
  for (const ch of split(text)) {
    if (ch === "\n") strokes.push({ ...ENTER, shift: false, altgr: false });
    else if (ch === "\t") strokes.push({ ...TAB, shift: false, altgr: false });
    else if (ch === " ") strokes.push({ ...SPACE, shift: false, altgr: false });
    else {
      const key = map[ch];
      strokes.push({ keysym: keysymOf(ch, key.dead), code: key.code, shift: Boolean(key.shift), altgr: Boolean(key.altgr) });
      if (key.dead) strokes.push({ ...SPACE, shift: false, altgr: false });
    }
  }
  return strokes;
}

// The key events (keysym, code, down) of one stroke, modifiers pressed around the key.
export function keyEvents(stroke) {
  const mods = [];
  if (stroke.shift) mods.push(SHIFT);
  if (stroke.altgr) mods.push(ALTGR);
  return [
    ...mods.map((m) => [m.keysym, m.code, true]),
    [stroke.keysym, stroke.code, true],
    [stroke.keysym, stroke.code, false],
    ...mods.reverse().map((m) => [m.keysym, m.code, false]),
  ];
}
