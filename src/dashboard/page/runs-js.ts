/**
 * The dashboard's Runs view: part of the page's script (app-js.ts puts it inside its closure, where `$`, `el`,
 * `api`, `clock`, `age`, `state`, `select` and `statusLabel` are). Plain browser JavaScript in a String.raw
 * literal, like the rest (it must not contain a backtick or a dollar-brace).
 *
 * It reads the journal through GET /api/runs and GET /api/runs/:id, in the shape `cao-mcp runs --json` and
 * `cao-mcp trace --json` print (snake_case), and reads them again when the live feed says a run changed (`runs`:
 * an agent of it started or ended, a handoff or assign started or ended) or an agent of the open trace changed
 * (`agent`). Every string is put in with textContent.
 */
export const RUNS_JS = String.raw`
  // ---------------------------------------------------------------- runs (the journal)
  var runs = { view: 'agents', list: [], open: null, trace: null, members: new Set(), timer: null, loading: false, dirty: false, last: 0 };
  var RUNS_REFRESH_MS = 400;

  function getJson(path) {
    return fetch(api(path)).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { var e = new Error(j.error || ('HTTP ' + r.status)); e.code = j.code; throw e; }
        return j;
      });
    });
  }
  function duration(ms) { return ms < 60000 ? (ms / 1000).toFixed(2) + ' s' : age(Math.round(ms / 1000)); }
  function offset(ms) { return '+' + (ms / 1000).toFixed(3) + 's'; }
  function outcomeClass(o) {
    return 'badge oc ' + (o === 'completed' || o === 'reported' || o === 'running' || o === 'ended' ? 'oc-' + o : 'oc-bad');
  }
  function rootTask(r) {
    return (r.via || 'worker') + ' ' + (r.profile || '?') + (r.provider ? ' (' + r.provider + ')' : '') + (r.caller_id ? ' from ' + r.caller_id : '');
  }

  function showView(v) {
    runs.view = v;
    ['agents', 'runs'].forEach(function (k) {
      var on = k === v;
      $('view-' + k).hidden = !on;
      $('tab-' + k).classList.toggle('on', on);
      $('tab-' + k).setAttribute('aria-selected', on ? 'true' : 'false');
    });
    if (v === 'runs') refreshRuns(true);
  }
  document.querySelectorAll('.tabs .tab').forEach(function (t) {
    t.addEventListener('click', function () { showView(t.dataset.view); });
  });

  // The live feed's hooks: a run changed, or an agent did (only one of the open trace matters).
  function runsChanged() { refreshRuns(false); }
  function runAgentChanged(id) { if (runs.members.has(id)) refreshRuns(false); }
  // At most one read per RUNS_REFRESH_MS, and always one after the last change; none while the view is hidden
  // (opening it reads them).
  function refreshRuns(now) {
    if (runs.view !== 'runs') return;
    if (runs.loading) { runs.dirty = true; return; }
    if (runs.timer) return;
    var wait = now ? 0 : Math.max(0, runs.last + RUNS_REFRESH_MS - Date.now());
    runs.timer = setTimeout(loadRuns, wait);
  }
  function loadRuns() {
    runs.timer = null;
    runs.loading = true;
    runs.dirty = false;
    runs.last = Date.now();
    var jobs = [getJson('/api/runs?limit=50').then(function (j) { runs.list = j.runs; renderRuns(); })];
    if (runs.open) jobs.push(loadTrace(runs.open));
    Promise.all(jobs)
      .catch(function (e) { $('runs-count').textContent = 'not read: ' + e.message; })
      .then(function () {
        runs.loading = false;
        if (runs.dirty) refreshRuns(false);
      });
  }
  function loadTrace(id) {
    return getJson('/api/runs/' + encodeURIComponent(id)).then(
      function (t) {
        if (runs.open !== id) return;
        runs.trace = t;
        renderTrace();
      },
      function (e) {
        if (runs.open !== id) return;
        runs.trace = null;
        runs.members = new Set();
        $('trace-tree').textContent = '';
        traceNote(e.code === 'not_found' ? 'This run is no longer in the journal.' : 'Not read: ' + e.message);
      },
    );
  }
  function openRun(id) {
    if (runs.open !== id) $('trace-tree').textContent = '';
    runs.open = id;
    renderRuns();
    $('trace').hidden = false;
    $('trace-title').textContent = 'run ' + id;
    loadTrace(id);
  }
  function traceNote(text) {
    $('trace-note').textContent = text;
    $('trace-note').hidden = !text;
  }

  function renderRuns() {
    var body = $('runs-body');
    body.textContent = '';
    runs.list.forEach(function (r) {
      var tr = el('tr');
      tr.dataset.run = r.run_id;
      tr.dataset.outcome = r.outcome;
      if (r.run_id === runs.open) tr.classList.add('selected');
      tr.appendChild(el('td', 'mono', r.run_id));
      tr.appendChild(el('td', 'task', rootTask(r)));
      tr.appendChild(el('td', 'agents', r.agents));
      var oc = el('td', 'outcome');
      oc.appendChild(el('span', outcomeClass(r.outcome), r.outcome));
      tr.appendChild(oc);
      var st = el('td', 'started', clock(r.started_at));
      st.title = new Date(r.started_at).toLocaleString();
      tr.appendChild(st);
      tr.appendChild(el('td', 'duration', duration(r.duration_ms)));
      tr.title = 'root ' + (r.root_terminal_id || '?') + ' · ' + r.events + ' events';
      tr.addEventListener('click', function () { openRun(r.run_id); });
      body.appendChild(tr);
    });
    var live = runs.list.filter(function (r) { return r.live; }).length;
    $('runs-count').textContent = runs.list.length ? runs.list.length + ' recent' + (live ? ', ' + live + ' running' : '') : '';
    $('runs-empty').hidden = runs.list.length > 0;
  }

  function renderTrace() {
    var t = runs.trace;
    var r = t.run;
    $('trace-title').textContent = 'run ' + r.run_id;
    var sum = $('trace-summary');
    sum.textContent = '';
    sum.appendChild(document.createTextNode(rootTask(r) + ' · ' + r.agents + ' agent' + (r.agents === 1 ? '' : 's') + ' · '));
    sum.appendChild(el('span', outcomeClass(r.outcome), r.outcome));
    sum.appendChild(document.createTextNode(' · ' + duration(r.duration_ms) + ' · started ' + clock(r.started_at)));
    var tree = $('trace-tree');
    // Keep what a person folded, and where each timeline was scrolled to.
    var keep = {};
    tree.querySelectorAll('details.tnode').forEach(function (d) {
      keep[d.dataset.id] = { open: d.open, top: d.querySelector('.tevents').scrollTop };
    });
    tree.textContent = '';
    runs.members = new Set();
    function walk(n, depth) {
      runs.members.add(n.terminal_id);
      tree.appendChild(traceNode(n, depth, r.started_at, keep[n.terminal_id]));
      n.children.forEach(function (c) { walk(c, depth + 1); });
    }
    t.tree.forEach(function (n) { walk(n, 0); });
    if (t.others.length) {
      var o = { terminal_id: '(outside the tree)', others: true, events: t.others, children: [] };
      tree.appendChild(traceNode(o, 0, r.started_at, keep[o.terminal_id]));
    }
    traceNote(t.truncated ? 'The run has more rows than a trace reads: the first ones are shown.' : '');
  }
  function traceNode(n, depth, t0, kept) {
    var d = el('details', 'tnode');
    d.open = kept ? kept.open : true;
    d.dataset.id = n.terminal_id;
    d.dataset.depth = String(depth);
    d.style.marginLeft = depth * 22 + 'px';
    var s = el('summary');
    s.appendChild(el('span', 'tid', n.terminal_id));
    if (!n.others) {
      s.appendChild(el('span', 'prof', (n.profile || '?') + (n.provider ? ' (' + n.provider + ')' : '')));
      s.appendChild(el('span', 'how', (n.via ? n.via + ' from ' : 'from ') + (n.created_by || '?')));
      if (n.outcome) s.appendChild(el('span', 'node-outcome ' + outcomeClass(n.outcome), n.outcome));
      var a = state.agents.get(n.terminal_id);
      if (a && !a.endedAt) {
        var now = el('span', 'alive');
        now.title = 'running now, its status now';
        now.appendChild(el('span', 'sdot st-' + a.status));
        now.appendChild(document.createTextNode(' running · ' + statusLabel(a.status)));
        s.appendChild(now);
        if (a.live) {
          var b = el('button', 'open-screen', 'open screen');
          b.type = 'button';
          b.title = 'watch its live screen';
          b.addEventListener('click', function (e) {
            e.preventDefault();
            e.stopPropagation();
            select(n.terminal_id);
          });
          s.appendChild(b);
        }
      }
    }
    d.appendChild(s);
    var ol = el('ol', 'tevents');
    n.events.forEach(function (e) { ol.appendChild(eventRow(e, t0, n.others)); });
    d.appendChild(ol);
    if (kept) setTimeout(function () { ol.scrollTop = kept.top; }, 0);
    return d;
  }
  function eventRow(e, t0, withTerminal) {
    var kind = /^(status\.|terminal\.ready|question\.)/.test(e.type) ? 'status' : /^(handoff|assign)\./.test(e.type) ? 'delegation' : 'other';
    if (e.type === 'message.failed') kind = 'bad';
    var li = el('li', 'ev-' + kind);
    li.dataset.type = e.type;
    li.appendChild(el('span', 'off', offset(e.at - t0)));
    li.appendChild(el('span', 'type', e.type));
    li.appendChild(el('span', 'what', (withTerminal ? (e.terminal_id || '-') + '  ' : '') + describeEvent(e)));
    return li;
  }
  function causeText(c) {
    if (!c) return '';
    if (c.kind === 'input-submitted') return 'input submitted';
    if (c.kind === 'exited') return 'exited with code ' + c.exit_code + (c.signal ? ' (signal ' + c.signal + ')' : '');
    return c.kind;
  }
  // What matters of an event's detail (as cao-mcp trace shows it): kinds, sizes, ids, outcomes; never a text.
  function describeEvent(e) {
    var d = e.detail || {};
    var by = e.caller_id ? ' by ' + e.caller_id : '';
    switch (e.type) {
      case 'terminal.created': return (d.spare ? 'warm spare' : d.kind || '') + by;
      case 'terminal.taken': return 'warm spare taken' + by;
      case 'terminal.ready': return d.status;
      case 'status.changed': return d.previous + ' → ' + d.status + ' (' + causeText(d.cause) + ')';
      case 'question.raised': return 'waiting for an answer (' + causeText(d.cause) + ')';
      case 'question.answered': return d.kind + ', ' + d.bytes + ' B' + by;
      case 'input.submitted': return d.kind + ', ' + d.bytes + ' B' + (d.writes > 1 ? ' in ' + d.writes + ' writes' : '');
      case 'message.queued':
        return '#' + d.message_id + ' ' + (d.kind || '') + ', ' + (d.bytes == null ? '?' : d.bytes) + ' B' + (e.caller_id ? ' from ' + e.caller_id : '');
      case 'message.claimed':
      case 'message.delivered': return '#' + d.message_id;
      case 'message.failed': return '#' + d.message_id + ': ' + (d.error || '');
      case 'message.requeued': return '#' + d.message_id + ' (' + (d.why === 'retry' ? 'retry: ' + (d.error || '') : 'its hub died before typing it') + ')';
      case 'handoff.started':
      case 'assign.started':
        return d.profile + ' (' + d.provider + '), task ' + d.bytes + ' B' + (d.warm ? ', warm' : '') + (d.worktree ? ', worktree' : '') + by;
      case 'handoff.ended':
      case 'assign.ended': return d.outcome + ' after ' + duration(d.duration_ms);
      case 'terminal.ended': return (d.status || '') + (d.reason ? ': ' + d.reason : '');
      case 'hub.started': return d.mode + ' hub ' + d.hub_id + ' (' + d.version + ')';
      case 'hub.recovered': return d.adopted + ' adopted, ' + d.ended + ' ended, ' + d.failed_messages + ' message(s) failed';
      case 'hub.stopped': return 'hub ' + d.hub_id + ', ' + d.workers + ' worker(s) ' + (d.keep_workers ? 'left running for the next hub' : 'ended');
    }
    return '';
  }
`;
