// Pikir's embeddable chat widget. Paste on an agency's page:
//   <script src="https://PIKIR-HOST/chat/widget.js" data-office="AST-01" async></script>
// It adds a button that opens the web chat in a frame; data-lang (kk|ru|en) picks the button's
// language, else the page's own. The server fills in CONFIG when it serves this file.
(function () {
  'use strict';
  var CONFIG = /*CONFIG*/{};
  var script = document.currentScript;
  if (!script || !CONFIG.chatPath) return;
  var base = new URL(script.src, location.href).origin;
  var office = script.getAttribute('data-office') || '';
  var wanted = (script.getAttribute('data-lang') || document.documentElement.lang || 'ru')
    .slice(0, 2).toLowerCase();
  var labels = CONFIG.labels[wanted] || CONFIG.labels.ru;
  var src = base + CONFIG.chatPath + '?embed=1' + (office ? '&office=' + encodeURIComponent(office) : '');
  var frameId = 'pikir-chat-frame';

  function style(element, rules) {
    for (var name in rules) element.style[name] = rules[name];
  }

  function mount() {
    var button = document.createElement('button');
    var frame = null;
    button.type = 'button';
    button.id = 'pikir-chat-button';
    button.textContent = labels.widget_open;
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-controls', frameId);
    style(button, {
      position: 'fixed', right: '16px', bottom: '16px', zIndex: '2147483000',
      padding: '12px 18px', font: '600 16px system-ui, sans-serif', color: '#fff',
      background: '#0b4f8a', border: '0', borderRadius: '24px', cursor: 'pointer',
      boxShadow: '0 2px 10px rgba(0,0,0,.25)'
    });
    button.addEventListener('click', function () {
      var open = button.getAttribute('aria-expanded') !== 'true';
      if (open && !frame) {
        frame = document.createElement('iframe');
        frame.id = frameId;
        frame.src = src;
        frame.title = labels.widget_frame;
        style(frame, {
          position: 'fixed', right: '16px', bottom: '76px', zIndex: '2147483000',
          width: 'min(380px, calc(100vw - 32px))', height: 'min(600px, calc(100vh - 100px))',
          border: '1px solid #6c757d', borderRadius: '12px', background: '#fff',
          boxShadow: '0 4px 24px rgba(0,0,0,.25)'
        });
        document.body.appendChild(frame);
      }
      frame.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      button.textContent = open ? labels.widget_close : labels.widget_open;
      if (open) frame.focus();
    });
    document.body.appendChild(button);
  }

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
