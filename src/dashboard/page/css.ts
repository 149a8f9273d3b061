/** The dashboard's styles (served as /dashboard/app.css). */
export const PAGE_CSS = String.raw`
:root {
  --bg: #0d1117; --panel: #161b22; --panel2: #1c2330; --line: #2a3240; --text: #d6dde6; --dim: #8b96a5;
  --blue: #58a6ff; --green: #3fb950; --amber: #f0b429; --red: #f85149; --grey: #6e7681; --violet: #bc8cff;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
code { font-family: var(--mono); font-size: 12px; background: var(--panel2); padding: 1px 4px; border-radius: 4px; }
h2 { margin: 0 0 8px; font-size: 13px; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; color: var(--dim); }
.count { color: var(--grey); font-weight: 400; margin-left: 4px; }

.top { display: flex; align-items: center; gap: 18px; padding: 10px 18px; background: var(--panel); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 15px; letter-spacing: .02em; }
.brand .logo { color: var(--violet); }
.brand .sub { color: var(--dim); font-weight: 400; }
.hub { color: var(--dim); font-family: var(--mono); font-size: 12px; flex: 1; }
.conn { display: flex; align-items: center; gap: 6px; color: var(--dim); font-size: 12px; }
.conn .dot { width: 9px; height: 9px; border-radius: 50%; background: var(--grey); }
.conn.live .dot { background: var(--green); box-shadow: 0 0 6px var(--green); }
.conn.down .dot { background: var(--red); }

.questions { margin: 12px 18px 0; padding: 12px 14px; background: #2b2111; border: 1px solid #6b4f12; border-radius: 8px; }
.questions h2 { color: var(--amber); }
.question { display: grid; grid-template-columns: 1fr auto; gap: 8px 16px; padding: 8px 0; border-top: 1px solid #4a3a17; }
.question:first-child { border-top: 0; }
.question .who { font-family: var(--mono); font-size: 12px; color: var(--amber); }
.question pre { margin: 4px 0 0; font-family: var(--mono); font-size: 12px; white-space: pre-wrap; color: var(--text); }
.question form { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; justify-content: flex-end; align-self: center; }
.question .err { grid-column: 1 / -1; color: var(--red); font-size: 12px; }
button, input[type=text] { font: inherit; font-size: 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel2); color: var(--text); padding: 5px 10px; }
button { cursor: pointer; }
button:hover { border-color: var(--blue); }
button.opt { background: #3a2e14; border-color: #6b4f12; color: #ffd67a; }
button:disabled { opacity: .5; cursor: wait; }
input[type=text] { width: 180px; }

.grid { display: grid; grid-template-columns: minmax(420px, 44%) 1fr; gap: 14px; padding: 14px 18px 18px; align-items: start; }
.col-left { display: grid; gap: 14px; min-width: 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
.empty { color: var(--grey); margin: 6px 0 0; }
.empty[hidden] { display: none; }

table { width: 100%; border-collapse: collapse; font-size: 12px; }
th { text-align: left; color: var(--grey); font-weight: 500; padding: 4px 6px; border-bottom: 1px solid var(--line); }
td { padding: 5px 6px; border-bottom: 1px solid #1f2630; white-space: nowrap; }
td.mono { font-family: var(--mono); }
tbody tr { cursor: pointer; }
tbody tr:hover { background: var(--panel2); }
tbody tr.selected { background: #1f2a3b; box-shadow: inset 3px 0 0 var(--blue); }
tbody tr.ended { opacity: .5; }
tbody tr.waiting td { background: rgba(240,180,41,.08); }
td.pending.has { color: var(--amber); font-weight: 600; }
.sdot { width: 8px; height: 8px; border-radius: 50%; display: inline-block; background: var(--grey); }

.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 11px; font-weight: 600; background: #30363d; color: var(--text); }
.st-starting { background: #23324a; color: #9ecbff; }
.st-idle { background: #1d3326; color: #7ee2a0; }
.st-processing { background: #13325a; color: #79c0ff; }
.st-completed { background: #173a24; color: #56d364; }
.st-waiting_user_answer { background: #4a3510; color: #ffd67a; animation: pulse 1.2s ease-in-out infinite; }
.st-error { background: #4b1a1c; color: #ff9492; }
.st-exited { background: #262c33; color: var(--grey); }
.sdot.st-starting { background: #9ecbff; } .sdot.st-idle { background: #7ee2a0; } .sdot.st-processing { background: var(--blue); animation: pulse 1s infinite; }
.sdot.st-completed { background: var(--green); } .sdot.st-waiting_user_answer { background: var(--amber); animation: pulse 1s infinite; }
.sdot.st-error { background: var(--red); } .sdot.st-exited { background: var(--grey); }
@keyframes pulse { 50% { opacity: .45; } }

.timeline ol { list-style: none; margin: 0; padding: 0; max-height: 46vh; overflow: auto; }
.msg { padding: 7px 2px; border-bottom: 1px solid #1f2630; }
.msg .meta { display: flex; gap: 8px; align-items: center; font-size: 12px; color: var(--dim); }
.msg .id { font-family: var(--mono); color: var(--grey); }
.msg .route { font-family: var(--mono); color: var(--text); }
.msg .route .arrow { color: var(--grey); margin: 0 4px; }
.msg .body { margin: 4px 0 0; font-family: var(--mono); font-size: 12px; white-space: pre-wrap; color: #c0c8d2; max-height: 4.4em; overflow: hidden; cursor: pointer; }
.msg .body.open { max-height: none; }
.msg .error { color: var(--red); font-size: 12px; margin-top: 3px; }
.ms-pending { background: #3a2e14; color: #ffd67a; }
.ms-delivering { background: #13325a; color: #79c0ff; }
.ms-delivered { background: #173a24; color: #56d364; }
.ms-failed { background: #4b1a1c; color: #ff9492; }

.screen-head { display: flex; align-items: center; gap: 10px; margin-bottom: 8px; }
.screen-head h2 { margin: 0; font-family: var(--mono); text-transform: none; letter-spacing: 0; color: var(--text); font-size: 13px; }
.screen-head .size { color: var(--grey); font-family: var(--mono); font-size: 11px; }
.typing { margin-left: auto; color: var(--dim); font-size: 12px; display: flex; gap: 5px; align-items: center; cursor: pointer; }
.typing.on { color: var(--amber); }
.screen-note { color: var(--grey); padding: 6px 0; }
.screen-note.alert { color: var(--amber); }
.term { background: #0a0d12; border: 1px solid var(--line); border-radius: 6px; padding: 6px; overflow: auto; min-height: 200px; }
.term.writable { border-color: var(--amber); box-shadow: 0 0 0 1px rgba(240,180,41,.35); }
.tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--line); }
.tab { border: 1px solid transparent; border-bottom: 0; border-radius: 6px 6px 0 0; background: transparent; color: var(--dim); font-weight: 600; letter-spacing: .04em; text-transform: uppercase; padding: 6px 14px; margin-bottom: -1px; }
.tab:hover { color: var(--text); border-color: transparent; }
.tab.on { background: var(--panel); border-color: var(--line); color: var(--text); box-shadow: inset 0 2px 0 var(--blue); }
.view { display: grid; gap: 14px; min-width: 0; }
.view[hidden], .trace[hidden] { display: none; }

.runs td.task { white-space: normal; }
.oc { background: #30363d; color: var(--text); }
.oc-completed, .oc-reported { background: #173a24; color: #56d364; }
.oc-running { background: #13325a; color: #79c0ff; }
.oc-ended { background: #262c33; color: var(--dim); }
.oc-bad { background: #4b1a1c; color: #ff9492; }
.trace h2 { font-family: var(--mono); text-transform: none; letter-spacing: 0; color: var(--text); }
.trace-sum { margin: 0 0 10px; color: var(--dim); }
.tnode { border-left: 2px solid var(--line); margin: 0 0 8px; padding-left: 10px; }
.tnode > summary { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; cursor: pointer; padding: 3px 0; list-style: none; }
.tnode > summary::-webkit-details-marker { display: none; }
.tnode > summary::before { content: "▸"; color: var(--grey); width: 10px; }
.tnode[open] > summary::before { content: "▾"; }
.tnode .tid { font-family: var(--mono); font-weight: 600; }
.tnode .how { color: var(--dim); font-size: 12px; }
.tnode .alive { color: var(--dim); font-size: 11px; }
.tnode button.open-screen { padding: 2px 8px; font-size: 11px; }
.tevents { list-style: none; margin: 2px 0 4px 18px; padding: 0; max-height: 32vh; overflow: auto; font-family: var(--mono); font-size: 12px; }
.tevents li { display: grid; grid-template-columns: 70px 140px 1fr; gap: 8px; padding: 1px 0; border-bottom: 1px solid #1f2630; }
.tevents .off { color: var(--grey); text-align: right; }
.tevents .type { color: var(--violet); }
.tevents .what { color: #c0c8d2; white-space: pre-wrap; word-break: break-word; }
.tevents li.ev-status .type { color: var(--blue); }
.tevents li.ev-delegation .type { color: var(--amber); }
.tevents li.ev-bad .what { color: var(--red); }
`;
