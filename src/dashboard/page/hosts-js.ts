/**
 * The dashboard's hosts line and the other hosts' agents (many hosts): part of the page's script (app-js.ts puts it
 * inside its closure, where `$`, `api`, `state`, `renderAgents` and `renderQuestions` are). Plain browser JavaScript
 * in a String.raw literal, like the rest (it must not contain a backtick or a dollar-brace).
 */
export const HOSTS_JS = String.raw`
  // many hosts: every host sharing the database, refreshed every 2 s (null on one machine: the line stays hidden)
  function renderHosts(hosts) {
    var line = $('hosts-line');
    line.hidden = !hosts;
    if (!hosts) return;
    line.textContent = 'hosts: ' + hosts.map(function (h) {
      return h.name + (h.self ? ' (this one)' : '') + ' ' + h.state + ' ' + h.workers + '/' + h.capacity;
    }).join(' · ');
    if (!state.hostsTimer) state.hostsTimer = setInterval(refreshHosts, 2000);
  }
  // Another host's agents change there, and no event of theirs reaches this hub: their rows are read again with the hosts.
  function refreshHosts() {
    fetch(api('/api/agents')).then(function (r) { return r.json(); }).then(function (d) {
      renderHosts(d.hosts);
      var remote = function (a) { return a.host && !a.live; };
      var listed = {};
      var changed = false;
      d.agents.forEach(function (a) {
        listed[a.id] = true;
        var cur = state.agents.get(a.id);
        if (!remote(a) || (cur && JSON.stringify(cur) === JSON.stringify(a))) return;
        state.agents.set(a.id, a);
        changed = true;
      });
      state.agents.forEach(function (a, id) {
        if (remote(a) && !listed[id]) { state.agents.delete(id); changed = true; }
      });
      if (changed) { renderAgents(); renderQuestions(); }
    }).catch(function () {});
  }
`;
