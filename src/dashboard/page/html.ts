/** The dashboard page. The token is put into the asset URLs (the page itself was only served to a token holder). */
export function pageHtml(token: string): string {
  const q = `?token=${encodeURIComponent(token)}`;
  const a = (s: string) => escapeHtml(s + q);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>cao-mcp dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${a('/dashboard/xterm.css')}">
<link rel="stylesheet" href="${a('/dashboard/app.css')}">
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo">◆</span> cao-mcp <span class="sub">agents</span></div>
  <div class="hub" id="hub-info">connecting…</div>
  <div class="conn" id="conn"><span class="dot"></span><span id="conn-text">connecting</span></div>
</header>
<section id="questions" class="questions" hidden>
  <h2><span class="warn">⚠</span> Waiting for an answer</h2>
  <div id="question-list"></div>
</section>
<main class="grid">
  <div class="col-left">
    <nav class="tabs" role="tablist">
      <button type="button" class="tab on" id="tab-agents" role="tab" aria-selected="true" data-view="agents">Agents</button>
      <button type="button" class="tab" id="tab-runs" role="tab" aria-selected="false" data-view="runs">Runs</button>
    </nav>
    <div class="view" id="view-agents">
      <section class="panel agents">
        <h2>Agents <span class="count" id="agent-count"></span></h2>
        <p class="hosts" id="hosts-line" hidden></p>
        <table id="agents-table">
          <thead><tr><th></th><th>id</th><th>profile</th><th>provider</th><th>status</th><th>creator</th><th>age</th><th title="messages waiting to be delivered">inbox</th></tr></thead>
          <tbody id="agents-body"></tbody>
        </table>
        <p class="empty" id="agents-empty">No agents yet. Start one with <code>handoff</code> or <code>assign</code>.</p>
      </section>
      <section class="panel timeline">
        <h2>Messages <span class="count" id="msg-count"></span></h2>
        <ol id="timeline"></ol>
        <p class="empty" id="timeline-empty">No messages yet.</p>
      </section>
    </div>
    <div class="view" id="view-runs" hidden>
      <section class="panel runs">
        <h2>Runs <span class="count" id="runs-count"></span></h2>
        <table id="runs-table">
          <thead><tr><th>run</th><th>root task</th><th>agents</th><th>outcome</th><th>started</th><th>duration</th></tr></thead>
          <tbody id="runs-body"></tbody>
        </table>
        <p class="empty" id="runs-empty">No runs in the journal yet. A <code>handoff</code> or <code>assign</code> starts one.</p>
      </section>
      <section class="panel trace" id="trace" hidden>
        <h2 id="trace-title"></h2>
        <p class="trace-sum" id="trace-summary"></p>
        <div id="trace-tree"></div>
        <p class="empty" id="trace-note" hidden></p>
      </section>
    </div>
  </div>
  <section class="panel screen">
    <div class="screen-head">
      <h2 id="screen-title">Live screen</h2>
      <span class="badge" id="screen-status"></span>
      <span class="size" id="screen-size"></span>
      <label class="typing" title="Keys you type in the screen go to the agent">
        <input type="checkbox" id="typing-toggle"> allow typing
      </label>
    </div>
    <div id="screen-note" class="screen-note">Select an agent to watch its screen.</div>
    <div id="term" class="term"></div>
  </section>
</main>
<script src="${a('/dashboard/xterm.js')}"></script>
<script src="${a('/dashboard/app.js')}"></script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
