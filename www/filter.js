// The page's "Filter users" box: as a person types, says whether the user-search query parses
// (the wasm Exporter's own message, with its position) and how many of the first 10,000 users
// of the chosen source it matches, counted by the core in a worker so typing stays smooth.
import { Exporter } from '../pkg/userexport.js';

const DEBOUNCE_MS = 250;
const PREVIEW = '10,000';

/**
 * Wires the box. `els`: the input, its error and status elements. `onValidity(ok)` is called
 * whenever the query turns valid or invalid (the page blocks "Export Users" on a bad one).
 * Returns `{ query(), setSource(payload), valid(), flush() }`.
 */
export function filterBox({ input, error, status }, onValidity) {
  let source = null;
  let worker = null;
  let seq = 0;
  let timer = 0;
  let ok = true;

  const query = () => input.value.trim() || undefined;

  /** Says `text`; `busy` while a newer answer is coming (assistive tech waits for it). */
  function say(text, busy = false) {
    status.textContent = text;
    status.setAttribute('aria-busy', String(busy));
  }

  function setValid(message) {
    const was = ok;
    ok = !message;
    error.textContent = message ?? '';
    error.hidden = ok;
    input.setAttribute('aria-invalid', ok ? 'false' : 'true');
    if (was !== ok) onValidity(ok);
  }

  /** The core's verdict on the query: null when it parses, else its message. */
  function parseError(q) {
    try {
      new Exporter({ format: 'json' }, { query: q }).free();
      return null;
    } catch (e) {
      return e.message;
    }
  }

  function counter() {
    if (!worker) {
      worker = new Worker(new URL('./filter-worker.js', import.meta.url), { type: 'module' });
      worker.onerror = () => say('Could not count matches: the counting worker stopped.');
      worker.onmessage = ({ data }) => {
        if (data.seq !== seq) return; // an older query's count
        if (data.error) {
          say(`Could not count matches: ${data.error.message}`);
          return;
        }
        const n = data.matched.toLocaleString('en');
        const whole = data.complete ? ` (the source has ${data.read.toLocaleString('en')} users)` : '';
        say(`${n} of the first ${PREVIEW} users match${whole}.`);
      };
    }
    return worker;
  }

  function update() {
    clearTimeout(timer);
    timer = 0;
    seq++;
    const q = query();
    if (!q) {
      setValid(null);
      say('No filter: every user is exported.');
      return;
    }
    const message = parseError(q);
    setValid(message);
    if (message) {
      say('');
      return;
    }
    if (!source) {
      say('The query is valid. Choose users to see how many it matches.');
      return;
    }
    say(`Counting matches in the first ${PREVIEW} users…`, true);
    counter().postMessage({ seq, source, query: q });
  }

  input.addEventListener('input', () => {
    status.setAttribute('aria-busy', 'true');
    clearTimeout(timer);
    timer = setTimeout(update, DEBOUNCE_MS);
  });
  // Enter would submit the form; here it only checks the query at once.
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      update();
    }
  });
  update();

  return {
    query,
    valid: () => ok,
    /** Checks the query now rather than after the typing pause (the page calls it on submit). */
    flush() {
      if (timer) update();
    },
    /** A new users source: the count starts over on it. */
    setSource(payload) {
      source = payload;
      update();
    },
  };
}
