// Progressive enhancement only: every page works without this file.

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
      const response = await fetch(box.dataset.progressUrl, { headers: { accept: 'application/json' } });
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
