// SPDX-License-Identifier: Apache-2.0
// The official MCP TypeScript SDK (@modelcontextprotocol/sdk, unchanged, from npm) spawns
// `eci-sandbox mcp` over stdio and calls every tool against eci-emulator; then a raw process
// gets hostile lines and a SIGTERM. The emulator's ready line (a JSON file) is named by
// ECI_READY_FILE, the CLI by ECI_SANDBOX_CLI. Run by test/mcp/run (ctest "mcp: ...").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const ready = JSON.parse(fs.readFileSync(process.env.ECI_READY_FILE, 'utf8'));
const cli = process.env.ECI_SANDBOX_CLI;
const ca = fs.readFileSync(ready.ca_file, 'utf8');
// A directory of its own, so no .env of the source tree is read.
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'eci-mcp-e2e-'));
// The sanitizer settings of an ASan/UBSan run reach the servers too (the SDK passes on only
// a few variables of its own environment).
const sanitizerEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => /^(ASAN|UBSAN|LSAN|TSAN)_OPTIONS$/.test(k)));
const serverEnv = {
  ...sanitizerEnv,
  ECI_SANDBOX_ENDPOINT: `https://${ready.endpoint}`,
  ECI_SANDBOX_CA_FILE: ready.ca_file,
  ECI_SANDBOX_REGION_ID: ready.region_id,
  ECI_SANDBOX_ACCESS_KEY_ID: ready.access_key_id,
  ECI_SANDBOX_ACCESS_KEY_SECRET: ready.access_key_secret,
};
const image = 'registry.example/ubuntu:22.04';

/** GET /_emulator/stats. */
function stats() {
  return new Promise((resolve, reject) => {
    const [host, port] = ready.endpoint.split(':');
    https.get({ host, port, path: '/_emulator/stats', ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

/** Polls until predicate(stats) holds; fails after deadlineMs. */
async function waitForStats(predicate, what, deadlineMs = 15000) {
  const deadline = Date.now() + deadlineMs;
  let last;
  while (Date.now() < deadline) {
    last = await stats();
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${deadlineMs} ms (last stats ${JSON.stringify(last)})`);
}

async function call(client, name, args, options) {
  return client.callTool({ name, arguments: args }, undefined, options);
}

/** A successful call's structured result (its text content says the same). */
async function ok(client, name, args) {
  const result = await call(client, name, args);
  assert.equal(result.isError, false, `${name}: ${JSON.stringify(result.content)}`);
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
  return result.structuredContent;
}

test('the official MCP SDK lists and calls every tool; the server cleans up', async (t) => {
  const transport = new StdioClientTransport({
    command: cli, args: ['mcp'], env: serverEnv, cwd, stderr: 'pipe',
  });
  let serverLog = '';
  transport.stderr.on('data', (d) => { serverLog += d; });
  const client = new Client({ name: 'eci-mcp-e2e', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => transport.close());
  try {
    assert.equal(client.getServerVersion().name, 'eci-sandbox');

    await t.test('tools/list names every tool with its schemas', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((x) => x.name), [
        'create_sandbox', 'list_sandboxes', 'delete_sandbox', 'run_command', 'start_job',
        'poll_job', 'wait_job', 'kill_job', 'read_file', 'write_file']);
      for (const tool of tools) {
        assert.equal(tool.inputSchema.type, 'object');
        assert.equal(tool.outputSchema.type, 'object');
      }
      assert.deepEqual(tools.find((x) => x.name === 'run_command').inputSchema.required,
                       ['sandbox_id', 'command']);
    });

    let id;
    await t.test('create_sandbox and list_sandboxes', async () => {
      const created = await ok(client, 'create_sandbox',
                               { image, name: 'mcp-main', env: { GREETING: 'hello mcp' } });
      id = created.sandbox_id;
      assert.match(id, /^eci-/);
      assert.equal(created.status, 'Running');
      assert.equal(created.name, 'mcp-main');
      assert.equal(created.lease_seconds, 1800);
      const { sandboxes } = await ok(client, 'list_sandboxes', {});
      const mine = sandboxes.find((s) => s.sandbox_id === id);
      assert.ok(mine);
      assert.equal(mine.created_by_this_server, true);
    });

    await t.test('run_command: stdout, stderr and exit code apart; workdir; a nonzero exit', async () => {
      const ran = await ok(client, 'run_command', {
        sandbox_id: id, command: 'echo out; echo err >&2; printf %s "$GREETING"; exit 7' });
      assert.equal(ran.stdout, 'out\nhello mcp');
      assert.equal(ran.stderr, 'err\n');
      assert.equal(ran.exit_code, 7);
      assert.equal(ran.status, 'exited');
      const pwd = await ok(client, 'run_command',
                           { sandbox_id: id, command: 'pwd', workdir: '/tmp', timeout_seconds: 30 });
      assert.equal(pwd.stdout, '/tmp\n');
      assert.equal(pwd.exit_code, 0);
    });

    await t.test('run_command: a timeout is a tool error with the output so far', async () => {
      const started = Date.now();
      const result = await call(client, 'run_command',
                                { sandbox_id: id, command: 'echo begun; sleep 30', timeout_seconds: 2 });
      // Ended by the 2 s timeout, long before the command would have.
      assert.ok(Date.now() - started < 20000);
      assert.equal(result.isError, true);
      const body = JSON.parse(result.content[0].text);
      assert.equal(body.error.kind, 'timeout');
      // The output so far: all of it, unless a loaded machine took the 2 s to start the exec.
      assert.ok(['begun\n', ''].includes(body.stdout), JSON.stringify(body));
      assert.equal(body.stderr, '');
      // A timeout below a millisecond is still a timeout (not the library's 600 s default).
      const tiny = await call(client, 'run_command',
                              { sandbox_id: id, command: 'sleep 5; echo late', timeout_seconds: 0.0001 });
      assert.equal(tiny.isError, true, JSON.stringify(tiny.content));
      assert.equal(JSON.parse(tiny.content[0].text).error.kind, 'timeout');
    });

    await t.test('write_file then read_file, text and binary', async () => {
      const text = 'line one\nünïcödé ✓\n';
      const written = await ok(client, 'write_file', { sandbox_id: id, path: '/tmp/mcp.txt', content: text });
      assert.equal(written.size, Buffer.byteLength(text));
      assert.equal(written.status, 'written');
      const read = await ok(client, 'read_file', { sandbox_id: id, path: '/tmp/mcp.txt' });
      assert.equal(read.content, text);
      assert.equal(read.encoding, 'utf-8');
      assert.equal(read.sha256, written.sha256);
      const bytes = Buffer.from([0xff, 0x00, 0x01, 0xfe, 0x0a]);
      await ok(client, 'write_file', { sandbox_id: id, path: '/tmp/mcp.bin',
                                       content: bytes.toString('base64'), encoding: 'base64' });
      const binary = await ok(client, 'read_file', { sandbox_id: id, path: '/tmp/mcp.bin' });
      assert.equal(binary.encoding, 'base64');
      assert.deepEqual(Buffer.from(binary.content, 'base64'), bytes);
    });

    await t.test('start_job, poll_job, wait_job give the exit code; kill_job ends a long job', async () => {
      const started = await ok(client, 'start_job',
                               { sandbox_id: id, command: 'echo started; sleep 0.5; echo finished; exit 4' });
      const job = started.job_id;
      assert.equal(started.status, 'running');
      const polled = await ok(client, 'poll_job', { sandbox_id: id, job_id: job });
      assert.equal(polled.job_id, job);
      assert.ok(['running', 'completed'].includes(polled.status));
      const waited = await ok(client, 'wait_job', { sandbox_id: id, job_id: job, timeout_seconds: 30 });
      assert.equal(waited.status, 'completed');
      assert.equal(waited.exit_code, 4);
      assert.match(waited.stdout, /started\nfinished/);

      const long = (await ok(client, 'start_job', { sandbox_id: id, command: 'sleep 300' })).job_id;
      assert.equal((await ok(client, 'poll_job', { sandbox_id: id, job_id: long })).status, 'running');
      const killed = await ok(client, 'kill_job', { sandbox_id: id, job_id: long });
      assert.equal(killed.status, 'killed');
      assert.equal((await ok(client, 'poll_job', { sandbox_id: id, job_id: long })).status, 'not_found');
    });

    await t.test('a failed call is a tool error carrying the error kind and service code', async () => {
      const result = await call(client, 'run_command', { sandbox_id: 'eci-doesnotexist0000', command: 'true' });
      assert.equal(result.isError, true);
      assert.equal(result.structuredContent, undefined);
      const body = JSON.parse(result.content[0].text);
      assert.equal(body.error.kind, 'not_found');
      assert.match(body.error.message, /eci-doesnotexist0000/);
      // The service's own refusal: a server signing with a wrong secret.
      const badTransport = new StdioClientTransport({
        command: cli, args: ['mcp'], cwd, stderr: 'pipe',
        env: { ...serverEnv, ECI_SANDBOX_ACCESS_KEY_SECRET: 'not-the-secret-0123456789' } });
      const bad = new Client({ name: 'eci-mcp-e2e-bad-key', version: '1.0.0' });
      await bad.connect(badTransport);
      try {
        const refused = await call(bad, 'list_sandboxes', {});
        assert.equal(refused.isError, true);
        const error = JSON.parse(refused.content[0].text).error;
        assert.equal(error.kind, 'auth', JSON.stringify(error));
        assert.equal(error.code, 'SignatureDoesNotMatch', JSON.stringify(error));
        assert.ok(error.request_id.length > 0);
        assert.ok(!refused.content[0].text.includes('not-the-secret'));
      } finally {
        await badTransport.close();
      }
    });

    await t.test('a cancelled create_sandbox cancels the create, which deletes its sandbox', async () => {
      const before = (await stats()).sandboxes;
      const controller = new AbortController();
      const pending = call(client, 'create_sandbox', { image, name: 'mcp-cancelled' },
                           { signal: controller.signal });
      // The create reached the service (the sandbox exists, still starting: 2 s delay)...
      await waitForStats((s) => s.sandboxes === before + 1, 'the cancelled create reached the service');
      controller.abort('the test cancels');
      await assert.rejects(pending);
      // ...and the cancelled call deleted it, while the server kept serving.
      await waitForStats((s) => s.sandboxes === before, 'the cancelled create deleted its sandbox');
      assert.equal((await ok(client, 'list_sandboxes', {})).sandboxes.length, before);
    });

    await t.test('delete_sandbox', async () => {
      const other = (await ok(client, 'create_sandbox', { image })).sandbox_id;
      const deleted = await ok(client, 'delete_sandbox', { sandbox_id: other });
      assert.deepEqual(deleted, { sandbox_id: other, status: 'deleted' });
      const { sandboxes } = await ok(client, 'list_sandboxes', {});
      assert.deepEqual(sandboxes.map((s) => s.sandbox_id), [id]);
    });
  } catch (error) {
    console.error(serverLog);
    throw error;
  }

  await t.test('closing stdin ends the server, which deletes what it created', async () => {
    assert.equal((await stats()).sandboxes, 1);
    await transport.close();
    await waitForStats((s) => s.sandboxes === 0 && s.processes === 0, 'no sandbox left after close');
    assert.match(serverLog, /deleting 1 sandbox/);
    assert.doesNotMatch(serverLog, /Sanitizer|runtime error|internal error/);
  });
});

/** `eci-sandbox mcp` with raw pipes: lines in, parsed lines out. */
function rawServer() {
  const child = spawn(cli, ['mcp'], { cwd, env: { PATH: process.env.PATH, ...serverEnv },
                                      stdio: ['pipe', 'pipe', 'pipe'] });
  const replies = [];
  const waiters = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    replies.push(JSON.parse(line));  // stdout carries only protocol: every line is JSON
    while (waiters.length > 0) waiters.shift()();
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child, exited, stderr: () => stderr,
    write: (text) => new Promise((resolve) => { if (child.stdin.write(text)) resolve(); else child.stdin.once('drain', resolve); }),
    /** The next reply (in order). */
    async next(deadlineMs = 15000) {
      const deadline = Date.now() + deadlineMs;
      while (replies.length === 0) {
        if (Date.now() > deadline) throw new Error(`no reply; stderr: ${stderr}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
      }
      return replies.shift();
    },
  };
}

test('hostile input gets JSON-RPC errors and the server keeps serving; SIGTERM cleans up', async () => {
  const server = rawServer();
  const send = (message) => server.write(`${JSON.stringify(message)}\n`);
  await send({ jsonrpc: '2.0', id: 1, method: 'initialize',
               params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
  const init = await server.next();
  assert.equal(init.id, 1);
  assert.equal(init.result.protocolVersion, '2025-03-26');
  await send({ jsonrpc: '2.0', method: 'notifications/initialized' });

  const expectError = async (id, code) => {
    const reply = await server.next();
    assert.equal(reply.jsonrpc, '2.0');
    assert.equal(reply.id, id, JSON.stringify(reply));
    assert.equal(reply.error?.code, code, JSON.stringify(reply));
  };
  await server.write('{"jsonrpc":"2.0","id":2,"method":\n');
  await expectError(null, -32700);
  await send({ jsonrpc: '2.0', id: 'h3', method: 'no/such/method' });
  await expectError('h3', -32601);
  await send({ jsonrpc: '2.0', id: 'h4', method: 'tools/call',
               params: { name: 'run_command', arguments: { sandbox_id: 5, command: ['ls'] } } });
  await expectError('h4', -32602);
  await send({ jsonrpc: '2.0', id: 'h5', method: 'tools/call', params: { name: 'create_sandbox' } });
  await expectError('h5', -32602);
  await send([{ jsonrpc: '2.0', id: 'h6', method: 'ping' }]);
  await expectError(null, -32600);
  const started = Date.now();
  await server.write(`{"jsonrpc":"2.0","id":"big","method":"ping","params":{"pad":"${'x'.repeat(10 * 1000 * 1000)}"}}\n`);
  await expectError(null, -32600);
  await send({ jsonrpc: '2.0', id: 'h7', method: 'ping' });
  const pong = await server.next();
  assert.deepEqual(pong, { jsonrpc: '2.0', id: 'h7', result: {} });
  assert.ok(Date.now() - started < 10000);

  // Still serving tools: create one sandbox, then SIGTERM: the server deletes it and exits.
  await send({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'create_sandbox', arguments: { image } } });
  const created = await server.next();
  assert.equal(created.id, 'c');
  assert.equal(created.result.isError, false, JSON.stringify(created));
  assert.equal((await stats()).sandboxes, 1);
  server.child.kill('SIGTERM');
  const { code } = await server.exited;
  assert.equal(code, 0, server.stderr());
  assert.equal((await stats()).sandboxes, 0);
  assert.match(server.stderr(), /signal 15/);
  assert.doesNotMatch(server.stderr(), /Sanitizer|runtime error|internal error/);
});
