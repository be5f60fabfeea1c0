// Starts the `telegram-test-api` 4.2.1 emulator on 127.0.0.1 for the end-to-end tests and
// patches what python-telegram-bot 22 cannot live with, without forking the package:
//
// - getMe lacks is_bot                  -> answered here with a complete User
// - getUpdates ignores timeout/offset   -> real long polling with offset confirmation
// - sendMessage: date in ms, JSON-string fields, chat_id echoed back -> a proper Message
// - edit methods return null, edits invisible to the client -> return the Message, log edits
// - callback queries lack chat_instance -> added when updates are handed out
// - media sends, setMyCommands, sendChatAction answer 500 -> implemented (multipart parsed)
// - a `port` of 0 silently becomes 9000 -> we pass the string "0" and print the bound port
// - webhook posts carry no secret header -> setWebhook's secret_token is sent along
//
// Test-only routes (under /_test/) let a test block the bot for a chat, inject any raw
// update (my_chat_member), and read everything the bot did (messages with edits, answered
// callbacks, command menus). Prints one line `PORT <n>` on stdout once listening.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const express = require('express');
const TelegramServer = require('telegram-test-api');

const BOT_USER = {
  id: 666,
  is_bot: true,
  first_name: 'Tæl mig med (test)',
  username: 'TestNameBot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};
const now = () => Math.floor(Date.now() / 1000);

const server = new TelegramServer({ port: '0', host: '127.0.0.1', storeTimeout: 3600 });
const inner = server.webServer;
const outer = express();

const state = {
  blocked: new Map(), // token -> Set(chat_id as string)
  edits: [],
  answers: [],
  commands: [],
  webhookDeliveries: [],
  methods: [],
};
const waiters = new Set();
const wake = () => {
  for (const resolve of [...waiters]) resolve();
  waiters.clear();
};

// ---- request bodies ----------------------------------------------------------------------

function parseMultipart(buf, contentType) {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  const fields = {};
  const files = {};
  if (!match) return { fields, files };
  const boundary = Buffer.from(`--${match[1] || match[2]}`);
  let pos = buf.indexOf(boundary);
  while (pos !== -1) {
    let start = pos + boundary.length;
    if (buf.slice(start, start + 2).toString() === '--') break;
    start += 2;
    const headerEnd = buf.indexOf('\r\n\r\n', start);
    if (headerEnd === -1) break;
    const headers = buf.slice(start, headerEnd).toString('utf8');
    const next = buf.indexOf(boundary, headerEnd);
    if (next === -1) break;
    const body = buf.slice(headerEnd + 4, next - 2);
    const name = (/name="([^"]*)"/i.exec(headers) || [])[1];
    const filename = /filename="([^"]*)"/i.exec(headers);
    const ctype = /content-type:\s*([^\r\n]+)/i.exec(headers);
    if (name !== undefined) {
      if (filename) {
        files[name] = {
          file_name: filename[1],
          mime_type: ctype ? ctype[1].trim() : 'application/octet-stream',
          file_size: body.length,
          content_base64: body.toString('base64'),
        };
      } else {
        fields[name] = body.toString('utf8');
      }
    }
    pos = next;
  }
  return { fields, files };
}

function decodeValue(value) {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

function params(req) {
  let fields = { ...(req.query || {}) };
  let files = {};
  if (Buffer.isBuffer(req.body)) {
    const parsed = parseMultipart(req.body, req.headers['content-type']);
    fields = { ...fields, ...parsed.fields };
    files = parsed.files;
  } else if (req.body && typeof req.body === 'object') {
    fields = { ...fields, ...req.body };
  }
  const out = {};
  for (const [key, value] of Object.entries(fields)) out[key] = decodeValue(value);
  for (const [key, value] of Object.entries(out)) {
    if (typeof value === 'string' && value.startsWith('attach://')) {
      out[key] = files[value.slice('attach://'.length)];
    }
  }
  for (const [key, value] of Object.entries(files)) if (!(key in out)) out[key] = value;
  return out;
}

// ---- messages ----------------------------------------------------------------------------

function chatOf(chatId) {
  return { id: Number(chatId), type: 'private', first_name: 'Test' };
}

function publicMessage(messageId, chatId, content) {
  const message = { message_id: messageId, date: now(), chat: chatOf(chatId), from: BOT_USER };
  for (const [key, value] of Object.entries(content)) {
    if (key === 'reply_markup') {
      if (value && value.inline_keyboard && value.inline_keyboard.length) message[key] = value;
    } else if (key === 'document' || key === 'photo') {
      const strip = ({ content_base64: _ignored, ...rest }) => rest;
      message[key] = Array.isArray(value) ? value.map(strip) : strip(value);
    } else if (value !== undefined && value !== null) {
      message[key] = value;
    }
  }
  return message;
}

function storeBotMessage(token, chatId, content) {
  // addBotMessage keeps it visible to the emulator's own client (getUpdates/history)
  const stored = server.addBotMessage({ chat_id: String(chatId), ...content }, token);
  return publicMessage(stored.message_id, chatId, content);
}

function fileMeta(file, prefix) {
  const id = `${prefix}-${Math.random().toString(36).slice(2, 12)}`;
  if (!file || typeof file === 'string') {
    return { file_id: file || id, file_unique_id: id, file_size: 0 };
  }
  return { file_id: id, file_unique_id: id, ...file };
}

function findBotMessage(token, chatId, messageId) {
  return server.storage.botMessages.find(
    (u) => u.botToken === token
      && String(u.messageId) === String(messageId)
      && String(u.message.chat_id) === String(chatId),
  );
}

function fail(res, code, description) {
  res.status(code).json({ ok: false, error_code: code, description });
}

function isBlocked(token, chatId) {
  const set = state.blocked.get(token);
  return Boolean(set && set.has(String(chatId)));
}

const sendMethods = {
  sendMessage: (p) => ({ text: p.text, entities: p.entities, reply_markup: p.reply_markup }),
  sendPhoto: (p) => ({
    photo: [{ width: 640, height: 640, ...fileMeta(p.photo, 'photo') }],
    caption: p.caption,
    reply_markup: p.reply_markup,
  }),
  sendDocument: (p) => ({
    document: fileMeta(p.document, 'doc'),
    caption: p.caption,
    reply_markup: p.reply_markup,
  }),
  sendLocation: (p) => ({
    location: { latitude: Number(p.latitude), longitude: Number(p.longitude) },
    reply_markup: p.reply_markup,
  }),
  sendVenue: (p) => ({
    venue: {
      location: { latitude: Number(p.latitude), longitude: Number(p.longitude) },
      title: p.title,
      address: p.address || '',
    },
    reply_markup: p.reply_markup,
  }),
};

function edit(token, p, change) {
  if (p.inline_message_id) return true;
  const stored = findBotMessage(token, p.chat_id, p.message_id);
  if (!stored) return null;
  const message = { ...stored.message };
  change(message);
  if (p.reply_markup && p.reply_markup.inline_keyboard) message.reply_markup = p.reply_markup;
  else delete message.reply_markup;
  stored.message = message;
  state.edits.push({ chat_id: String(p.chat_id), message_id: Number(p.message_id), ...message });
  const { chat_id: _chat, ...content } = message;
  return publicMessage(Number(p.message_id), p.chat_id, content);
}

const editMethods = {
  editMessageText: (m, p) => { m.text = p.text; },
  editMessageCaption: (m, p) => { m.caption = p.caption; },
  editMessageReplyMarkup: () => {},
};

// ---- updates -----------------------------------------------------------------------------

function formatUpdate(update) {
  if (update.raw) return { update_id: update.updateId, ...update.raw };
  const formatted = TelegramServer.formatUpdate(update);
  const fixMessage = (message) => {
    if (!message) return message;
    const { botToken: _token, ...rest } = message;
    if (typeof rest.date !== 'number') rest.date = now();
    if (rest.date > 1e11) rest.date = Math.floor(rest.date / 1000);
    return rest;
  };
  if (formatted.callback_query) {
    const query = formatted.callback_query;
    query.message = fixMessage(query.message);
    if (!query.chat_instance) {
      query.chat_instance = String(query.message ? query.message.chat.id : query.from.id);
    }
  } else {
    formatted.message = fixMessage(formatted.message);
  }
  return formatted;
}

server.addUserUpdate = async function addUserUpdate(update) {
  const webhook = this.webhooks[update.botToken];
  update.updateId = this.updateId;
  this.updateId++;
  if (!webhook) {
    this.storage.userMessages.push(update);
    wake();
    return;
  }
  const headers = { 'content-type': 'application/json' };
  if (webhook.secret_token) headers['x-telegram-bot-api-secret-token'] = webhook.secret_token;
  try {
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(formatUpdate(update)),
    });
    state.webhookDeliveries.push({ update_id: update.updateId, status: response.status });
  } catch (error) {
    state.webhookDeliveries.push({ update_id: update.updateId, error: String(error) });
  }
};

function pendingUpdates(token, offset, limit) {
  if (offset !== undefined) {
    // confirm everything before the offset, as Telegram does
    server.storage.userMessages = server.storage.userMessages.filter(
      (u) => u.botToken !== token || u.updateId >= offset,
    );
  }
  return server.storage.userMessages
    .filter((u) => u.botToken === token)
    .sort((a, b) => a.updateId - b.updateId)
    .slice(0, limit);
}

async function getUpdates(req, res, token, p) {
  const offset = p.offset !== undefined && p.offset !== '' ? Number(p.offset) : undefined;
  const limit = p.limit ? Math.min(100, Number(p.limit)) : 100;
  const timeout = Math.max(0, Math.min(50, Number(p.timeout || 0)));
  let updates = pendingUpdates(token, offset, limit);
  if (!updates.length && timeout > 0) {
    await new Promise((resolve) => {
      const timer = setTimeout(done, timeout * 1000);
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
      res.on('close', done);
    });
    updates = pendingUpdates(token, offset, limit);
  }
  if (res.writableEnded || res.destroyed) return;
  res.json({ ok: true, result: updates.map(formatUpdate) });
}

// ---- routes ------------------------------------------------------------------------------

outer.use(express.json({ limit: '50mb' }));
outer.use(express.urlencoded({ extended: true, limit: '50mb' }));
outer.use(express.raw({ type: 'multipart/form-data', limit: '50mb' }));

outer.all('/bot:token/:method', (req, res, next) => {
  const { token, method } = req.params;
  const p = params(req);
  state.methods.push(method);
  if (method === 'getMe') return res.json({ ok: true, result: BOT_USER });
  if (method === 'getUpdates') return getUpdates(req, res, token, p);
  if (method === 'setWebhook') {
    server.setWebhook({ url: p.url, secret_token: p.secret_token }, token);
    return res.json({ ok: true, result: true });
  }
  if (method === 'deleteWebhook') {
    server.deleteWebhook(token);
    return res.json({ ok: true, result: true });
  }
  if (method === 'getWebhookInfo') {
    const hook = server.webhooks[token];
    return res.json({
      ok: true,
      result: { url: hook ? hook.url : '', has_custom_certificate: false, pending_update_count: 0 },
    });
  }
  if (method === 'setMyCommands') {
    state.commands.push({ commands: p.commands, scope: p.scope || null, language_code: p.language_code || '' });
    return res.json({ ok: true, result: true });
  }
  if (method === 'deleteMyCommands') return res.json({ ok: true, result: true });
  if (method === 'getMyCommands') return res.json({ ok: true, result: [] });
  if (method === 'sendChatAction') return res.json({ ok: true, result: true });
  if (method === 'answerCallbackQuery') {
    state.answers.push(p);
    return res.json({ ok: true, result: true });
  }
  if (method in sendMethods || method in editMethods) {
    if (p.chat_id === undefined) return fail(res, 400, 'Bad Request: chat_id is empty');
    if (isBlocked(token, p.chat_id)) return fail(res, 403, 'Forbidden: bot was blocked by the user');
    if (method in sendMethods) {
      const content = sendMethods[method](p);
      if (method === 'sendMessage' && !content.text) {
        return fail(res, 400, 'Bad Request: message text is empty');
      }
      return res.json({ ok: true, result: storeBotMessage(token, p.chat_id, content) });
    }
    const result = edit(token, p, (m) => editMethods[method](m, p));
    if (result === null) return fail(res, 400, 'Bad Request: message to edit not found');
    return res.json({ ok: true, result });
  }
  return next();
});

outer.post('/_test/block', (req, res) => {
  const { token, chat_id: chatId, blocked } = req.body;
  if (!state.blocked.has(token)) state.blocked.set(token, new Set());
  if (blocked === false) state.blocked.get(token).delete(String(chatId));
  else state.blocked.get(token).add(String(chatId));
  res.json({ ok: true, result: true });
});

outer.post('/_test/update', async (req, res) => {
  const { token, update } = req.body;
  const id = server.updateId;
  await server.addUserUpdate({ botToken: token, raw: update, time: Date.now(), isRead: false });
  res.json({ ok: true, result: id });
});

outer.post('/_test/state', (req, res) => {
  const { token } = req.body;
  const messages = server.storage.botMessages
    .filter((u) => u.botToken === token)
    .map((u) => ({ message_id: u.messageId, ...u.message }));
  res.json({
    ok: true,
    result: {
      messages,
      pending: server.storage.userMessages.filter((u) => u.botToken === token).length,
      edits: state.edits,
      answers: state.answers,
      commands: state.commands,
      webhook_deliveries: state.webhookDeliveries,
      methods: state.methods,
    },
  });
});

outer.use(inner);
server.webServer = outer;

await server.start();
const { port } = server.server.address();
process.stdout.write(`PORT ${port}\n`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  wake();
  await Promise.race([server.stop(), new Promise((r) => setTimeout(r, 1000))]);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
