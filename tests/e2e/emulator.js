// The Telegram Bot API emulator (telegram-test-api) made faithful where Pikir's tests need it.
//
// Run: node emulator.js PORT   (listens on 127.0.0.1 only; prints "ready" when listening)
//
// The emulator's quirks fixed here, test-side, so the product code stays a plain aiogram bot:
//   * getMe lacks is_bot                       -> a complete User
//   * getUpdates does not long-poll or honour the timeout -> waits for an update up to `timeout`
//   * callback queries lack chat_instance and a full message -> both filled in from the store
//   * webhook calls carry no secret header     -> X-Telegram-Bot-Api-Secret-Token is sent
//   * answerCallbackQuery / edit* answer null  -> true / the edited Message, as Telegram does
//   * sent messages carry the date in ms       -> seconds, and `from` is the bot
//   * no flood limits                          -> optional limits answer 429 with retry_after
//   * updates sent at once share an update_id  -> each takes its own before any await
//   * a failed webhook call is not retried     -> retried with growing pauses, as Telegram does
//   * an edit that changes nothing succeeds    -> 400 "message is not modified", as Telegram does
//   * no getFile, no file downloads           -> files a test registers (/_test/file, or a
//     photo sent with its bytes) are described by getFile and served from /file/bot<token>/…
// Test-only endpoints under /_test/ act as the citizen and inspect what the bot sent.
'use strict';

const express = require('express');
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2] || 9010);
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 3600 });
const BOT = { id: 7000001, is_bot: true, first_name: 'Pikir', username: 'PikirTestBot',
  can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false };

const webhooks = {};            // token -> {url, secret}
const answers = [];             // answerCallbackQuery calls, for assertions
const menus = {};               // setMyCommands: token -> {language_code or '': commands}
const sendLog = [];             // [{at, chat_id}] of accepted sendMessage calls
let rejected429 = 0;
const rejectedLog = [];         // [{at, chat_id, limit}] of sendMessage calls answered 429
let limits = { globalPerSecond: 0, perChatInterval: 0 };  // 0 = off
let forced429 = { count: 0, retryAfter: 1 };
const blocked = new Set();
const lastUserUpdate = {};      // token -> formatted update, for redelivery
const files = {};               // token -> {file_id: {bytes, file_path, file_unique_id}}
const downloads = [];           // [{token, file_path}] of files the bot downloaded
let nextFileNumber = 1;

const app = express();
app.use(express.json({ limit: '2mb' }));
app.use(express.urlencoded({ extended: true, limit: '2mb' }));

const ok = (res, result) => res.json({ ok: true, result });
const fail = (res, code, description, parameters) =>
  res.status(code).json({ ok: false, error_code: code, description, parameters });

function storedMessage(token, chatId, messageId) {
  const item = server.storage.botMessages.find((m) => m.botToken === token
    && String(m.messageId) === String(messageId) && String(m.message.chat_id) === String(chatId));
  return item ? asMessage(item) : null;
}

function asMessage(item) {
  const m = item.message;
  const message = { message_id: item.messageId, date: Math.floor(item.time / 1000), from: BOT,
    chat: { id: Number(m.chat_id), type: 'private', first_name: 'Citizen' }, text: m.text };
  if (m.reply_markup && m.reply_markup.inline_keyboard) message.reply_markup = m.reply_markup;
  return message;
}

function formatUpdate(update) {
  const formatted = TelegramServer.formatUpdate(update);
  if (formatted.message) delete formatted.message.botToken;
  if (formatted.callback_query) {
    const cq = formatted.callback_query;
    const chatId = cq.message && cq.message.chat && cq.message.chat.id;
    cq.chat_instance = String(chatId);
    cq.message = storedMessage(update.botToken, chatId, cq.message.message_id) || cq.message;
    delete cq.message.botToken;
  }
  return formatted;
}

// Webhook delivery with the secret header; errors are logged, never crash the emulator.
// The update's ids are taken before anything is awaited: updates sent at the same moment
// get ids of their own (the library numbers them only after its webhook call returned).
server.addUserUpdate = async function addUserUpdate(update) {
  update.updateId = this.updateId++;
  update.messageId = this.messageId++;
  if ('callbackQuery' in update) update.callbackId = this.callbackId++;
  const webhook = webhooks[update.botToken];
  lastUserUpdate[update.botToken] = update;
  if (webhook) {
    await deliver(webhook, update);
  } else {
    this.storage.userMessages.push(update);
  }
};

// Telegram retries an update whose webhook call failed (no answer, or not 2xx) with growing
// pauses; the first attempt is awaited by the caller, the retries go on in the background.
const RETRY_PAUSES_MS = [300, 600, 1200, 2400, 4800];
const deliveries = [];          // [{token, update_id, attempts, status}] of webhook updates

async function deliver(webhook, update) {
  const record = { token: update.botToken, update_id: update.updateId, attempts: 1, status: 0 };
  deliveries.push(record);
  if (deliveries.length > 100000) deliveries.splice(0, 50000);
  record.status = await postWebhook(webhook, formatUpdate(update));
  if (!delivered(record.status)) retryLater(update, record, 0);
  return record.status;
}

async function postWebhook(webhook, body) {
  const headers = { 'content-type': 'application/json' };
  if (webhook.secret) headers['X-Telegram-Bot-Api-Secret-Token'] = webhook.secret;
  try {
    const response = await fetch(webhook.url, { method: 'POST', headers, body: JSON.stringify(body) });
    return response.status;
  } catch (error) {
    console.error(`webhook ${webhook.url} failed: ${error}`);
    return 0;
  }
}

const delivered = (status) => status >= 200 && status < 300;

function retryLater(update, record, attempt) {
  if (attempt >= RETRY_PAUSES_MS.length) return;
  setTimeout(async () => {
    const webhook = webhooks[update.botToken];
    if (!webhook) return;
    record.attempts++;
    record.status = await postWebhook(webhook, formatUpdate(update));
    if (!delivered(record.status)) retryLater(update, record, attempt + 1);
  }, RETRY_PAUSES_MS[attempt]);
}

function takeUpdates(token, offset) {
  // Honour the offset like Telegram: updates below it are confirmed and dropped.
  server.storage.userMessages = server.storage.userMessages.filter(
    (u) => u.botToken !== token || !offset || u.updateId >= offset);
  const pending = server.storage.userMessages.filter((u) => u.botToken === token && !u.isRead);
  pending.forEach((u) => { u.isRead = true; });
  return pending.map(formatUpdate);
}

const params = (req) => Object.assign({}, req.query, req.body);

// ---------------------------------------------------------------- Bot API (what aiogram calls)

app.all('/bot:token/getMe', (req, res) => ok(res, BOT));
app.all('/bot:token/setMyCommands', (req, res) => {
  const p = params(req);
  const commands = typeof p.commands === 'string' ? JSON.parse(p.commands) : p.commands;
  menus[req.params.token] = menus[req.params.token] || {};
  menus[req.params.token][p.language_code || ''] = commands;
  ok(res, true);
});
app.all('/bot:token/deleteMyCommands', (req, res) => ok(res, true));
app.all('/bot:token/close', (req, res) => ok(res, true));

app.all('/bot:token/getUpdates', async (req, res) => {
  const token = req.params.token;
  const p = params(req);
  const offset = Number(p.offset || 0);
  const timeout = Math.min(Number(p.timeout || 0), 30) * 1000;
  let closed = false;
  res.on('close', () => { closed = true; });
  if (webhooks[token]) {
    return fail(res, 409, "Conflict: can't use getUpdates method while webhook is active");
  }
  // Unconfirmed updates that were handed out before are handed out again, as Telegram does.
  server.storage.userMessages.forEach((u) => {
    if (u.botToken === token && u.isRead && (!offset || u.updateId >= offset)) u.isRead = false;
  });
  const deadline = Date.now() + timeout;
  for (;;) {
    if (closed) return undefined;
    const updates = takeUpdates(token, offset);
    if (updates.length || Date.now() >= deadline) return ok(res, updates);
    await new Promise((resolve) => {
      const wake = () => { clearTimeout(timer); server.off('AddedUserMessage', wake); resolve(); };
      const timer = setTimeout(wake, Math.max(10, Math.min(250, deadline - Date.now())));
      server.on('AddedUserMessage', wake);
    });
  }
});

function reject429(chatId, limit) {
  rejected429++;
  if (rejectedLog.length < 10000) rejectedLog.push({ at: Date.now(), chat_id: chatId, limit });
}

app.all('/bot:token/sendMessage', (req, res) => {
  const token = req.params.token;
  const p = params(req);
  const chatId = String(p.chat_id);
  if (blocked.has(chatId)) return fail(res, 403, 'Forbidden: bot was blocked by the user');
  if (forced429.count > 0) {
    forced429.count--;
    reject429(chatId, 'forced');
    return fail(res, 429, `Too Many Requests: retry after ${forced429.retryAfter}`,
      { retry_after: forced429.retryAfter });
  }
  const now = Date.now();
  if (limits.globalPerSecond > 0) {
    const recent = sendLog.filter((s) => s.at > now - 1000).length;
    if (recent >= limits.globalPerSecond) {
      reject429(chatId, 'global');
      return fail(res, 429, 'Too Many Requests: retry after 1', { retry_after: 1 });
    }
  }
  if (limits.perChatInterval > 0) {
    const last = [...sendLog].reverse().find((s) => s.chat_id === chatId);
    if (last && now - last.at < limits.perChatInterval * 1000) {
      reject429(chatId, 'chat');
      return fail(res, 429, 'Too Many Requests: retry after 1', { retry_after: 1 });
    }
  }
  sendLog.push({ at: now, chat_id: chatId });
  if (sendLog.length > 100000) sendLog.splice(0, 50000);
  server.addBotMessage(Object.assign({}, p), token);
  const item = server.storage.botMessages[server.storage.botMessages.length - 1];
  return ok(res, asMessage(item));
});

function editRoute(name, apply) {
  app.all(`/bot:token/${name}`, (req, res) => {
    const token = req.params.token;
    const p = params(req);
    const existing = storedMessage(token, p.chat_id, p.message_id);
    if (!existing) return fail(res, 400, 'Bad Request: message to edit not found');
    const message = Object.assign({}, p);
    if (!('reply_markup' in message)) message.reply_markup = { inline_keyboard: [] };
    const keys = (markup) => JSON.stringify((markup && markup.inline_keyboard) || []);
    const markup = TelegramServer.normalizeMessage(message).reply_markup;
    const sameText = name !== 'editMessageText' || message.text === existing.text;
    if (sameText && keys(markup) === keys(existing.reply_markup)) {
      return fail(res, 400, 'Bad Request: message is not modified: specified new message content'
        + ' and reply markup are exactly the same as a current content and reply markup of the'
        + ' message');
    }
    apply(message);
    return ok(res, storedMessage(token, p.chat_id, p.message_id));
  });
}
editRoute('editMessageText', (m) => server.editMessageText(m));
editRoute('editMessageReplyMarkup', (m) => {
  const normalized = TelegramServer.normalizeMessage(m);
  const item = server.storage.botMessages.find((u) => String(u.messageId) === String(m.message_id)
    && String(u.message.chat_id) === String(m.chat_id));
  if (item) item.message = Object.assign({}, item.message, { reply_markup: normalized.reply_markup });
});

app.all('/bot:token/answerCallbackQuery', (req, res) => {
  const p = params(req);
  answers.push({ id: String(p.callback_query_id), text: p.text || null });
  return ok(res, true);
});

// A file the bot may fetch: getFile describes it, /file/bot<token>/<file_path> serves it.
// Telegram's file ids are the bot's own, so a file is known to one token only.
function addFile(token, fileId, bytes) {
  const number = nextFileNumber++;
  files[token] = files[token] || {};
  files[token][fileId] = { bytes, file_path: `photos/file_${number}.jpg`,
    file_unique_id: `u${number}` };
}

app.all('/bot:token/getFile', (req, res) => {
  const fileId = String(params(req).file_id || '');
  const file = (files[req.params.token] || {})[fileId];
  if (!file) return fail(res, 400, 'Bad Request: invalid file_id');
  return ok(res, { file_id: fileId, file_unique_id: file.file_unique_id,
    file_size: file.bytes.length, file_path: file.file_path });
});

app.get('/file/bot:token/*', (req, res) => {
  const token = req.params.token;
  const path = req.params[0];
  const file = Object.values(files[token] || {}).find((f) => f.file_path === path);
  if (!file) return fail(res, 404, 'Not Found');
  downloads.push({ token, file_path: path });
  res.set('content-type', 'application/octet-stream');
  return res.send(file.bytes);
});

app.all('/bot:token/setWebhook', (req, res) => {
  const p = params(req);
  if (!p.url) return fail(res, 400, 'Bad Request: bad webhook: url is empty');
  const sets = (webhooks[req.params.token] || { sets: 0 }).sets + 1;  // how often it was set
  webhooks[req.params.token] = { url: p.url, secret: p.secret_token || null, sets };
  return ok(res, true);
});

app.all('/bot:token/deleteWebhook', (req, res) => {
  delete webhooks[req.params.token];
  return ok(res, true);
});

app.all('/bot:token/getWebhookInfo', (req, res) => {
  const webhook = webhooks[req.params.token];
  return ok(res, { url: webhook ? webhook.url : '', has_custom_certificate: false,
    pending_update_count: 0 });
});

// ---------------------------------------------------------------- the citizen's side (tests)

let nextUserMessageId = 1000000;

function citizen(p) {
  const userId = Number(p.user_id || p.chat_id);
  return {
    from: { id: userId, is_bot: false, first_name: 'Citizen', language_code: p.language_code },
    chat: { id: Number(p.chat_id), type: 'private', first_name: 'Citizen' },
    date: Math.floor(Date.now() / 1000),
    botToken: p.token,
  };
}

app.post('/_test/send', async (req, res) => {
  const p = req.body;
  const message = Object.assign(citizen(p), { text: p.text });
  if (p.text.startsWith('/')) {
    const length = p.text.includes(' ') ? p.text.indexOf(' ') : p.text.length;
    message.entities = [{ offset: 0, length, type: 'bot_command' }];
  }
  // Read in the same tick as addUserUpdate takes it: the id this update gets.
  const updateId = server.updateId;
  await server.addUserMessage(message);
  ok(res, { update_id: updateId });
});

app.post('/_test/photo', async (req, res) => {
  const p = req.body;
  const message = Object.assign(citizen(p), {
    photo: [{ file_id: `${p.file_id}-small`, file_unique_id: 's', width: 90, height: 90, file_size: 900 },
      { file_id: p.file_id, file_unique_id: 'b', width: 1280, height: 960, file_size: p.file_size }],
  });
  if (p.caption) message.caption = p.caption;
  // With its bytes (base64), the photo can be fetched as Telegram serves it (both sizes).
  if (p.content_base64) {
    const bytes = Buffer.from(p.content_base64, 'base64');
    addFile(p.token, p.file_id, bytes);
    addFile(p.token, `${p.file_id}-small`, bytes);
  }
  const updateId = server.updateId;
  await server.addUserMessage(message);
  ok(res, { update_id: updateId });
});

// A file the bot can fetch, for a test that builds its own updates: {token, file_id, content_base64}.
app.post('/_test/file', (req, res) => {
  const p = req.body;
  addFile(p.token, p.file_id, Buffer.from(p.content_base64, 'base64'));
  ok(res, true);
});

app.post('/_test/press', async (req, res) => {
  const p = req.body;
  const base = citizen(p);
  const updateId = server.updateId;
  await server.addUserCallback({ botToken: p.token, from: base.from, data: p.data,
    message: { message_id: Number(p.message_id), chat: base.chat } });
  ok(res, { update_id: updateId });
});

app.post('/_test/redeliver', async (req, res) => {
  // Telegram redelivers an update it thinks was not handled: same update_id, same content.
  const update = lastUserUpdate[req.body.token];
  if (!update) return fail(res, 404, 'nothing to redeliver');
  const webhook = webhooks[update.botToken];
  if (webhook) {
    const status = await postWebhook(webhook, formatUpdate(update));
    return ok(res, { update_id: update.updateId, status });
  }
  server.storage.userMessages.push(Object.assign({}, update, { isRead: false }));
  server.emit('AddedUserMessage');
  return ok(res, { update_id: update.updateId });
});

app.get('/_test/messages', (req, res) => {
  const { token, chat_id: chatId } = req.query;
  ok(res, server.storage.botMessages
    .filter((m) => m.botToken === token && String(m.message.chat_id) === String(chatId))
    .map(asMessage));
});

app.get('/_test/answers', (req, res) => ok(res, answers));
app.get('/_test/menus', (req, res) => ok(res, menus[req.query.token] || {}));
app.get('/_test/stats', (req, res) => ok(res,
  { sent: sendLog.length, rejected429, log: sendLog, rejected: rejectedLog }));
app.get('/_test/deliveries', (req, res) =>
  ok(res, deliveries.filter((d) => d.token === req.query.token)));
app.get('/_test/downloads', (req, res) =>
  ok(res, downloads.filter((d) => d.token === req.query.token)));
app.get('/_test/webhook', (req, res) => ok(res, webhooks[req.query.token] || null));

app.post('/_test/limits', (req, res) => {
  limits = { globalPerSecond: Number(req.body.global_per_second || 0),
    perChatInterval: Number(req.body.per_chat_interval || 0) };
  ok(res, limits);
});
app.post('/_test/fail', (req, res) => {
  forced429 = { count: Number(req.body.count || 0), retryAfter: Number(req.body.retry_after || 1) };
  ok(res, forced429);
});
app.post('/_test/block', (req, res) => { blocked.add(String(req.body.chat_id)); ok(res, true); });
app.post('/_test/reset', (req, res) => {
  server.storage.userMessages = [];
  server.storage.botMessages = [];
  answers.length = 0;
  Object.keys(menus).forEach((k) => delete menus[k]);
  sendLog.length = 0;
  rejected429 = 0;
  rejectedLog.length = 0;
  limits = { globalPerSecond: 0, perChatInterval: 0 };
  forced429 = { count: 0, retryAfter: 1 };
  blocked.clear();
  deliveries.length = 0;
  downloads.length = 0;
  Object.keys(files).forEach((k) => delete files[k]);
  Object.keys(webhooks).forEach((k) => delete webhooks[k]);
  ok(res, true);
});

// Whatever else the emulator knows is served by it unchanged.
app.use(server.webServer);

const listener = app.listen(port, '127.0.0.1', () => { console.log('ready'); });
// Longer than the clients' idle keep-alive, so a client never writes to a socket being closed.
listener.keepAliveTimeout = 120000;
listener.headersTimeout = 121000;
const stop = () => listener.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
