// Progressive enhancement only: every page works without this file.

// Calls to the API say the page's language: the API answers in the caller's Accept-Language,
// which in a browser set to another language would not be the language of the page.
const pageLang = document.documentElement.lang || 'zh-CN';
const api = (url, init = {}) => fetch(url, { ...init, headers: { 'accept-language': pageLang, ...(init.headers || {}) } });

// The phone menu: the navigation folds away behind a button on narrow screens.
for (const button of document.querySelectorAll('[data-menu-toggle]')) {
  const nav = document.getElementById(button.getAttribute('aria-controls'));
  if (!nav) continue;
  nav.classList.add('collapsible');
  button.addEventListener('click', () => {
    const open = nav.classList.toggle('open');
    button.setAttribute('aria-expanded', String(open));
  });
}

// Selects that apply on change (the role switcher); their submit button stays for no-JS use.
for (const select of document.querySelectorAll('select[data-autosubmit]')) {
  select.addEventListener('change', () => select.form.requestSubmit());
}

// Forms that ask before a destructive action.
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

// Live progress of a background job: poll its JSON, move the bar, show rows/s and time left,
// and reload the page when the job has finished so its outcome is drawn by the server.
for (const box of document.querySelectorAll('[data-progress-url]')) {
  const bar = box.querySelector('[data-progress-bar]');
  const text = box.querySelector('[data-progress-text]');
  const phase = box.querySelector('[data-progress-phase]');
  const tick = async () => {
    let job;
    try {
      const response = await api(box.dataset.progressUrl, { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(String(response.status));
      job = await response.json();
    } catch {
      setTimeout(tick, 3000);
      return;
    }
    if (['done', 'failed', 'cancelled'].includes(job.status)) {
      window.location.reload();
      return;
    }
    const { done, total, rows_per_second: rate, eta_seconds: eta } = job.progress;
    if (total > 0) {
      bar.max = total;
      bar.value = done;
    }
    if (phase) phase.textContent = job.phase === 'applying' ? text.dataset.labelApplying : text.dataset.labelValidating;
    if (job.phase === 'applying' && total > 0) {
      const parts = [`${done.toLocaleString()} / ${total.toLocaleString()}`];
      if (rate > 0) parts.push(`${Math.round(rate).toLocaleString()} ${text.dataset.labelRate}`);
      if (eta != null) parts.push(`${text.dataset.labelEta} ${eta < 90 ? `${eta} s` : `${Math.round(eta / 60)} min`}`);
      text.textContent = parts.join(' · ');
    } else if (total > 0) {
      text.textContent = `${Math.floor((done * 100) / total)}%`;
    }
    setTimeout(tick, 1000);
  };
  tick();
}

// Print buttons (activation slips).
for (const button of document.querySelectorAll('[data-print]')) {
  button.addEventListener('click', () => window.print());
}

// Chunked, resumable upload of a resource file. The form works without this (one plain post);
// with it, the file goes up in chunks with a progress bar, each chunk's SHA-256 checked by the
// server, and a dropped connection or a reload carries on from the chunks already received.
const errorText = async (response) => {
  try {
    const body = await response.json();
    const details = (body.details || []).map((d) => d.message).join(' ');
    return details || body.message;
  } catch {
    return String(response.status);
  }
};

const sha256Hex = async (blob) => {
  if (!window.crypto?.subtle) return null; // only on https or localhost; the server then skips the check
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
};

const json = { 'content-type': 'application/json', accept: 'application/json' };

async function sendFile(file, onProgress) {
  const key = `hanlin-upload:${file.name}:${file.size}:${file.lastModified}`;
  let upload = null;
  const known = localStorage.getItem(key);
  if (known) {
    const response = await api(`/api/v1/uploads/${known}`, { headers: { accept: 'application/json' } });
    if (response.ok) upload = await response.json();
  }
  if (!upload) {
    const response = await api('/api/v1/uploads', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ file_name: file.name, size: file.size }),
    });
    if (!response.ok) throw new Error(await errorText(response));
    upload = await response.json();
    localStorage.setItem(key, String(upload.id));
  }
  if (upload.status !== 'complete') {
    const received = new Set(upload.received);
    const pending = [];
    for (let i = 0; i < upload.chunks; i++) if (!received.has(i)) pending.push(i);
    let done = received.size;
    onProgress(done / upload.chunks);
    const sendChunk = async (idx) => {
      const blob = file.slice(idx * upload.chunk_size, Math.min(file.size, (idx + 1) * upload.chunk_size));
      const hash = await sha256Hex(blob);
      for (let attempt = 1; ; attempt++) {
        let response;
        try {
          response = await api(`/api/v1/uploads/${upload.id}/chunks/${idx}`, {
            method: 'PUT',
            headers: hash ? { 'x-chunk-sha256': hash } : {},
            body: blob,
          });
        } catch (networkError) {
          if (attempt >= 8) throw networkError;
          await new Promise((r) => setTimeout(r, Math.min(30000, 500 * 2 ** attempt)));
          continue;
        }
        if (response.ok) break;
        // A damaged chunk is asked for again; anything else (refused type, quota) stops the upload.
        const message = await errorText(response);
        if (response.status === 422 && attempt < 3 && /sha|校验|hash/i.test(message)) continue;
        throw new Error(message);
      }
      done += 1;
      onProgress(done / upload.chunks);
    };
    const workers = [0, 1].map(async () => {
      while (pending.length) await sendChunk(pending.shift());
    });
    await Promise.all(workers);
  }
  const response = await api(`/api/v1/uploads/${upload.id}/complete`, { method: 'POST', headers: json, body: '{}' });
  if (!response.ok) throw new Error(await errorText(response));
  localStorage.removeItem(key);
  return upload.id;
}

for (const form of document.querySelectorAll('form[data-chunked-upload]')) {
  const input = form.querySelector('input[type=file]');
  const bar = form.querySelector('[data-upload-progress]');
  const status = form.querySelector('[data-upload-status]');
  form.addEventListener('submit', async (event) => {
    if (!input.files.length || !window.fetch) return;
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    bar.hidden = false;
    try {
      const id = await sendFile(input.files[0], (fraction) => {
        bar.value = Math.round(fraction * 100);
        status.textContent = `${Math.floor(fraction * 100)}%`;
      });
      status.textContent = status.dataset.labelDone;
      const hidden = document.createElement('input');
      hidden.type = 'hidden';
      hidden.name = 'upload_id';
      hidden.value = String(id);
      form.append(hidden);
      input.disabled = true;
      form.enctype = 'application/x-www-form-urlencoded';
      form.action = form.dataset.completeAction;
      form.submit();
    } catch (error) {
      status.textContent = error.message;
      status.classList.add('field-error');
      button.disabled = false;
    }
  });
}

// The chapter list follows the chosen stage, subject and grade; a chapter is suggested from the title.
for (const select of document.querySelectorAll('select[data-chapter-select]')) {
  const form = select.form;
  const value = (name) => form.elements[name]?.value || '';
  const hint = form.querySelector('[data-chapter-suggestion]');
  const reload = async () => {
    const params = new URLSearchParams({ stage: value('stage'), subject: value('subject'), grade: value('grade') });
    if (!value('stage') || !value('subject')) return;
    const response = await api(`/api/v1/catalogue/chapters?${params}`, { headers: { accept: 'application/json' } });
    if (!response.ok) return;
    const { chapters } = await response.json();
    const chosen = select.value;
    select.replaceChildren(new Option('', ''));
    for (const c of chapters) select.append(new Option(`${'　'.repeat(Math.max(0, c.depth - 2))}${c.title}`, String(c.id), false, String(c.id) === chosen));
    suggest();
  };
  const suggest = async () => {
    if (!value('title') || !value('stage') || !value('subject') || select.value) return;
    const params = new URLSearchParams({ title: value('title'), stage: value('stage'), subject: value('subject'), grade: value('grade') });
    const response = await api(`/api/v1/catalogue/suggest?${params}`, { headers: { accept: 'application/json' } });
    if (!response.ok) return;
    const { suggestions } = await response.json();
    hint.replaceChildren();
    if (!suggestions.length) return;
    const best = suggestions[0];
    const use = document.createElement('button');
    use.type = 'button';
    use.className = 'link';
    use.textContent = `${hint.dataset.label} ${best.title}`;
    use.addEventListener('click', () => {
      select.value = String(best.id);
      hint.replaceChildren();
    });
    hint.append(use);
  };
  for (const name of ['stage', 'subject', 'grade']) form.elements[name]?.addEventListener('change', reload);
  form.elements.title?.addEventListener('change', suggest);
}

// ---- Timetable grid editor (classroom::timetable) ----
// The grid is a plain form that works without this. With it: choosing a subject fills in the
// teacher who teaches that subject in this class (when no teacher is chosen yet), edited cells are
// marked, and leaving the page with unsaved changes asks first.
for (const form of document.querySelectorAll('form[data-tt-grid]')) {
  let dirty = false;
  const mark = (cell) => {
    cell.classList.add('tt-dirty');
    dirty = true;
  };
  for (const cell of form.querySelectorAll('td[data-cell]')) {
    const subject = cell.querySelector('select[data-tt-subject]');
    const teacher = cell.querySelector('select[data-tt-teacher]');
    subject?.addEventListener('change', () => {
      if (teacher && teacher.value === '0' && subject.value) {
        const match = [...teacher.options].find((o) => o.dataset.subject === subject.value);
        if (match) teacher.value = match.value;
      }
      mark(cell);
    });
    for (const input of cell.querySelectorAll('select[data-tt-teacher], input')) input.addEventListener('change', () => mark(cell));
  }
  form.addEventListener('submit', () => { dirty = false; });
  window.addEventListener('beforeunload', (event) => {
    if (dirty && form.dataset.ttLeave) {
      event.preventDefault();
      event.returnValue = form.dataset.ttLeave;
    }
  });
}
// ---- end of the timetable grid editor ----

// ---- Live messaging (messaging::live) ----
// One WebSocket per signed-in page whose navigation has messages or notices. It keeps the unread
// counts in the navigation current, appends new messages to an open conversation (and marks them
// read), updates the conversation list, and moves a notice's receipt counts as people read it.
// On reconnect it asks for what came after the last message it has, and drops ids it already shows.
(() => {
  const navLinks = document.querySelectorAll('nav a[href="/messages"], nav a[href="/notices"]');
  if (!navLinks.length || !('WebSocket' in window)) return;
  const chat = document.querySelector('[data-chat]');
  const chatId = chat ? Number(chat.dataset.chat) : null;
  const meHolder = document.querySelector('[data-me]');
  const me = meHolder ? Number(meHolder.dataset.me) : null;
  const list = chat && chat.querySelector('.messages');
  const receipts = document.querySelector('[data-notice-receipts]');
  const csrf = document.querySelector('input[name="_csrf"]')?.value || '';
  const seen = new Set();
  for (const li of document.querySelectorAll('.messages > li[data-id]')) seen.add(Number(li.dataset.id));
  let last = chat ? Number(chat.dataset.last) || null : null;
  let counts = { messages: 0, notices: 0 };
  let retry = 1000;
  let stopped = false;
  // An open conversation starts at its newest message, unless the address names another.
  if (list && !window.location.hash) window.addEventListener('load', () => window.scrollTo(0, document.body.scrollHeight));

  const badge = (href, n) => {
    const link = document.querySelector(`nav a[href="${href}"]`);
    if (!link) return;
    let b = link.querySelector('.count');
    if (!b) {
      b = document.createElement('span');
      b.className = 'count';
      b.dataset.testid = `unread-${href.slice(1)}`;
      link.append(' ', b);
    }
    b.textContent = String(n);
    b.hidden = n <= 0;
    const toggle = document.querySelector('[data-menu-toggle]');
    if (toggle) toggle.classList.toggle('has-unread', counts.messages + counts.notices > 0);
  };
  const showCounts = () => { badge('/messages', counts.messages); badge('/notices', counts.notices); };

  const time = (unix) => {
    const d = new Date(unix * 1000);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  };
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };

  // The same markup as the server's conversation page draws.
  const render = (m) => {
    const li = el('li', m.sender_id === me ? 'msg mine' : 'msg');
    li.id = `m${m.id}`;
    li.dataset.id = m.id;
    li.dataset.state = m.state;
    const head = el('p', 'msg-head');
    head.append(el('strong', null, m.sender_name), ' ', el('small', 'muted', time(m.created_at)));
    li.append(head);
    if (m.reply) {
      const q = el('blockquote', 'quote');
      const a = el('a', null, m.reply.sender_name);
      a.href = `#m${m.reply.id}`;
      q.append(a, `：${m.reply.excerpt || chat.dataset.tRecalled}`);
      li.append(q);
    }
    if (m.state !== 'sent') {
      li.append(el('p', 'muted msg-body', m.state === 'removed' ? chat.dataset.tRemoved : chat.dataset.tRecalled));
      return li;
    }
    if (m.body) li.append(el('p', 'prewrap msg-body', m.body));
    if (m.files.length) {
      const ul = el('ul', 'attachments');
      for (const f of m.files) {
        const item = el('li');
        const a = el('a', null, f.image ? null : f.name);
        a.href = f.url;
        if (f.image) {
          const img = el('img');
          img.src = f.url;
          img.alt = f.name;
          a.append(img);
        }
        item.append(a);
        ul.append(item);
      }
      li.append(ul);
    }
    const actions = el('div', 'msg-actions');
    const reply = el('a', null, chat.dataset.tReply);
    reply.href = `/messages/${chatId}?reply=${m.id}#compose`;
    actions.append(reply);
    li.append(actions);
    return li;
  };

  const markRead = (id) => api(`/api/v1/conversations/${chatId}/read`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message_id: id }),
  }).then((r) => (r.ok ? r.json() : null)).then((j) => { if (j) { counts.messages = j.unread_messages; showCounts(); } }).catch(() => {});

  const onMessage = (m) => {
    last = Math.max(last || 0, m.id);
    if (seen.has(m.id)) return;
    seen.add(m.id);
    if (chat && m.conversation_id === chatId) {
      document.querySelector('[data-empty]')?.remove();
      list.append(render(m));
      list.lastElementChild.scrollIntoView({ block: 'nearest' });
      if (m.sender_id !== me) markRead(m.id);
      return;
    }
    if (m.sender_id === me) return;
    counts.messages += 1;
    showCounts();
    const row = document.querySelector(`[data-conversation="${m.conversation_id}"]`);
    if (row) {
      const u = row.querySelector('.unread');
      u.textContent = String(Number(u.textContent || 0) + 1);
      u.hidden = false;
      if (m.mentions.includes(me)) row.querySelector('.mentioned').hidden = false;
      row.parentElement.prepend(row);
    }
  };

  const onChanged = (m) => {
    const old = document.getElementById(`m${m.id}`);
    if (old && chat) old.replaceWith(render(m));
  };

  const onReceipts = (summary) => {
    const set = (id, n) => { const e = receipts.querySelector(`[data-testid="${id}"]`); if (e) e.textContent = String(n); };
    set('receipts-recipients', summary.recipients);
    set('receipts-read', summary.read);
    set('receipts-confirmed', summary.confirmed);
    const done = receipts.dataset.needsConfirm === 'true' ? summary.confirmed : summary.read;
    const bar = receipts.querySelector('[data-bar]');
    if (bar && summary.recipients) bar.setAttribute('width', String(Math.floor((done * 100) / summary.recipients)));
  };

  const handle = (f) => {
    switch (f.type) {
      case 'hello':
        if (last == null) last = f.last_id;
        counts = { messages: f.unread_messages, notices: f.unread_notices };
        showCounts();
        break;
      case 'message': onMessage(f.message); break;
      case 'changed': onChanged(f.message); break;
      case 'notice':
        if (!f.reminder) { counts.notices += 1; showCounts(); }
        break;
      case 'notice_read':
        if (receipts && Number(receipts.dataset.noticeReceipts) === f.notice_id) onReceipts(f.summary);
        break;
      case 'signed_out':
        // The session has ended: stop, rather than knock again and again.
        stopped = true;
        break;
      case 'resync':
        // Too much was missed to replay: an open conversation is drawn afresh.
        if (chat) window.location.reload();
        break;
      default: break;
    }
  };

  const connect = () => {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${window.location.host}/api/v1/live${last != null ? `?after=${last}` : ''}`);
    ws.addEventListener('open', () => { retry = 1000; document.documentElement.classList.remove('live-lost'); });
    ws.addEventListener('message', (event) => { try { handle(JSON.parse(event.data)); } catch (_) { /* a frame we do not know */ } });
    ws.addEventListener('close', () => {
      if (stopped) return;
      document.documentElement.classList.add('live-lost');
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  };
  connect();

  // Sending without leaving the page: the form posts to the API; the message comes back in the
  // answer (and over the socket, where its id is already known). Errors show above the form.
  const form = chat && chat.querySelector('form.compose');
  if (form) {
    const text = form.querySelector('textarea');
    text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      form.querySelector('.alert')?.remove();
      try {
        const r = await api(`/api/v1/conversations/${chatId}/messages`, {
          method: 'POST', body: new FormData(form), headers: { 'X-CSRF-Token': csrf },
        });
        const j = await r.json();
        if (r.ok) {
          onMessage(j.message);
          form.reset();
          form.querySelector('input[name="reply_to"]')?.remove();
          form.querySelector('[data-testid="replying"]')?.remove();
        } else {
          const box = el('div', 'alert');
          box.setAttribute('role', 'alert');
          box.dataset.testid = 'form-errors';
          box.textContent = [j.message, ...(j.details || []).map((d) => d.message)].join(' ');
          form.prepend(box);
        }
      } catch (_) {
        form.submit();
      } finally {
        button.disabled = false;
        text.focus();
      }
    });
  }
})();
// ---- end of live messaging ----
