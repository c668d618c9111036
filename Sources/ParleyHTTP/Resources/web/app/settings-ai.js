// Settings sections about answering: the AI assistant (providers with health, the embeddings
// provider, prompt, thresholds, auto-reply rules), the knowledge base (the semantic index's
// progress, articles, import, search as the AI sees it with each hit's best passage), canned
// responses, and SLA policies with business hours.
//
// Article bodies and titles are the organization's content but still untrusted text: they go into
// inputs as values and into the page as textContent, never as HTML.

import { api, qs, missingRoute, APIError } from './api.js';
import { h, icon, replace, fmt, badge, toast, openDialog, confirmDialog, field, checkbox, select, empty, spinner, debounce, withError } from './dom.js';
import { can } from './state.js';
import { sectionHead, panel, saveButton } from './views-settings.js';

// MARK: - The AI assistant

const KINDS = [['openai', 'OpenAI-compatible'], ['anthropic', 'Anthropic'], ['gemini', 'Google Gemini']];
const KIND_NAMES = { openai: 'OpenAI-compatible', anthropic: 'Anthropic', gemini: 'Gemini' };
const BASE_URLS = { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com/v1', gemini: 'https://generativelanguage.googleapis.com/v1beta' };

export function aiSection(page) {
  const providersBody = h('tbody', {}, h('tr', {}, h('td', { colspan: 5 }, spinner())));
  const behaviour = h('div', {}, spinner());
  const embeddings = embeddingsPanel();
  page.append(
    sectionHead('AI assistant', 'Which models answer, how they behave, and when they hand over to the team.'),
    h('section', { class: 'panel' },
      h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: 'Providers' }), h('p', { class: 'hint', text: 'Tried in this order; one that fails before its first token is skipped for the next.' })),
        h('button', { type: 'button', class: 'btn', onclick: () => editProvider(null) }, icon('plus', 14), 'Add provider')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('caption', { class: 'sr-only', text: 'AI providers' }),
        h('thead', {}, h('tr', {}, ['Provider', 'Model', 'Health', 'Enabled', ''].map((x) => h('th', { scope: 'col', text: x })))), providersBody))),
    embeddings.el,
    behaviour);

  let providers = [];
  async function loadProviders() {
    try {
      const list = await api.get('/api/v1/admin/ai/providers');
      providers = list.data || [];
      if (!providers.length) { replace(providersBody, h('tr', {}, h('td', { colspan: 5 }, empty('No provider', 'Without one the assistant offers matching articles and hands everything else over.')))); return; }
      replace(providersBody, providers.map((p) => {
        const health = p.health || {};
        const state = health.healthy === true ? ['ok', 'Healthy'] : health.healthy === false ? ['bad', 'Failing'] : ['', 'Not used yet'];
        return h('tr', {},
          h('td', {}, h('div', { class: 'cell-main' }, h('span', { class: 'cell-title', text: p.name }), h('span', { class: 'cell-sub', text: `${KIND_NAMES[p.kind] || p.kind} · ${p.baseUrl || 'default API root'}` }))),
          h('td', {}, h('span', { class: 'mono', text: p.model })),
          h('td', {}, h('div', { class: 'cell-main' }, h('span', { class: `health ${state[0]}`, text: state[1] }),
            health.lastError ? h('span', { class: 'cell-sub', title: health.lastError, text: health.lastError }) : null,
            health.checkedAt ? h('span', { class: 'cell-sub', text: `checked ${fmt.full(health.checkedAt)}` }) : null)),
          h('td', {}, p.enabled === false ? badge('Off', 'muted') : badge('On', 'ok'), p.vision ? badge('Vision', 'muted') : null),
          h('td', {}, h('div', { class: 'row-actions' },
            h('button', { type: 'button', class: 'btn small', onclick: () => editProvider(p), 'aria-label': `Edit ${p.name}` }, icon('edit', 13), 'Edit'),
            h('button', { type: 'button', class: 'btn small danger', onclick: () => removeProvider(p), 'aria-label': `Delete ${p.name}` }, icon('trash', 13)))));
      }));
    } catch (e) { replace(providersBody, h('tr', {}, h('td', { colspan: 5 }, empty('The providers could not be loaded', e.message)))); }
  }

  async function editProvider(p) {
    const kind = select(KINDS, p?.kind || 'openai');
    const name = h('input', { type: 'text', value: p?.name || '', maxlength: 80, required: true });
    const baseUrl = h('input', { type: 'url', value: p?.baseUrl || '', placeholder: BASE_URLS[p?.kind || 'openai'] });
    const model = h('input', { type: 'text', value: p?.model || '', required: true, placeholder: 'gpt-4o-mini' });
    const key = h('input', { type: 'password', autocomplete: 'off', placeholder: p?.hasApiKey ? 'Stored: leave empty to keep it' : 'Optional for local models' });
    const enabled = checkbox('Enabled', p ? p.enabled !== false : true);
    const vision = checkbox('Reads images (vision): visitors\' images go to it', p ? p.vision === true : false);
    const position = h('input', { type: 'number', min: 0, max: 1000, value: p?.position ?? providers.length });
    kind.addEventListener('change', () => { baseUrl.placeholder = BASE_URLS[kind.value]; });
    const ok = await openDialog({
      title: p ? `Edit ${p.name}` : 'Add a provider',
      body: [h('div', { class: 'form-grid' }, field('Kind', kind, 'OpenAI-compatible: OpenAI, Ollama, llama.cpp, vLLM, LM Studio.'), field('Name', name), h('div', { class: 'full' }, field('API root', baseUrl, 'Empty: the provider\'s own.')),
        field('Model', model), field('Order', position, 'Lower is tried first.'), h('div', { class: 'full' }, field('API key', key, 'Stored sealed (AES-256-GCM), never shown again.')), enabled.wrap, vision.wrap)],
      actions: [{ label: 'Cancel', value: null }, { label: p ? 'Save' : 'Add provider', kind: 'primary', value: 'ok', submit: true }],
      async onSubmit() {
        if (!name.value.trim() || !model.value.trim()) throw new Error('A name and a model are needed.');
        const input = { kind: kind.value, name: name.value.trim(), model: model.value.trim(), enabled: enabled.input.checked, vision: vision.input.checked, position: Number(position.value) || 0 };
        if (baseUrl.value.trim()) input.baseUrl = baseUrl.value.trim();
        if (key.value) input.apiKey = key.value;
        if (p) await api.patch(`/api/v1/admin/ai/providers/${p.id}`, input);
        else await api.post('/api/v1/admin/ai/providers', input);
      },
    });
    if (ok) { toast('Provider saved', 'success'); loadProviders(); }
  }

  async function removeProvider(p) {
    if (!await confirmDialog(`The assistant stops using ${p.name}.`, { title: 'Delete this provider?', confirm: 'Delete', danger: true })) return;
    try { await api.del(`/api/v1/admin/ai/providers/${p.id}`); toast('Provider deleted', 'success'); loadProviders(); } catch (e) { toast(e.message, 'error'); }
  }

  async function loadSettings() {
    try {
      const s = await api.get('/api/v1/admin/ai/settings');
      replace(behaviour, settingsForm(s));
    } catch (e) { replace(behaviour, empty('The assistant\'s settings could not be loaded', e.message)); }
  }

  function settingsForm(s) {
    const prompt = h('textarea', { rows: 5, maxlength: 4000, value: s.systemPrompt || '' });
    const count = h('span', { class: 'hint' });
    const recount = () => { count.textContent = `${prompt.value.length} / 4000`; };
    prompt.addEventListener('input', recount);
    recount();
    const welcome = h('textarea', { rows: 2, maxlength: 500, value: s.welcomeMessage || '' });
    const context = h('input', { type: 'number', min: 1, max: 50, value: s.contextMessages });
    const maxMsgs = h('input', { type: 'number', min: 1, max: 100, value: s.maxMessagesBeforeEscalation });
    const threshold = h('input', { type: 'number', min: 0, max: 1, step: 0.05, value: s.confidenceThreshold });
    const grounding = h('input', { type: 'number', min: 0, max: 1, step: 0.05, value: s.groundingThreshold ?? 0.6, id: 'ai-grounding' });
    const words = h('input', { type: 'number', min: 20, max: 1000, step: 10, value: s.maxAnswerWords ?? 150, id: 'ai-words' });
    const imagePrompt = h('textarea', { rows: 2, maxlength: 2000, value: s.imagePrompt || '', id: 'ai-image-prompt', placeholder: 'Describe what the screenshot shows, then answer from the passages.' });
    const autoOn = checkbox('Let the assistant answer and resolve new tickets on its own', s.autoResolveThreshold !== null && s.autoResolveThreshold !== undefined);
    const autoValue = h('input', { type: 'number', min: 0, max: 1, step: 0.05, value: s.autoResolveThreshold ?? 0.85, disabled: !autoOn.input.checked });
    autoOn.input.addEventListener('change', () => { autoValue.disabled = !autoOn.input.checked; });
    const promptField = h('div', { class: 'field' }, h('label', { for: prompt.id = 'ai-prompt', text: 'System prompt' }), prompt, count);
    const autoField = h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Auto-resolution' }), autoOn.wrap,
      h('div', { class: 'color-row' }, h('label', { for: autoValue.id = 'ai-auto', class: 'hint', text: 'when the draft\'s support reaches' }), autoValue));
    // A 422 names its field: the message goes under that field (wire name -> its label here).
    const shown = (name, el, control) => ({ name, error: withError(el, control) });
    const fields = {
      systemPrompt: shown('The system prompt', promptField, prompt),
      welcomeMessage: shown('The welcome message', field('Welcome message', welcome), welcome),
      contextMessages: shown('Messages of context', field('Messages of context', context, 'How many recent messages the model reads (1–50).'), context),
      maxMessagesBeforeEscalation: shown('Hand over after', field('Hand over after', maxMsgs, 'AI replies in one conversation before a person takes it (1–100).'), maxMsgs),
      groundingThreshold: shown('Grounding threshold', field('Grounding threshold', grounding, 'Answers whose words our articles support less than this are not shown as AI answers: the best article is offered, or the conversation goes to the team.'), grounding),
      confidenceThreshold: shown('Confidence threshold', field('Confidence threshold', threshold, 'When the model itself is less sure than this (0–1), the conversation goes to the team.'), threshold),
      maxAnswerWords: shown('Longest answer', field('Longest answer (words)', words, 'The assistant keeps its answers under this many words (20–1000).'), words),
      autoResolveThreshold: shown('Auto-resolution', autoField, autoValue),
      imagePrompt: shown('The image prompt', field('Image prompt', imagePrompt, 'What the assistant does with an image a visitor sends, with providers that read images. Empty: images go to the team.'), imagePrompt),
    };

    const rulesBox = h('div', { class: 'stack' });
    const rules = (s.autoReplyRules || []).map((r) => ({ ...r }));
    function paintRules() {
      if (!rules.length) { replace(rulesBox, h('p', { class: 'muted', text: 'No rules: every question goes to the model.' })); return; }
      replace(rulesBox, rules.map((r, i) => {
        const match = select([['contains', 'Contains'], ['keyword', 'Has the words'], ['exact', 'Is exactly']], r.match, { 'aria-label': `Rule ${i + 1}: how to match` });
        const pattern = h('input', { type: 'text', value: r.pattern, maxlength: 200, 'aria-label': `Rule ${i + 1}: words`, placeholder: 'opening hours' });
        const reply = h('textarea', { rows: 2, maxlength: 2000, value: r.reply, 'aria-label': `Rule ${i + 1}: reply`, placeholder: 'We are open 9 to 5, Monday to Friday.' });
        match.addEventListener('change', () => { r.match = match.value; });
        pattern.addEventListener('input', () => { r.pattern = pattern.value; });
        reply.addEventListener('input', () => { r.reply = reply.value; });
        return h('div', { class: 'rule-row' }, match, pattern, reply,
          h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Remove rule ${i + 1}`, onclick: () => { rules.splice(i, 1); paintRules(); } }, icon('trash', 15)));
      }));
    }
    paintRules();

    const save = saveButton('Save assistant settings', async () => {
      const body = {
        systemPrompt: prompt.value, welcomeMessage: welcome.value,
        contextMessages: Number(context.value), maxMessagesBeforeEscalation: Number(maxMsgs.value),
        confidenceThreshold: Number(threshold.value),
        groundingThreshold: Number(grounding.value), maxAnswerWords: Number(words.value),
        autoResolveThreshold: autoOn.input.checked ? Number(autoValue.value) : null,
        imagePrompt: imagePrompt.value.trim() || null,
        autoReplyRules: rules.filter((r) => r.pattern.trim() && r.reply.trim()),
      };
      await api.put('/api/v1/admin/ai/settings', body);
    }, fields);
    const formEl = h('form', { class: 'stack', novalidate: true },
      panel('Behaviour', 'The prompt is instructions for the model; visitor text and articles are only ever data.',
        fields.systemPrompt.error.el,
        fields.welcomeMessage.error.el,
        fields.imagePrompt.error.el,
        h('div', { class: 'form-grid' },
          fields.contextMessages.error.el,
          fields.maxMessagesBeforeEscalation.error.el,
          fields.groundingThreshold.error.el,
          fields.confidenceThreshold.error.el,
          fields.maxAnswerWords.error.el,
          fields.autoResolveThreshold.error.el)),
      panel('Auto-reply rules', 'Answered at once, before any model: good for opening hours, prices, links.',
        rulesBox,
        h('div', {}, h('button', { type: 'button', class: 'btn small', onclick: () => { rules.push({ match: 'contains', pattern: '', reply: '' }); paintRules(); rulesBox.querySelector('.rule-row:last-child input')?.focus(); } }, icon('plus', 13), 'Add rule'))),
      h('div', { class: 'form-actions' }, save.button));
    formEl.addEventListener('submit', (event) => { event.preventDefault(); save.run(); });
    return formEl;
  }

  loadProviders();
  loadSettings();
  return embeddings.stop;
}

// MARK: - Embeddings (search by meaning)

const EMBED_PATH = '/api/v1/admin/ai/embeddings';
const EMBED_KINDS = [['openai', 'OpenAI-compatible'], ['gemini', 'Google Gemini']];
const EMBED_MODELS = { openai: 'text-embedding-3-small', gemini: 'text-embedding-004' };

/**
 * The organization's embeddings provider (GET/PUT/DELETE /api/v1/admin/ai/embeddings): the model
 * that turns passages and questions into vectors, so retrieval finds passages by meaning as well as
 * by words. None (404): keyword search only. `derived`: the OpenAI chat provider's key, used with
 * text-embedding-3-small. Admins edit it, others read it. Returns {el, stop}.
 */
function embeddingsPanel() {
  const admin = can('manageSettings');
  const body = h('div', { class: 'panel-body' }, spinner());
  const index = indexStatus();
  // A configured provider is shown, its form opened with "Edit"; without one the form is open.
  const toggle = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false', hidden: true }, icon('edit', 14), 'Edit');
  const el = h('section', { class: 'panel embeddings', 'aria-labelledby': 'emb-title' },
    h('div', { class: 'panel-head' }, h('div', {},
      h('h3', { id: 'emb-title', text: 'Embeddings' }),
      h('p', { class: 'hint', text: 'Lets the assistant find passages by meaning, not only by their words: articles and questions are turned into vectors by this model.' })),
    toggle),
    body);
  let form = null;
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    if (form) form.hidden = !open;
    if (open) form?.querySelector('select, input')?.focus();
  });

  async function load() {
    let provider = null;
    try {
      provider = await api.get(EMBED_PATH);
    } catch (e) {
      if (missingRoute(e)) { replace(body, h('p', { class: 'muted', text: 'This Parley server has no embeddings settings yet.' })); return; }
      if (e.status !== 404) { replace(body, empty('The embeddings provider could not be loaded', e.message)); return; }
    }
    paint(provider);
  }

  function paint(provider) {
    form = admin ? editor(provider) : null;
    form?.setAttribute('id', 'emb-form');
    const closed = !!provider;
    if (form) form.hidden = closed;
    toggle.hidden = !form || !provider;
    toggle.setAttribute('aria-expanded', String(!closed));
    toggle.setAttribute('aria-controls', 'emb-form');
    replace(body, status(provider), provider ? index.el : null, form);
    if (provider) index.refresh();
  }

  function status(p) {
    if (!p) return h('p', { class: 'emb-status emb-none', text: 'Not configured: the assistant searches by keywords only.' });
    if (p.derived) {
      return h('p', { class: 'callout info emb-derived' }, icon('sparkle', 15),
        h('span', { text: `Using your OpenAI chat provider's key with ${p.model || EMBED_MODELS.openai}.` }));
    }
    const health = p.healthy === true ? ['ok', 'Healthy'] : p.healthy === false ? ['bad', 'Failing'] : ['', 'Not used yet'];
    const details = [p.baseUrl || 'default API root', p.queryModel && p.queryModel !== p.model ? `questions: ${p.queryModel}` : null, p.hasApiKey ? 'key stored' : 'no key'];
    return h('div', { class: 'emb-status' },
      h('div', { class: 'cell-main' },
        h('span', { class: 'cell-title' }, `${KIND_NAMES[p.kind] || p.kind} · `, h('span', { class: 'mono', text: p.model })),
        h('span', { class: 'cell-sub', text: details.filter(Boolean).join(' · ') })),
      h('div', { class: 'cell-main emb-health' }, h('span', { class: `health ${health[0]}`, text: health[1] }),
        p.lastError ? h('span', { class: 'cell-sub', title: p.lastError, text: p.lastError }) : null));
  }

  function editor(p) {
    const stored = p && !p.derived ? p : null;
    const kind = select(EMBED_KINDS, p?.kind || 'openai', { name: 'emb-kind' });
    const baseUrl = h('input', { type: 'url', name: 'emb-base-url', value: stored?.baseUrl || '', placeholder: BASE_URLS[kind.value], autocomplete: 'off', spellcheck: 'false' });
    const model = h('input', { type: 'text', name: 'emb-model', value: p?.model || '', placeholder: EMBED_MODELS[kind.value], required: true, spellcheck: 'false' });
    const queryModel = h('input', { type: 'text', name: 'emb-query-model', value: stored && stored.queryModel !== stored.model ? stored.queryModel || '' : '', placeholder: 'Empty: the same model', spellcheck: 'false' });
    const key = h('input', { type: 'password', name: 'emb-key', autocomplete: 'off', placeholder: stored?.hasApiKey ? 'Stored: leave empty to keep it' : 'Optional for local models' });
    const dropKey = stored?.hasApiKey ? checkbox('Remove the stored key', false) : null;
    dropKey?.input.addEventListener('change', () => { key.disabled = dropKey.input.checked; });
    kind.addEventListener('change', () => { baseUrl.placeholder = BASE_URLS[kind.value]; model.placeholder = EMBED_MODELS[kind.value]; });
    const shown = (name, el, control) => ({ name, error: withError(el, control) });
    const fields = {
      kind: shown('The kind', field('Kind', kind, 'OpenAI-compatible: OpenAI, Ollama, llama.cpp, vLLM, LM Studio, TEI.'), kind),
      model: shown('The model', field('Model', model), model),
      baseUrl: shown('The API root', field('API root', baseUrl, 'Empty: the provider\'s own. The server must be allowed to reach it.'), baseUrl),
      queryModel: shown('The question model', field('Model for questions', queryModel, 'For models that embed questions apart from passages (e5-query).'), queryModel),
      apiKey: shown('The API key', field('API key', key, 'Stored sealed (AES-256-GCM), never shown again.'), key),
    };
    const save = saveButton(stored ? 'Save embeddings provider' : 'Use this provider', async () => {
      if (!model.value.trim()) throw new APIError(422, 'invalid_field', 'model must not be empty.', 'model');
      const input = { kind: kind.value, model: model.value.trim() };
      if (baseUrl.value.trim()) input.baseUrl = baseUrl.value.trim();
      if (queryModel.value.trim()) input.queryModel = queryModel.value.trim();
      if (dropKey?.input.checked) input.apiKey = '';
      else if (key.value) input.apiKey = key.value;
      paint(await api.put(EMBED_PATH, input));
    }, fields);
    const remove = stored ? h('button', { type: 'button', class: 'btn danger', onclick: removeProvider }, icon('trash', 14), 'Remove') : null;
    const f = h('form', { class: 'emb-form', novalidate: true, 'aria-label': 'Embeddings provider' },
      h('div', { class: 'form-grid' }, fields.kind.error.el, fields.model.error.el, fields.baseUrl.error.el, fields.queryModel.error.el,
        h('div', { class: 'full' }, fields.apiKey.error.el, dropKey?.wrap)),
      h('div', { class: 'form-actions' }, remove, save.button));
    f.addEventListener('submit', (event) => { event.preventDefault(); save.run(); });
    return f;
  }

  async function removeProvider() {
    if (!await confirmDialog('The assistant stops searching by meaning with it, and finds passages by their words again.', { title: 'Remove the embeddings provider?', confirm: 'Remove', danger: true })) return;
    try {
      await api.del(EMBED_PATH);
      toast('Embeddings provider removed', 'success');
      load();
    } catch (e) { toast(e.message, 'error'); }
  }

  load();
  return { el, stop: index.stop };
}

/**
 * The semantic index of the knowledge base (GET /api/v1/admin/kb/index): "Semantic index: 120 of
 * 207 passages (e5-passage)" with a bar while passages are being embedded (asked again every 3 s
 * until done), or "Keyword search only" without embeddings. `refresh()` after an import or an
 * edit; `stop()` when the page goes. Returns {el, refresh, stop}.
 */
export function indexStatus() {
  const text = h('span', { class: 'kb-index-text' });
  const bar = h('i');
  const meter = h('div', { class: 'meter', role: 'progressbar', 'aria-label': 'Passages embedded', 'aria-valuemin': 0, hidden: true }, bar);
  const setUp = can('manageSettings') ? h('a', { href: '#/settings/ai', class: 'kb-index-link', text: 'Set up embeddings', hidden: true }) : null;
  const el = h('div', { class: 'kb-index', hidden: true }, icon('search', 14), text, meter, setUp);
  let timer = null;
  let stopped = false;
  let asked = 0;

  async function refresh() {
    clearTimeout(timer);
    if (stopped) return;
    const mine = ++asked;
    let x;
    try {
      x = await api.get('/api/v1/admin/kb/index');
    } catch (e) {
      if (stopped || mine !== asked) return;
      el.hidden = true; // an older server, or no right to see it: the line is left out
      if (!missingRoute(e) && e.status !== 403) timer = setTimeout(refresh, 3000);
      return;
    }
    if (stopped || mine !== asked) return;
    const passages = x.passages || 0;
    const embedded = Math.min(x.embedded || 0, passages);
    const semantic = x.mode !== 'fulltext';
    const busy = semantic && embedded < passages;
    el.hidden = false;
    el.dataset.mode = x.mode || '';
    el.dataset.complete = String(!busy);
    text.textContent = semantic
      ? `Semantic index: ${embedded} of ${passages} passage${passages === 1 ? '' : 's'}${x.model ? ` (${x.model})` : ''}`
      : 'Keyword search only';
    meter.hidden = !busy;
    meter.setAttribute('aria-valuemax', String(passages));
    meter.setAttribute('aria-valuenow', String(embedded));
    bar.style.setProperty('--pct', `${passages ? Math.round((embedded / passages) * 100) : 0}%`);
    if (setUp) setUp.hidden = semantic;
    if (busy) timer = setTimeout(refresh, 3000);
  }

  return { el, refresh, stop() { stopped = true; clearTimeout(timer); } };
}

// MARK: - Knowledge base

export function kbSection(page) {
  const admin = can('manageSettings');
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 4 }, spinner())));
  const more = h('button', { type: 'button', class: 'btn small', text: 'Load more' });
  const pager = h('div', { class: 'pager', hidden: true }, more);
  const search = h('input', { type: 'search', placeholder: 'Ask like a visitor would: how do I reset my password?', 'aria-label': 'Search the knowledge base as the AI does' });
  const hits = h('div', { class: 'hits', 'aria-live': 'polite' });
  const fileInput = h('input', { type: 'file', multiple: true, accept: '.md,.markdown,text/markdown,text/plain', class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true' });
  const index = indexStatus();
  let cursor = null;
  let articles = [];

  page.append(
    sectionHead('Knowledge base', 'The articles the assistant answers from and cites.',
      admin ? h('button', { type: 'button', class: 'btn', onclick: () => fileInput.click() }, icon('upload', 14), 'Import Markdown') : null,
      admin ? h('button', { type: 'button', class: 'btn primary', onclick: () => edit(null) }, icon('plus', 14), 'New article') : null, fileInput),
    index.el,
    panel('Search as the AI sees it', 'The same ranking the assistant uses (published articles only), best first.',
      h('div', { class: 'search' }, icon('search', 15), search), hits),
    h('div', { class: 'panel' }, h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('caption', { class: 'sr-only', text: 'Articles' }),
      h('thead', {}, h('tr', {}, ['Title', 'Tags', 'Status', ''].map((x) => h('th', { scope: 'col', text: x })))), tbody)),
    pager));

  search.addEventListener('input', debounce(async () => {
    const q = search.value.trim();
    if (!q) { hits.replaceChildren(); return; }
    try {
      const result = await api.get(`/api/v1/admin/kb/search${qs({ q, published: 'true' })}`);
      const list = result.data || [];
      replace(hits, list.length ? list.map((x, i) => h('div', { class: 'kb-hit' },
        h('div', { class: 'toolbar' }, h('span', { class: 'badge info', text: `A${i + 1}` }), h('strong', { text: x.title }),
          h('span', { class: 'muted', text: `score ${Number(x.score).toFixed(2)}` })),
        passageElement(x))) : h('p', { class: 'muted', text: 'Nothing matches: the assistant would hand this question over.' }));
    } catch (e) { replace(hits, h('p', { class: 'form-error', text: e.message })); }
  }, 250));

  async function load(append) {
    try {
      const result = await api.get(`/api/v1/admin/kb/articles${qs({ limit: 100, cursor: append ? cursor : null })}`);
      articles = append ? articles.concat(result.data || []) : result.data || [];
      cursor = result.nextCursor;
      pager.hidden = !cursor;
      if (!articles.length) { replace(tbody, h('tr', {}, h('td', { colspan: 4 }, empty('No articles yet', 'Write one, or import a folder of Markdown files.')))); return; }
      replace(tbody, articles.map((a) => h('tr', {},
        h('td', {}, h('div', { class: 'cell-main' }, h('span', { class: 'cell-title', text: a.title }),
          h('span', { class: 'cell-sub', text: a.url || `Updated ${fmt.full(a.updatedAt)}` }))),
        h('td', {}, h('div', { class: 'tags' }, (a.tags || []).map((t) => h('span', { class: 'tag', text: t })))),
        h('td', {}, a.published ? badge('Published', 'ok') : badge('Draft', 'muted')),
        h('td', {}, h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn small', onclick: () => edit(a), 'aria-label': `${admin ? 'Edit' : 'Read'} ${a.title}` }, icon(admin ? 'edit' : 'eye', 13), admin ? 'Edit' : 'Read'),
          admin ? h('button', { type: 'button', class: 'btn small danger', onclick: () => remove(a), 'aria-label': `Delete ${a.title}` }, icon('trash', 13)) : null)))));
    } catch (e) { replace(tbody, h('tr', {}, h('td', { colspan: 4 }, empty('The articles could not be loaded', e.message)))); }
  }
  more.addEventListener('click', () => load(true));

  async function edit(article, preset = {}) {
    const title = h('input', { type: 'text', value: article?.title || preset.title || '', maxlength: 300, required: true, readOnly: !admin });
    const url = h('input', { type: 'url', value: article?.url || '', placeholder: 'https://help.example.com/…', readOnly: !admin });
    const tags = h('input', { type: 'text', value: (article?.tags || []).join(', '), placeholder: 'billing, account', readOnly: !admin });
    const published = checkbox('Published: the assistant may use it', article ? article.published : true, { disabled: !admin });
    const body = h('textarea', { class: 'editor-body', rows: 14, value: article?.body || '', readOnly: !admin, 'aria-label': 'Article body (Markdown)' });
    const ok = await openDialog({
      title: article ? (admin ? 'Edit article' : article.title) : 'New article',
      wide: true,
      body: [field('Title', title), h('div', { class: 'form-grid' }, field('Link', url, 'Where visitors can read it.'), field('Tags', tags, 'Separated by commas.')),
        published.wrap, h('div', { class: 'field' }, h('label', { for: body.id = 'kb-body', text: 'Body (Markdown)' }), body)],
      actions: admin ? [{ label: 'Cancel', value: null }, { label: article ? 'Save article' : 'Create article', kind: 'primary', value: 'ok', submit: true }] : [{ label: 'Close', value: null }],
      async onSubmit() {
        if (!title.value.trim() || !body.value.trim()) throw new Error('An article needs a title and a body.');
        const input = { title: title.value.trim(), body: body.value, url: url.value.trim() || null, tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean), published: published.input.checked };
        if (article) await api.patch(`/api/v1/admin/kb/articles/${article.id}`, input);
        else await api.post('/api/v1/admin/kb/articles', input);
      },
    });
    if (ok) { toast('Article saved', 'success'); load(false); index.refresh(); }
  }

  async function remove(a) {
    if (!await confirmDialog(`“${a.title}” will no longer be used or cited by the assistant.`, { title: 'Delete this article?', confirm: 'Delete', danger: true })) return;
    try { await api.del(`/api/v1/admin/kb/articles/${a.id}`); toast('Article deleted', 'success'); load(false); index.refresh(); } catch (e) { toast(e.message, 'error'); }
  }

  fileInput.addEventListener('change', async () => {
    const files = [...fileInput.files];
    fileInput.value = '';
    if (!files.length) return;
    try {
      const payload = await Promise.all(files.map(async (f) => ({ name: f.name, markdown: await f.text() })));
      const result = await api.post('/api/v1/admin/kb/import', { files: payload });
      toast(`Imported: ${result.created || 0} new, ${result.updated || 0} updated`, 'success');
      load(false);
      index.refresh();
    } catch (e) { toast(e.message, 'error'); }
  });

  // Analytics links here with a question to write an article about (#/settings/knowledge?new=…).
  const wanted = sessionStorage.getItem('parley.newArticle');
  if (wanted && admin) { sessionStorage.removeItem('parley.newArticle'); setTimeout(() => edit(null, { title: wanted }), 50); }
  load(false);
  index.refresh();
  return index.stop;
}

const PASSAGE_SHOWN = 280; // characters of a passage shown before "more"

/**
 * A search hit's best passage (`passage`, under its `passageHeading`), long ones cut with a
 * "more" toggle; the excerpt on a server without passages. The heading repeats the article's
 * title ("Shipping — Delivery times"): only the section is shown, none for the article's start.
 * Lines the Markdown source wrapped are joined; paragraphs start on lines of their own.
 */
export function passageElement(hit) {
  const full = String(hit.passage || hit.excerpt || '').replace(/([^\n])\n(?!\n)/g, '$1 ').replace(/\n{2,}/g, '\n').trim();
  const title = String(hit.title || '');
  let section = hit.passage ? String(hit.passageHeading || '') : '';
  if (section.startsWith(`${title} — `)) section = section.slice(title.length + 3);
  const heading = section && section !== title
    ? h('p', { class: 'kb-heading', title: hit.passageHeading }, icon('file', 12), h('span', { text: section })) : null;
  if (full.length <= PASSAGE_SHOWN + 40) return [heading, h('p', { class: 'kb-excerpt', text: full })];
  const cut = full.lastIndexOf(' ', PASSAGE_SHOWN);
  const short = `${full.slice(0, cut > PASSAGE_SHOWN / 2 ? cut : PASSAGE_SHOWN).trimEnd()}…`;
  const body = h('span', { text: short });
  const toggle = h('button', { type: 'button', class: 'btn link small kb-more', 'aria-expanded': 'false', text: 'more' });
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    body.textContent = open ? full : short;
    toggle.textContent = open ? 'less' : 'more';
    toggle.setAttribute('aria-expanded', String(open));
  });
  return [heading, h('p', { class: 'kb-excerpt' }, body, ' ', toggle)];
}

// MARK: - Canned responses

export function cannedSection(page) {
  const admin = can('manageSettings');
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 4 }, spinner())));
  page.append(
    sectionHead('Canned responses', 'Type / in any reply to insert one. {{visitor.name}}, {{visitor.email}}, {{agent.name}} and {{ticket.id}} are filled in.',
      admin ? h('button', { type: 'button', class: 'btn primary', onclick: () => edit(null) }, icon('plus', 14), 'New response') : null),
    h('div', { class: 'panel' }, h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
      h('caption', { class: 'sr-only', text: 'Canned responses' }),
      h('thead', {}, h('tr', {}, ['Shortcut', 'Response', 'Uses', ''].map((x) => h('th', { scope: 'col', text: x })))), tbody))));

  async function load() {
    try {
      const list = (await api.get('/api/v1/admin/canned-responses')).data || [];
      if (!list.length) { replace(tbody, h('tr', {}, h('td', { colspan: 4 }, empty('No canned responses', 'Save the answers you write again and again.')))); return; }
      replace(tbody, list.map((c) => h('tr', {},
        h('td', {}, h('span', { class: 'canned-shortcut', text: `/${c.shortcut.replace(/^\//, '')}` })),
        h('td', {}, h('div', { class: 'cell-main' }, h('span', { class: 'cell-title', text: c.title }), h('span', { class: 'cell-sub', text: c.body }))),
        h('td', { class: 'num', text: String(c.usageCount || 0) }),
        h('td', {}, admin ? h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn small', onclick: () => edit(c), 'aria-label': `Edit /${c.shortcut}` }, icon('edit', 13), 'Edit'),
          h('button', { type: 'button', class: 'btn small danger', onclick: () => remove(c), 'aria-label': `Delete /${c.shortcut}` }, icon('trash', 13))) : null))));
    } catch (e) { replace(tbody, h('tr', {}, h('td', { colspan: 4 }, empty('The canned responses could not be loaded', e.message)))); }
  }

  async function edit(c) {
    const shortcut = h('input', { type: 'text', value: c ? c.shortcut.replace(/^\//, '') : '', placeholder: 'refund', pattern: '[a-z0-9_-]{1,40}', required: true, class: 'mono' });
    const title = h('input', { type: 'text', value: c?.title || '', maxlength: 120, required: true });
    const body = h('textarea', { rows: 6, maxlength: 10000, value: c?.body || '', placeholder: 'Hi {{visitor.name}}, …' });
    const ok = await openDialog({
      title: c ? `Edit /${c.shortcut}` : 'New canned response',
      body: [h('div', { class: 'form-grid' }, field('Shortcut', shortcut, 'Lowercase letters, digits, - and _.'), field('Title', title)), field('Text', body, 'Placeholders: {{visitor.name}} {{visitor.email}} {{agent.name}} {{ticket.id}}')],
      actions: [{ label: 'Cancel', value: null }, { label: 'Save', kind: 'primary', value: 'ok', submit: true }],
      async onSubmit() {
        const input = { shortcut: shortcut.value.trim().replace(/^\//, '').toLowerCase(), title: title.value.trim(), body: body.value };
        if (!/^[a-z0-9_-]{1,40}$/.test(input.shortcut)) throw new Error('The shortcut may only have lowercase letters, digits, - and _.');
        if (!input.title || !input.body.trim()) throw new Error('A title and a text are needed.');
        if (c) await api.patch(`/api/v1/admin/canned-responses/${c.id}`, input);
        else await api.post('/api/v1/admin/canned-responses', input);
      },
    });
    if (ok) { toast('Canned response saved', 'success'); load(); }
  }

  async function remove(c) {
    if (!await confirmDialog(`/${c.shortcut} will no longer be offered.`, { title: 'Delete this canned response?', confirm: 'Delete', danger: true })) return;
    try { await api.del(`/api/v1/admin/canned-responses/${c.id}`); toast('Deleted', 'success'); load(); } catch (e) { toast(e.message, 'error'); }
  }

  load();
}

// MARK: - SLA policies and business hours

const PRIORITIES = ['urgent', 'high', 'medium', 'low'];
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const DEFAULT_POLICY = { urgent: [30, 240], high: [60, 480], medium: [240, 1440], low: [480, 4320] };

export function slaSection(page) {
  const slaBox = h('div', {}, spinner());
  const hoursBox = h('div', {}, spinner());
  page.append(sectionHead('SLA & business hours', 'Targets per priority; clocks counted in business hours pause outside them.'), slaBox, hoursBox);

  async function loadSLA() {
    try {
      const s = await api.get('/api/v1/admin/sla-policies');
      const byPriority = Object.fromEntries((s.policies || []).map((p) => [p.priority, p]));
      const rows = PRIORITIES.map((priority) => {
        const p = byPriority[priority];
        const on = checkbox(fmt.label(priority), !!p, { 'aria-label': `${fmt.label(priority)}: has an SLA` });
        const first = h('input', { type: 'number', class: 'minutes', min: 1, value: p?.firstResponseMinutes ?? DEFAULT_POLICY[priority][0], 'aria-label': `${priority}: first response in minutes` });
        const resolution = h('input', { type: 'number', class: 'minutes', min: 1, value: p?.resolutionMinutes ?? DEFAULT_POLICY[priority][1], 'aria-label': `${priority}: resolution in minutes` });
        const hoursOnly = checkbox('Business hours', p ? p.businessHoursOnly : priority !== 'urgent', { 'aria-label': `${priority}: count in business hours only` });
        const sync = () => { first.disabled = resolution.disabled = hoursOnly.input.disabled = !on.input.checked; };
        on.input.addEventListener('change', sync);
        sync();
        const human = (input) => { const x = h('span', { class: 'hint', text: fmt.minutes(Number(input.value)) }); input.addEventListener('input', () => { x.textContent = fmt.minutes(Number(input.value)); }); return x; };
        return { priority, on, first, resolution, hoursOnly, tr: h('tr', {}, h('td', {}, on.wrap), h('td', {}, h('div', { class: 'color-row' }, first, human(first))), h('td', {}, h('div', { class: 'color-row' }, resolution, human(resolution))), h('td', {}, hoursOnly.wrap)) };
      });
      const save = saveButton('Save SLA policies', async () => {
        const policies = rows.filter((r) => r.on.input.checked).map((r) => ({
          priority: r.priority, firstResponseMinutes: Number(r.first.value), resolutionMinutes: Number(r.resolution.value), businessHoursOnly: r.hoursOnly.input.checked,
        }));
        if (policies.some((p) => !(p.firstResponseMinutes >= 1 && p.resolutionMinutes >= 1))) throw new Error('Targets are whole minutes, at least 1.');
        await api.put('/api/v1/admin/sla-policies', { policies });
      });
      const f = h('form', { class: 'panel', novalidate: true },
        h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: 'SLA policies' }), h('p', { class: 'hint', text: 'A priority left unticked has no SLA. Deadlines follow a ticket\'s priority.' }))),
        h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, h('caption', { class: 'sr-only', text: 'SLA targets per priority' }),
          h('thead', {}, h('tr', {}, ['Priority', 'First response (min)', 'Resolution (min)', 'Counted in'].map((x) => h('th', { scope: 'col', text: x })))),
          h('tbody', {}, rows.map((r) => r.tr)))),
        h('div', { class: 'panel-body' }, h('div', { class: 'form-actions' }, save.button)));
      f.addEventListener('submit', (event) => { event.preventDefault(); save.run(); });
      replace(slaBox, f);
    } catch (e) { replace(slaBox, empty('The SLA policies could not be loaded', e.message)); }
  }

  async function loadHours() {
    try {
      const b = await api.get('/api/v1/admin/settings/business-hours');
      const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
      const zone = h('input', { type: 'text', value: b.timeZone || 'UTC', list: 'tz-list', autocomplete: 'off' });
      const list = h('datalist', { id: 'tz-list' }, zones.map((z) => h('option', { value: z })));
      const weekly = b.weeklyHours || {};
      const always = checkbox('Always open (no business hours)', Object.keys(weekly).length === 0);
      const days = DAYS.map((day) => {
        const first = (weekly[day] || [])[0];
        const open = checkbox(fmt.label(day), !!first, { 'aria-label': `Open on ${day}` });
        const start = h('input', { type: 'time', value: first?.start || '09:00', 'aria-label': `${day} opens at` });
        const end = h('input', { type: 'time', value: first?.end || '17:00', 'aria-label': `${day} closes at` });
        const extra = (weekly[day] || []).slice(1);
        const sync = () => { start.disabled = end.disabled = !open.input.checked || always.input.checked; open.input.disabled = always.input.checked; };
        open.input.addEventListener('change', sync);
        return { day, open, start, end, extra, sync, row: h('div', { class: 'hours-row' }, open.wrap, h('div', { class: 'times' }, start, h('span', { class: 'muted', text: 'to' }), end,
          extra.length ? h('span', { class: 'hint', text: `+ ${extra.length} more interval${extra.length > 1 ? 's' : ''} kept` }) : null)) };
      });
      always.input.addEventListener('change', () => days.forEach((d) => d.sync()));
      days.forEach((d) => d.sync());
      let holidays = [...(b.holidays || [])].sort();
      const holidayList = h('div', { class: 'chips' });
      const holidayInput = h('input', { type: 'date', 'aria-label': 'Add a holiday' });
      function paintHolidays() {
        replace(holidayList, holidays.length ? holidays.map((d) => h('span', { class: 'tag' }, h('span', { text: d }),
          h('button', { type: 'button', 'aria-label': `Remove holiday ${d}`, onclick: () => { holidays = holidays.filter((x) => x !== d); paintHolidays(); } }, icon('close', 11))))
          : h('span', { class: 'muted', text: 'No holidays.' }));
      }
      paintHolidays();
      const save = saveButton('Save business hours', async () => {
        const weeklyHours = {};
        if (!always.input.checked) {
          for (const d of days) {
            if (!d.open.input.checked) continue;
            if (!d.start.value || !d.end.value || d.start.value >= d.end.value) throw new Error(`${fmt.label(d.day)}: the closing time must be after the opening time.`);
            weeklyHours[d.day] = [{ start: d.start.value, end: d.end.value }, ...d.extra];
          }
        }
        await api.put('/api/v1/admin/settings/business-hours', { timeZone: zone.value.trim() || 'UTC', weeklyHours, holidays });
      });
      const f = h('form', { class: 'panel', novalidate: true },
        h('div', { class: 'panel-head' }, h('div', {}, h('h3', { text: 'Business hours' }), h('p', { class: 'hint', text: 'Outside them the widget offers a form, and handoffs say when the team is back.' }))),
        h('div', { class: 'panel-body' },
          h('div', { class: 'form-grid' }, field('Time zone', zone, 'An IANA name, e.g. Europe/Paris.'), h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Schedule' }), always.wrap)), list,
          h('div', { class: 'stack tight' }, days.map((d) => d.row)),
          h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Holidays (closed all day)' }), holidayList,
            h('div', { class: 'color-row' }, holidayInput, h('button', { type: 'button', class: 'btn small', text: 'Add holiday', onclick: () => { if (holidayInput.value && !holidays.includes(holidayInput.value)) { holidays.push(holidayInput.value); holidays.sort(); paintHolidays(); } holidayInput.value = ''; } }))),
          h('div', { class: 'form-actions' }, save.button)));
      f.addEventListener('submit', (event) => { event.preventDefault(); save.run(); });
      replace(hoursBox, f);
    } catch (e) { replace(hoursBox, empty('The business hours could not be loaded', e.message)); }
  }

  loadSLA();
  loadHours();
}
