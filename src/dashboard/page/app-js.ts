import { HOSTS_JS } from './hosts-js.js';
import { RUNS_JS } from './runs-js.js';

/**
 * The dashboard's script (served as /dashboard/app.js). Plain browser JavaScript, no build step; kept in a
 * String.raw literal so it ships inside dist/ (it must not contain a backtick or a dollar-brace).
 *
 * Live data: one EventSource for the hub's events (hello, agent, message, runs) and one for the selected agent's
 * screen (screen, output, status, end). Every request carries the token from the page's own URL. The Runs view
 * (runs-js.ts) is put into the same closure.
 */
export const PAGE_JS = String.raw`
(function () {
  'use strict';
  var token = new URLSearchParams(location.search).get('token') || '';
  var state = { hub: null, agents: new Map(), messages: new Map(), selected: null, typing: false, screenEs: null, answering: new Set() };
  var MAX_MESSAGES = 500;

  function api(path) { return path + (path.indexOf('?') >= 0 ? '&' : '?') + 'token=' + encodeURIComponent(token); }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function post(path, body) {
    return fetch(api(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) throw new Error(j.error || ('HTTP ' + r.status));
          return j;
        });
      });
  }
  function age(s) {
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  }
  function ageOf(a) {
    var end = a.endedAt || Date.now();
    return Math.max(0, Math.round((end - a.createdAt) / 1000));
  }
  function clock(ms) {
    var d = new Date(ms);
    function p(n) { return (n < 10 ? '0' : '') + n; }
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }
  function who(id) {
    var a = state.agents.get(id);
    if (a && a.kind === 'worker' && a.profile) return id + ' (' + a.profile + ')';
    return id;
  }
  function statusLabel(s) { return s === 'waiting_user_answer' ? 'waiting for answer' : s; }

  // ---------------------------------------------------------------- connection + events
  function setConn(kind, text) {
    var c = $('conn');
    c.className = 'conn ' + kind;
    $('conn-text').textContent = text;
  }
  function connect() {
    var es = new EventSource(api('/api/events'));
    es.addEventListener('hello', function (e) {
      var d = JSON.parse(e.data);
      state.hub = d.hub;
      state.agents.clear();
      d.agents.forEach(function (a) { state.agents.set(a.id, a); });
      state.messages.clear();
      d.messages.forEach(function (m) { state.messages.set(m.id, m); });
      renderHosts(d.hosts);
      setConn('live', 'live');
      renderHub();
      renderAll();
      runsChanged();
      if (!state.selected) autoSelect();
    });
    es.addEventListener('agent', function (e) {
      var a = JSON.parse(e.data);
      state.agents.set(a.id, a);
      renderAgents();
      renderQuestions();
      if (a.id === state.selected) renderScreenHead();
      runAgentChanged(a.id);
      if (!state.selected) autoSelect();
    });
    es.addEventListener('runs', function () { runsChanged(); });
    es.addEventListener('message', function (e) {
      var m = JSON.parse(e.data);
      state.messages.set(m.id, m);
      if (state.messages.size > MAX_MESSAGES) {
        var ids = Array.from(state.messages.keys()).sort(function (x, y) { return x - y; });
        for (var i = 0; i < ids.length - MAX_MESSAGES; i++) state.messages.delete(ids[i]);
      }
      renderTimeline();
    });
    es.onopen = function () { setConn('live', 'live'); };
    es.onerror = function () { setConn('down', 'reconnecting…'); };
  }

  function renderHub() {
    var h = state.hub;
    if (!h) return;
    $('hub-info').textContent = h.mode + ' hub · pid ' + h.pid + ' · ' + h.url + ' · ' + h.cwd;
  }
  function renderAll() { renderAgents(); renderQuestions(); renderTimeline(); renderScreenHead(); }

  // ---------------------------------------------------------------- agents
  function sortedAgents() {
    return Array.from(state.agents.values()).filter(function (a) { return a.kind === 'worker'; }).sort(function (x, y) {
      if (!!x.endedAt !== !!y.endedAt) return x.endedAt ? 1 : -1;
      return x.createdAt - y.createdAt;
    });
  }
  function renderAgents() {
    var body = $('agents-body');
    var list = sortedAgents();
    body.textContent = '';
    list.forEach(function (a) {
      var tr = el('tr');
      tr.dataset.id = a.id;
      tr.dataset.status = a.status;
      if (a.id === state.selected) tr.classList.add('selected');
      if (a.endedAt) tr.classList.add('ended');
      if (a.status === 'waiting_user_answer') tr.classList.add('waiting');
      var dot = el('td'); dot.appendChild(el('span', 'sdot st-' + a.status)); tr.appendChild(dot);
      tr.appendChild(el('td', 'mono', a.id));
      tr.appendChild(el('td', '', a.profile || ''));
      tr.appendChild(el('td', '', (a.provider || '') + (a.host ? ' @ ' + a.host : '')));
      var st = el('td'); st.appendChild(el('span', 'badge st-' + a.status, statusLabel(a.status))); tr.appendChild(st);
      tr.appendChild(el('td', 'mono', a.warm ? 'warm spare' : a.creator || ''));
      tr.appendChild(el('td', 'age', age(ageOf(a))));
      tr.appendChild(el('td', 'pending' + (a.pending ? ' has' : ''), a.pending ? String(a.pending) : '–'));
      var wt = a.worktree ? '\nworktree ' + a.worktree.state + ' on ' + a.worktree.branch : '';
      tr.title = (a.workingDirectory || '') + wt + (a.lastError ? '\n' + a.lastError : '');
      tr.addEventListener('click', function () { select(a.id); });
      body.appendChild(tr);
    });
    var live = list.filter(function (a) { return !a.endedAt; }).length;
    $('agent-count').textContent = list.length ? live + ' running' + (list.length > live ? ', ' + (list.length - live) + ' ended' : '') : '';
    $('agents-empty').hidden = list.length > 0;
  }
${HOSTS_JS}
  function autoSelect() {
    var list = sortedAgents().filter(function (a) { return a.live && !a.endedAt; });
    if (list.length) select(list[0].id);
  }

  // ---------------------------------------------------------------- questions
  function optionsOf(q) {
    var out = [];
    (q || '').split('\n').forEach(function (line) {
      var m = /^\s*(?:[❯>]\s*)?([1-9])[.)]\s+(.+)$/.exec(line);
      if (m) out.push({ key: m[1], text: m[2].trim() });
    });
    return out;
  }
  function renderQuestions() {
    var waiting = sortedAgents().filter(function (a) { return a.status === 'waiting_user_answer' && !a.endedAt; });
    var box = $('questions');
    var list = $('question-list');
    box.hidden = waiting.length === 0;
    // Keep a form the user is typing into: rebuild only the cards whose question changed.
    var keep = {};
    Array.from(list.children).forEach(function (c) { keep[c.dataset.id] = c; });
    waiting.forEach(function (a) {
      var sig = a.id + '|' + (a.question || '') + '|' + a.live;
      var card = keep[a.id];
      delete keep[a.id];
      if (card && card.dataset.sig === sig) { list.appendChild(card); return; }
      if (card) card.remove();
      list.appendChild(questionCard(a, sig));
    });
    Object.keys(keep).forEach(function (id) { keep[id].remove(); });
  }
  function questionCard(a, sig) {
    var card = el('div', 'question');
    card.dataset.id = a.id;
    card.dataset.sig = sig;
    var left = el('div');
    left.appendChild(el('div', 'who', a.id + ' · ' + (a.profile || '') + ' · ' + (a.provider || '') + (a.host ? ' @ ' + a.host : '')));
    left.appendChild(el('pre', '', a.question || '(question not readable: open its screen)'));
    card.appendChild(left);
    var form = el('form');
    var err = el('div', 'err');
    function send(answer) {
      if (!answer) return;
      var buttons = form.querySelectorAll('button, input');
      buttons.forEach(function (b) { b.disabled = true; });
      err.textContent = '';
      state.answering.add(a.id);
      post('/api/agents/' + encodeURIComponent(a.id) + '/answer', { answer: answer })
        .then(function () { card.classList.add('answered'); })
        .catch(function (e) { err.textContent = 'Not answered: ' + e.message; buttons.forEach(function (b) { b.disabled = false; }); })
        .then(function () { state.answering.delete(a.id); });
    }
    // another host's worker is answered through its hub (the call is carried there); one of another hub on this file is not
    if (!a.live && !a.host) {
      form.appendChild(el('span', 'empty', 'runs in another hub'));
    } else {
      optionsOf(a.question).forEach(function (o) {
        var b = el('button', 'opt', o.key + '. ' + o.text);
        b.type = 'button';
        b.dataset.answer = o.key;
        b.addEventListener('click', function () { send(o.key); });
        form.appendChild(b);
      });
      var input = el('input');
      input.type = 'text';
      input.placeholder = 'or type an answer…';
      form.appendChild(input);
      var go = el('button', '', 'Send');
      go.type = 'submit';
      form.appendChild(go);
      form.addEventListener('submit', function (e) { e.preventDefault(); send(input.value.trim()); });
    }
    card.appendChild(form);
    card.appendChild(err);
    return card;
  }

  // ---------------------------------------------------------------- timeline
  function renderTimeline() {
    var ol = $('timeline');
    var atBottom = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 8;
    var open = {};
    ol.querySelectorAll('.body.open').forEach(function (b) { open[b.parentNode.dataset.id] = true; });
    ol.textContent = '';
    var list = Array.from(state.messages.values()).sort(function (x, y) { return x.id - y.id; });
    list.forEach(function (m) {
      var li = el('li', 'msg');
      li.dataset.id = m.id;
      li.dataset.state = m.state;
      var meta = el('div', 'meta');
      meta.appendChild(el('span', 'id', '#' + m.id));
      meta.appendChild(el('span', 'time', clock(m.createdAt)));
      var route = el('span', 'route');
      route.appendChild(document.createTextNode(who(m.sender)));
      route.appendChild(el('span', 'arrow', '→'));
      route.appendChild(document.createTextNode(who(m.receiver)));
      meta.appendChild(route);
      meta.appendChild(el('span', 'badge ms-' + m.state, m.state));
      li.appendChild(meta);
      var body = el('div', 'body' + (open[m.id] ? ' open' : ''), m.body);
      body.title = 'click to expand';
      body.addEventListener('click', function () { body.classList.toggle('open'); });
      li.appendChild(body);
      if (m.error) li.appendChild(el('div', 'error', m.error));
      ol.appendChild(li);
    });
    $('timeline-empty').hidden = list.length > 0;
    var counts = {};
    list.forEach(function (m) { counts[m.state] = (counts[m.state] || 0) + 1; });
    $('msg-count').textContent = list.length ? Object.keys(counts).map(function (k) { return counts[k] + ' ' + k; }).join(' · ') : '';
    if (atBottom) ol.scrollTop = ol.scrollHeight;
  }

  // ---------------------------------------------------------------- live screen
  var term = new Terminal({
    fontSize: 12,
    fontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace',
    cols: 120,
    rows: 40,
    scrollback: 5000,
    cursorBlink: false,
    allowProposedApi: true,
    theme: { background: '#0a0d12', foreground: '#d6dde6', cursor: '#d6dde6', selectionBackground: '#264f78' },
  });
  term.open($('term'));
  // Fit the agent's whole width into the panel: pick the font size from the measured cell width.
  function fit() {
    var avail = $('term').clientWidth - 24;
    var cur = term.options.fontSize;
    var dims = term._core && term._core._renderService && term._core._renderService.dimensions;
    var ratio = dims && dims.css && dims.css.cell && dims.css.cell.width ? dims.css.cell.width / cur : 0.6;
    var size = Math.max(8, Math.min(13, Math.floor((avail / (term.cols * ratio)) * 2) / 2));
    if (size !== cur) term.options.fontSize = size;
  }
  window.addEventListener('resize', fit);
  // The emulator answers terminal queries found in replayed output through onData too; those are not keys.
  var REPLY = /^\x1b\[\??\d+;\d+R$|^\x1b\[[?>][\d;]*c$|^\x1b\[\d+n$|^\x1b\[\??\d+;\d+\$y$|^\x1bP[\s\S]*\x1b\\$|^\x1b\][\s\S]*(\x07|\x1b\\)$/;
  var inputChain = Promise.resolve();
  term.onData(function (d) {
    if (REPLY.test(d)) return;
    if (!state.typing || !state.selected) {
      note('Read-only: switch on “allow typing” to send keys to this agent.', true);
      return;
    }
    var id = state.selected;
    // Keys go one request after the other, in order.
    inputChain = inputChain.then(function () {
      return post('/api/agents/' + encodeURIComponent(id) + '/input', { data: d }).catch(function (e) { note('Typing failed: ' + e.message, true); });
    });
  });
  $('typing-toggle').addEventListener('change', function (e) {
    state.typing = e.target.checked;
    $('term').classList.toggle('writable', state.typing);
    e.target.parentNode.classList.toggle('on', state.typing);
    if (state.typing) term.focus();
    note(state.typing ? 'Typing goes to the agent.' : '', false);
  });
  function note(text, alert) {
    var n = $('screen-note');
    n.textContent = text;
    n.className = 'screen-note' + (alert ? ' alert' : '');
  }
  function renderScreenHead() {
    var a = state.selected && state.agents.get(state.selected);
    if (!a) { $('screen-title').textContent = 'Live screen'; $('screen-status').textContent = ''; $('screen-status').className = 'badge'; return; }
    $('screen-title').textContent = a.id + ' · ' + (a.profile || '') + ' · ' + (a.provider || '');
    var s = $('screen-status');
    s.textContent = statusLabel(a.status);
    s.className = 'badge st-' + a.status;
    $('screen-size').textContent = a.cols ? a.cols + '×' + a.rows : '';
  }
  function select(id) {
    if (state.selected === id && state.screenEs) return;
    if (state.screenEs) state.screenEs.close();
    state.screenEs = null;
    state.selected = id;
    // Typing is allowed per agent: switching agents switches it off again.
    if (state.typing) {
      var box = $('typing-toggle');
      box.checked = false;
      box.dispatchEvent(new Event('change'));
    }
    renderAgents();
    renderScreenHead();
    term.reset();
    var a = state.agents.get(id);
    if (!a || !a.live || a.endedAt) {
      // another host's screen stays on that host (its hub renders it): its own dashboard shows it
      note(
        a && a.endedAt ? 'This agent has ended.' : a && a.host ? 'This agent runs on host ' + a.host + ': its screen is on that host’s dashboard.' : 'This agent runs in another hub.',
        false,
      );
      return;
    }
    note('', false);
    var es = new EventSource(api('/api/agents/' + encodeURIComponent(id) + '/screen'));
    state.screenEs = es;
    es.addEventListener('screen', function (e) {
      var d = JSON.parse(e.data);
      term.reset();
      term.resize(d.cols, d.rows);
      fit();
      term.write(d.data);
      $('screen-size').textContent = d.cols + '×' + d.rows;
    });
    es.addEventListener('output', function (e) { term.write(JSON.parse(e.data).data); });
    es.addEventListener('status', function (e) {
      var d = JSON.parse(e.data);
      var cur = state.agents.get(id);
      if (cur) { cur.status = d.status; if (d.question !== undefined) cur.question = d.question; }
      renderScreenHead();
    });
    es.addEventListener('end', function (e) {
      note('The agent ended: ' + JSON.parse(e.data).reason, false);
      es.close();
      if (state.screenEs === es) state.screenEs = null;
    });
  }

${RUNS_JS}
  setInterval(function () {
    document.querySelectorAll('#agents-body tr').forEach(function (tr) {
      var a = state.agents.get(tr.dataset.id);
      var cell = tr.querySelector('td.age');
      if (a && cell) cell.textContent = age(ageOf(a));
    });
  }, 1000);

  connect();
})();
`;
