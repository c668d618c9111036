// The dashboard's small shared store: who is signed in, the team (to show names for ids), and a
// tiny event emitter screens use to hear about each other (e.g. the bell's unread count).

import { api } from './api.js';

export const state = {
  me: null,          // GET /api/v1/me: {agent, organization, role, permissions, csrfToken}
  agents: [],        // the team, for names and the assignee pickers
  features: {},      // which of the newer endpoints this server has (probed, see app.js)
};

const listeners = new Map();

export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name)?.delete(fn);
}

export function emit(name, data) {
  for (const fn of [...(listeners.get(name) || [])]) {
    try { fn(data); } catch (error) { console.error(name, error); }
  }
}

/** Whether the signed-in agent has a permission (manageSites, manageSettings, manageTeam, manageAPIKeys…). */
export function can(permission) {
  return !!state.me && (state.me.permissions || []).includes(permission);
}

export function myId() { return state.me?.agent?.id || null; }

export function orgId() { return state.me?.organization?.id || null; }

export function agentName(id) {
  if (!id) return null;
  if (id === myId()) return state.me.agent.name || 'You';
  const agent = state.agents.find((a) => a.id === id);
  return agent ? agent.name || agent.email : 'Former agent';
}

export async function loadAgents() {
  try {
    const page = await api.get('/api/v1/admin/agents?limit=200');
    state.agents = page.data || [];
  } catch {
    state.agents = state.me?.agent ? [state.me.agent] : [];
  }
  emit('agents', state.agents);
  return state.agents;
}

/** Active agents as [id, label] for assignee pickers, "me" first. */
export function agentOptions() {
  const mine = myId();
  return state.agents
    .filter((a) => a.isActive)
    .sort((a, b) => (a.id === mine ? -1 : b.id === mine ? 1 : (a.name || a.email).localeCompare(b.name || b.email)))
    .map((a) => [a.id, a.id === mine ? `${a.name || a.email} (you)` : a.name || a.email]);
}

/** How to call a visitor: their name, their email, or "Visitor" and a short id. */
export function visitorName(visitor) {
  if (!visitor) return 'Visitor';
  return visitor.name || visitor.email || `Visitor ${String(visitor.anonymousId || visitor.id || '').slice(0, 6)}`;
}
