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
