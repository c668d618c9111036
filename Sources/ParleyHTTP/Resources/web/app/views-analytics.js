// Analytics for a date range: GET /api/v1/admin/analytics (volume per day, response and
// resolution times, customer satisfaction (its average, stars, response rate and days), SLA compliance, the assistant's handoff and resolution rates, the agents'
// leaderboard) and the AI's accuracy from GET /api/v1/admin/analytics/ai (answers, thumbs, the
// agents' Right / Wrong marks, handoffs and their reasons, the questions it could not answer: the
// knowledge base's gaps). On a server without the latter, the same figures are worked out from the
// assistant's latest interactions.

import { api, qs, missingRoute } from './api.js';
import { h, icon, replace, fmt, empty, spinner } from './dom.js';
import { agentName } from './state.js';
import { barChart, lineChart, hbarChart, responsive } from './charts.js';

const PRESETS = [[7, '7 days'], [30, '30 days'], [90, '90 days']];
const REASONS = {
  visitor_asked: 'Visitor asked for a person', no_answer: 'Nothing in the knowledge base', limit_reached: 'Message limit reached',
  low_confidence: 'Low confidence', model_decided: 'The model handed over', provider_failed: 'Providers failed', ai_failed: 'AI failed',
};

function daysAgo(n) {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - n);
  return d;
}

export function mount(container) {
  let range = { preset: 30, from: fmt.isoDay(daysAgo(29)), to: fmt.isoDay(daysAgo(0)) };
  const presetButtons = PRESETS.map(([n, label]) => h('button', { type: 'button', 'aria-pressed': String(n === 30), text: label, onclick: () => {
    range = { preset: n, from: fmt.isoDay(daysAgo(n - 1)), to: fmt.isoDay(daysAgo(0)) };
    from.value = range.from; to.value = range.to;
    load();
  } }));
  const from = h('input', { type: 'date', value: range.from, 'aria-label': 'From' });
  const to = h('input', { type: 'date', value: range.to, 'aria-label': 'To' });
  [from, to].forEach((el) => el.addEventListener('change', () => {
    if (!from.value || !to.value || from.value > to.value) return;
    range = { preset: null, from: from.value, to: to.value };
    load();
  }));
  const body = h('div', { class: 'stack' }, spinner());
  container.appendChild(h('div', { class: 'page analytics' },
    h('div', { class: 'section-head' }, h('div', {}, h('h2', { text: 'Support at a glance' }), h('p', { class: 'muted', id: 'range-text' })),
      h('div', { class: 'range', role: 'group', 'aria-label': 'Date range' }, h('div', { class: 'seg' }, presetButtons), from, h('span', { class: 'muted', text: 'to' }), to)),
    body));

  async function load() {
    presetButtons.forEach((b, i) => b.setAttribute('aria-pressed', String(PRESETS[i][0] === range.preset)));
    container.querySelector('#range-text').textContent = `${fmt.date(`${range.from}T00:00:00`)} – ${fmt.date(`${range.to}T00:00:00`)}`;
    replace(body, spinner());
    try {
      const [report, ai] = await Promise.all([api.get(`/api/v1/admin/analytics${qs({ from: range.from, to: range.to })}`), aiReport(range)]);
      replace(body, draw(report, ai));
    } catch (e) {
      replace(body, empty('The figures could not be loaded', e.message));
    }
  }
  load();
  return {};
}

/** The AI's accuracy: from the server, or worked out from its latest 200 interactions. */
async function aiReport(range) {
  try {
    return { ...(await api.get(`/api/v1/admin/analytics/ai${qs({ from: range.from, to: range.to })}`)), approximate: false };
  } catch (e) {
    if (!missingRoute(e)) throw e;
  }
  const log = (await api.get('/api/v1/admin/ai/interactions')).data || [];
  const start = new Date(`${range.from}T00:00:00`).getTime();
  const end = new Date(`${range.to}T00:00:00`).getTime() + 86400000;
  const inRange = log.filter((x) => { const t = new Date(x.createdAt).getTime(); return t >= start && t < end; });
  const reasons = {};
  const gaps = new Map();
  for (const x of inRange) {
    if (x.outcome === 'handoff' || x.outcome === 'failed') {
      const reason = x.reason || x.outcome;
      reasons[reason] = (reasons[reason] || 0) + 1;
      if (reason !== 'visitor_asked' && x.question) {
        const key = x.question.trim().toLowerCase().replace(/\s+/g, ' ');
        const g = gaps.get(key) || { question: x.question.trim(), count: 0, lastAskedAt: x.createdAt };
        g.count += 1;
        if (x.createdAt > g.lastAskedAt) g.lastAskedAt = x.createdAt;
        gaps.set(key, g);
      }
    }
  }
  return {
    answers: inRange.filter((x) => ['answer', 'resolve', 'article', 'auto_reply'].includes(x.outcome)).length,
    thumbsUp: inRange.filter((x) => x.feedback === 'up').length,
    thumbsDown: inRange.filter((x) => x.feedback === 'down').length,
    handoffs: inRange.filter((x) => x.outcome === 'handoff').length,
    handoffReasons: reasons,
    gaps: [...gaps.values()].sort((a, b) => b.count - a.count).slice(0, 20),
    approximate: true,
  };
}

function kpi(label, value, sub) {
  return h('div', { class: 'kpi' }, h('span', { class: 'kpi-label', text: label }), h('span', { class: 'kpi-value', text: value }), sub ? h('span', { class: 'kpi-sub', text: sub }) : null);
}

function rate(met, measured) { return measured ? met / measured : null; }

function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }

function chartPanel(title, chart, extra, wide) {
  return h('section', { class: `panel${wide ? ' wide' : ''}` }, h('div', { class: 'panel-head' }, h('h3', { text: title }), extra || null), h('div', { class: 'panel-body' }, chart));
}

function draw(r, ai) {
  // Every day of the range, with zeros for quiet days (the report lists active days only).
  const byDay = new Map((r.volume || []).map((d) => [d.day.slice(0, 10), d]));
  const days = [];
  const startDay = new Date(r.from);
  for (let t = new Date(Date.UTC(startDay.getUTCFullYear(), startDay.getUTCMonth(), startDay.getUTCDate())); t < new Date(r.to); t = new Date(t.getTime() + 86400000)) {
    const key = t.toISOString().slice(0, 10);
    days.push({ key, label: `${t.getUTCDate()}/${t.getUTCMonth() + 1}`, ...(byDay.get(key) || { tickets: 0, conversations: 0 }) });
  }
  const totalConversations = days.reduce((a, d) => a + d.conversations, 0);
  const totalTickets = days.reduce((a, d) => a + d.tickets, 0);
  const sla = r.sla || {};
  const sat = r.satisfaction || {};
  const as = r.assistant || {};
  const fr = r.firstResponse || {};
  const res = r.resolution || {};

  const kpis = h('div', { class: 'kpis' },
    kpi('Conversations', String(totalConversations), 'started in the range'),
    kpi('With the assistant', String(as.conversations || 0), `${fmt.percent(rate(as.conversations || 0, totalConversations))} of conversations`),
    kpi('Tickets', String(totalTickets), 'opened in the range'),
    kpi('First response (median)', fmt.minutes(fr.medianMinutes), fr.count ? `p90 ${fmt.minutes(fr.p90Minutes)} · ${plural(fr.count, 'ticket')}` : 'No replies yet'),
    kpi('Resolution (median)', fmt.minutes(res.medianMinutes), res.count ? `p90 ${fmt.minutes(res.p90Minutes)} · ${plural(res.count, 'ticket')}` : 'Nothing resolved yet'),
    kpi('Satisfaction', sat.count ? `${stars(sat.average)} / 5` : '—', plural(sat.count || 0, 'rating')),
    kpi('SLA: first response', fmt.percent(sla.firstResponseRate ?? rate(sla.firstResponseMet, sla.firstResponseMeasured)), `${sla.firstResponseMet || 0} of ${sla.firstResponseMeasured || 0} in time`),
    kpi('SLA: resolution', fmt.percent(sla.resolutionRate ?? rate(sla.resolutionMet, sla.resolutionMeasured)), `${sla.resolutionMet || 0} of ${sla.resolutionMeasured || 0} in time`),
    kpi('AI handoff rate', fmt.percent(as.handoffRate ?? rate(as.handedOver, as.conversations)), `${as.handedOver || 0} handed to the team`),
    kpi('AI resolution rate', fmt.percent(as.resolutionRate ?? rate((as.resolvedConfirmed || 0) + (as.resolvedAssumed || 0), as.conversations)), `${as.resolvedConfirmed || 0} confirmed · ${as.resolvedAssumed || 0} assumed`));

  const volume = responsive((width) => lineChart({
    width, height: 260,
    title: 'Conversations and tickets per day',
    labels: days.map((d) => d.label),
    series: [{ name: 'Conversations', values: days.map((d) => d.conversations), cls: 'line-a', dot: 'dot-a' }, { name: 'Tickets', values: days.map((d) => d.tickets), cls: 'line-b', dot: 'dot-b' }],
    format: (v) => String(Math.round(v)),
  }));
  const legend = h('div', { class: 'legend' }, h('span', {}, h('i', { class: 'k-a' }), 'Conversations'), h('span', {}, h('i', { class: 'k-b' }), 'Tickets'));
  const outcomes = responsive((width) => barChart({
    width,
    title: 'What the assistant did',
    labels: ['Confirmed', 'Assumed', 'Handed over', 'Thumbs up', 'Thumbs down'],
    series: [{ name: 'Conversations', values: [as.resolvedConfirmed || 0, as.resolvedAssumed || 0, as.handedOver || 0, as.thumbsUp || 0, as.thumbsDown || 0], cls: 'bar-a' }],
    format: (v) => String(Math.round(v)), height: 220,
  }));

  const leaders = (r.leaderboard || []).slice().sort((a, b) => b.resolved - a.resolved);
  const leaderboard = leaders.length ? h('table', { class: 'data' }, h('caption', { class: 'sr-only', text: 'Agents by tickets resolved' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Agent' }), h('th', { scope: 'col', class: 'num', text: 'Resolved' }), h('th', { scope: 'col', class: 'num', text: 'First response (median)' }),
      h('th', { scope: 'col', class: 'num', text: 'Satisfaction' }))),
    h('tbody', {}, leaders.map((row) => h('tr', { 'data-agent': row.agentId }, h('td', { text: agentName(row.agentId) || 'Unknown' }), h('td', { class: 'num', text: String(row.resolved) }), h('td', { class: 'num', text: fmt.minutes(row.firstResponse?.medianMinutes) }),
      h('td', { class: 'num sat-cell' }, row.ratings && row.satisfaction != null
        ? [h('span', { text: stars(row.satisfaction) }), h('span', { class: 'muted', text: ` · ${plural(row.ratings, 'rating')}` })]
        : h('span', { class: 'muted', text: '—', title: 'No ratings in this range' }))))))
    : empty('No tickets resolved or rated in this range');

  return [
    kpis,
    h('div', { class: 'charts' },
      chartPanel('Volume', volume, legend, true),
      chartPanel('Assistant outcomes', outcomes),
      h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h3', { text: 'Leaderboard' })), h('div', { class: 'table-wrap' }, leaderboard))),
    satisfaction(sat, days),
    aiAccuracy(ai),
  ];
}

/** An average of stars as "4.3". */
function stars(average) { return (Math.round(average * 10) / 10).toFixed(1); }

/**
 * Customer satisfaction: the average, how many rated, how many of those asked did (a closed
 * conversation or a resolved ticket asks), the stars given, and the average per day of the range.
 */
function satisfaction(sat, days) {
  const count = sat.count || 0;
  const asked = sat.asked || 0;
  const dist = sat.distribution || {};
  const perDay = new Map((sat.byDay || []).map((d) => [d.day.slice(0, 10), d]));
  const rated = days.map((d) => ({ label: d.label, sat: perDay.get(d.key) }));
  const byStars = responsive((width) => hbarChart({ width, title: 'Ratings by stars', items: [5, 4, 3, 2, 1].map((n) => ({ label: `${n} star${n > 1 ? 's' : ''}`, value: dist[String(n)] || 0, cls: n >= 4 ? 'bar-d' : n === 3 ? 'bar-c' : 'bar-e' })) }));
  const overTime = responsive((width) => barChart({
    width, height: 200,
    title: 'Average rating per day',
    labels: rated.map((d) => d.label),
    series: [{ name: 'Average rating', values: rated.map((d) => d.sat?.average || 0), cls: 'bar-d',
      tips: rated.map((d) => (d.sat ? `${d.label}: ${stars(d.sat.average)} / 5 from ${plural(d.sat.count, 'rating')}` : `${d.label}: no ratings`)) }],
    scale: { top: 5, step: 1 },
    format: (v) => String(Math.round(v)),
    description: `${rated.filter((d) => d.sat).map((d) => `${d.label}: ${stars(d.sat.average)} from ${plural(d.sat.count, 'rating')}`).join('; ')}. No ratings on the other days.`,
  }));
  const none = (title) => empty(title, 'Customers rate a conversation once it is closed (in the widget), and a ticket once it is resolved (from its email).');
  return h('section', { class: 'stack satisfaction', 'aria-labelledby': 'sat-title' },
    h('div', { class: 'section-head' }, h('div', {}, h('h2', { id: 'sat-title', text: 'Satisfaction' }),
      h('p', { class: 'muted', text: 'How customers rated the help they got, from 1 to 5 stars.' }))),
    h('div', { class: 'kpis' },
      kpi('Average rating', count ? `${stars(sat.average)} / 5` : '—', count ? `from ${plural(count, 'rating')}` : 'No ratings yet'),
      kpi('Ratings', String(count), `${dist['5'] || 0} with 5 stars · ${(dist['1'] || 0) + (dist['2'] || 0)} with 1 or 2`),
      kpi('Response rate', fmt.percent(sat.responseRate), asked ? `of customers asked rated (${count} of ${asked})` : 'Nobody was asked to rate yet')),
    h('div', { class: 'charts' },
      chartPanel('Ratings by stars', count ? byStars : none('No ratings in this range')),
      chartPanel('Satisfaction over time', count ? overTime : none('Nothing to draw yet'))));
}

/** The team's marks on the AI's answers: the share marked right, "3 right, 1 wrong" (no share without marks). */
function reviewed(ai) {
  if (typeof ai.reviewedRight !== 'number' && typeof ai.reviewedWrong !== 'number') return null; // an older server
  const right = ai.reviewedRight || 0;
  const wrong = ai.reviewedWrong || 0;
  return kpi('Agents\' review', right + wrong ? fmt.percent(right / (right + wrong)) : '—',
    right + wrong ? `${right} right, ${wrong} wrong` : 'No answer marked yet');
}

function aiAccuracy(ai) {
  const rated = (ai.thumbsUp || 0) + (ai.thumbsDown || 0);
  const reasons = Object.entries(ai.handoffReasons || {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => ({ label: REASONS[k] || fmt.label(k), value: v }));
  const gaps = ai.gaps || [];
  return h('section', { class: 'stack', 'aria-labelledby': 'ai-acc' },
    h('div', { class: 'section-head' }, h('div', {}, h('h2', { id: 'ai-acc', text: 'AI accuracy' }),
      h('p', { class: 'muted', text: ai.approximate ? 'Worked out from the assistant\'s latest 200 interactions in this range.' : 'Every answer of the assistant in this range.' }))),
    h('div', { class: 'kpis kpis-ai' },
      kpi('Answers', String(ai.answers || 0)),
      kpi('Thumbs up', String(ai.thumbsUp || 0), rated ? `${fmt.percent((ai.thumbsUp || 0) / rated)} of rated answers` : 'No ratings yet'),
      kpi('Thumbs down', String(ai.thumbsDown || 0)),
      reviewed(ai),
      kpi('Handoffs', String(ai.handoffs || 0), ai.answers || ai.handoffs ? `${fmt.percent((ai.handoffs || 0) / ((ai.answers || 0) + (ai.handoffs || 0)))} of questions` : ''),
      kpi('Knowledge gaps', String(gaps.length), gaps.length ? 'questions to write articles for' : 'none found')),
    h('div', { class: 'charts' },
      chartPanel('Why it handed over', reasons.length ? responsive((width) => hbarChart({ width, title: 'Handoffs by reason', items: reasons, cls: 'bar-c' })) : empty('No handoffs in this range')),
      h('section', { class: 'panel' },
        h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: 'Knowledge gaps' }), h('p', { class: 'hint', text: 'Questions the assistant could not answer. An article fixes them.' }))),
        gaps.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('caption', { class: 'sr-only', text: 'Unanswered questions' }),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Question' }), h('th', { scope: 'col', class: 'num', text: 'Asked' }), h('th', { scope: 'col', text: '' }))),
          h('tbody', {}, gaps.map((g) => h('tr', {},
            h('td', {}, h('div', { class: 'cell-main' }, h('span', { class: 'cell-title gap-q', text: g.question }), h('span', { class: 'cell-sub', text: `last ${fmt.full(g.lastAskedAt)}` }))),
            h('td', { class: 'num', text: String(g.count) }),
            h('td', {}, h('button', { type: 'button', class: 'btn small', 'aria-label': `Write an article about: ${g.question}`, onclick: () => {
              sessionStorage.setItem('parley.newArticle', g.question);
              location.hash = '#/settings/knowledge';
            } }, icon('edit', 13), 'Write article')))))))
          : h('div', { class: 'panel-body' }, empty('No gaps found', 'Every question in this range got an answer.')))));
}
