// The web chat page: one WebSocket to the server, messages as bubbles, the conversation's
// buttons as real <button>s. Everything anyone typed is inserted as text (textContent), never
// as HTML. The server decides every question; this script only shows them and sends answers.
'use strict';

(() => {
  const app = document.getElementById('app');
  const log = document.getElementById('log');
  const statusLine = document.getElementById('status');
  const form = document.getElementById('composer');
  const input = document.getElementById('message');
  const attach = document.getElementById('attach');
  const photo = document.getElementById('photo');
  const languageButton = document.getElementById('language');
  const CHROME = JSON.parse(document.getElementById('chrome').textContent);
  const maxPhoto = Number(app.dataset.maxPhoto);
  const shown = new Set();
  let language = app.dataset.lang;
  let office = app.dataset.office || null;
  const entryOffice = office;
  let socket = null;
  let retries = 0;
  let blocked = false;  // the browser does not send our cookie here: reconnecting cannot help
  let focusNext = false;

  const t = (key) => (CHROME[language] || CHROME.ru)[key] || key;

  function setStatus(text, isError) {
    statusLine.textContent = text || '';
    statusLine.classList.toggle('error', Boolean(isError));
  }

  // The page's own texts follow the language the conversation talks in.
  function applyLanguage(next) {
    if (!next || next === language || !CHROME[next]) return;
    language = next;
    document.documentElement.lang = next;
    document.title = t('title');
    document.getElementById('heading').textContent = t('heading');
    document.getElementById('message-label').textContent = t('input_label');
    document.getElementById('attach-label').textContent = t('attach');
    attach.title = t('attach');
    languageButton.textContent = t('language');
    input.placeholder = t('placeholder');
    document.getElementById('send').textContent = t('send');
    log.setAttribute('aria-label', t('log_label'));
  }

  // A new question retires the buttons of earlier messages, except those that mean the same
  // on any message: the language offered with the welcome (L) and the receipt's status (q).
  const LASTING = new Set(['L', 'q']);

  function retireButtons() {
    for (const button of log.querySelectorAll('.buttons button:not(.lasting)')) button.remove();
    for (const row of log.querySelectorAll('.buttons .row:empty')) row.remove();
    for (const group of log.querySelectorAll('.buttons:empty')) group.remove();
  }

  // A reference number (PK-XXXXXXXX) is one unbreakable piece: it never wraps at its hyphen.
  function fillText(element, value) {
    const pattern = /PK-[0-9A-Z]{8}/g;
    let last = 0;
    for (const match of value.matchAll(pattern)) {
      element.append(document.createTextNode(value.slice(last, match.index)));
      const ref = document.createElement('span');
      ref.className = 'ref';
      ref.textContent = match[0];
      element.append(ref);
      last = match.index + match[0].length;
    }
    element.append(document.createTextNode(value.slice(last)));
  }

  function buttonsOf(rows) {
    const group = document.createElement('div');
    group.className = 'buttons';
    for (const row of rows) {
      const line = document.createElement('div');
      line.className = 'row';
      for (const spec of row) {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = spec.label;
        if (LASTING.has(String(spec.data).split('|')[1])) button.classList.add('lasting');
        button.addEventListener('click', () => press(spec.data, group));
        line.append(button);
      }
      group.append(line);
    }
    return group;
  }

  function render(message) {
    if (shown.has(message.id)) return null;
    shown.add(message.id);
    const bubble = document.createElement('div');
    bubble.className = `msg ${message.from}`;
    bubble.dataset.id = message.id;
    const author = document.createElement('span');
    author.className = message.from === 'staff' ? 'author' : 'sr-only';
    author.textContent = t({ citizen: 'you', bot: 'bot', staff: 'staff' }[message.from] || 'bot') + ' ';
    const text = document.createElement('p');
    text.className = 'text';
    fillText(text, message.text);
    bubble.append(author, text);
    if (message.from === 'bot') {
      retireButtons();
      if (message.buttons.length) bubble.append(buttonsOf(message.buttons));
    }
    log.append(bubble);
    return bubble;
  }

  // After a press the pressed button is gone: keep keyboard users where the next answer is.
  function moveFocus(message, bubble) {
    if (!focusNext || !bubble || message.from !== 'bot') return;
    focusNext = false;
    const first = bubble.querySelector('.buttons button');
    (message.expects_text || !first ? input : first).focus();
  }

  function showMessages(messages) {
    for (const message of messages) moveFocus(message, render(message));
    log.scrollTop = log.scrollHeight;
  }

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      setStatus(t('reconnecting'), true);
      return false;
    }
    socket.send(JSON.stringify(frame));
    return true;
  }

  function press(data, group) {
    if (!send({ type: 'press', data })) return;
    for (const button of group.querySelectorAll('button:not(.lasting)')) button.disabled = true;
    focusNext = true;
  }

  function onFrame(frame) {
    if (frame.type === 'history') {
      // Messages that arrived while the history was on its way are newer: keep them after it.
      const newest = frame.messages.length ? frame.messages[frame.messages.length - 1].id : 0;
      const later = [...log.children].filter((bubble) => Number(bubble.dataset.id) > newest);
      log.replaceChildren();
      shown.clear();
      applyLanguage(frame.lang);
      showMessages(frame.messages);
      for (const bubble of later) {
        shown.add(Number(bubble.dataset.id));
        log.append(bubble);
      }
      const groups = [...log.querySelectorAll('.buttons')];
      for (const group of groups.slice(0, -1)) group.remove();  // only the latest question's
      setStatus('');
    } else if (frame.type === 'messages') {
      if (frame.reset) {
        log.replaceChildren();
        shown.clear();
      }
      applyLanguage(frame.lang);
      showMessages(frame.messages);
      setStatus(frame.notice || '');
    } else if (frame.type === 'blocked') {
      blocked = true;
      showBlocked();
    } else if (frame.type === 'error') {
      setStatus(frame.text, true);
      for (const button of log.querySelectorAll('.buttons button')) button.disabled = false;
    }
  }

  // Offer the same chat as a page of its own, where the cookie is a first-party one.
  function showBlocked() {
    const target = new URL(location.href);
    target.searchParams.delete('embed');
    if (entryOffice) target.searchParams.set('office', entryOffice);
    const link = document.createElement('a');
    link.href = target.href;
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = t('open_in_tab');
    setStatus(t('cookie_blocked') + ' ', true);
    statusLine.append(link);
  }

  function connect() {
    const url = new URL(app.dataset.socket, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(url);
    socket.addEventListener('open', () => {
      retries = 0;
      send({ type: 'open', office, lang: language });
      // The QR code's office is used once: a reload continues instead of starting again.
      if (office) {
        office = null;
        const clean = new URL(location.href);
        clean.searchParams.delete('office');
        history.replaceState(null, '', clean);
      }
    });
    socket.addEventListener('message', (event) => {
      try {
        onFrame(JSON.parse(event.data));
      } catch (error) {
        setStatus(t('reconnecting'), true);
      }
    });
    socket.addEventListener('close', () => {
      if (blocked) return;
      setStatus(t('reconnecting'), true);
      const delay = Math.min(15000, 500 * 2 ** retries);
      retries += 1;
      setTimeout(connect, delay);
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (send({ type: 'text', text })) {
      input.value = '';
      focusNext = false;
    }
  });

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  languageButton.addEventListener('click', () => {
    if (send({ type: 'text', text: '/language' })) focusNext = true;
  });

  attach.addEventListener('click', () => photo.click());

  photo.addEventListener('change', async () => {
    const file = photo.files[0];
    photo.value = '';
    if (!file) return;
    if (file.size > maxPhoto) {
      setStatus(t('photo_too_big'), true);
      return;
    }
    const body = new FormData();
    body.append('photo', file);
    setStatus(t('uploading'));
    try {
      const response = await fetch(app.dataset.upload, {
        method: 'POST', body, credentials: 'same-origin',
      });
      if (response.ok) {
        setStatus('');
        focusNext = true;
      } else {
        const answer = await response.json().catch(() => ({}));
        setStatus(answer.error || t('upload_failed'), true);
      }
    } catch (error) {
      setStatus(t('upload_failed'), true);
    }
  });

  connect();
})();
