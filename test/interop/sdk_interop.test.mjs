// SPDX-License-Identifier: Apache-2.0
// The official Alibaba Cloud Node SDK (@alicloud/eci20180808, unchanged) and the `ws` package
// driving eci-emulator. The emulator's ready line (a JSON file) is named by ECI_READY_FILE.
// Run by test/interop/run (ctest "interop: official node sdk").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Eci = require('@alicloud/eci20180808');
const OpenApi = require('@alicloud/openapi-client');
const WebSocket = require('ws');

const ready = JSON.parse(fs.readFileSync(process.env.ECI_READY_FILE, 'utf8'));
const ca = ready.ca_file ? fs.readFileSync(ready.ca_file, 'utf8') : undefined;

function makeClient(overrides = {}) {
  const config = new OpenApi.Config({
    accessKeyId: ready.access_key_id,
    accessKeySecret: ready.access_key_secret,
    regionId: ready.region_id,
    endpoint: ready.endpoint,
    protocol: ready.scheme,
    ca,
    ...overrides,
  });
  return new Eci.default(config);
}

const client = makeClient();
const region = ready.region_id;
const created = new Set();
const runTag = `interop-${crypto.randomBytes(4).toString('hex')}`;

async function createSandbox(name, extra = {}) {
  const request = new Eci.CreateContainerGroupRequest({
    regionId: region,
    containerGroupName: name,
    restartPolicy: 'Always',
    container: [new Eci.CreateContainerGroupRequestContainer({
      name: 'sandbox',
      image: 'registry.example/ubuntu:22.04',
      cpu: 1.0,
      memory: 2.0,
      environmentVar: [new Eci.CreateContainerGroupRequestContainerEnvironmentVar({
        key: 'GREETING', value: 'hello from the sdk' })],
    })],
    tag: [new Eci.CreateContainerGroupRequestTag({ key: 'suite', value: runTag })],
    ...extra,
  });
  const response = await client.createContainerGroup(request);
  const id = response.body.containerGroupId;
  assert.match(id, /^eci-[a-z0-9]+$/);
  assert.ok(response.body.requestId);
  created.add(id);
  return id;
}

async function describe(id) {
  const response = await client.describeContainerGroups(new Eci.DescribeContainerGroupsRequest({
    regionId: region, containerGroupIds: JSON.stringify([id]) }));
  return response.body.containerGroups[0];
}

async function waitRunning(id, deadlineMs = 20000) {
  const deadline = Date.now() + deadlineMs;
  for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 500)) {
    const group = await describe(id);
    if (group && group.status === 'Running') return group;
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new Error(`${id} not Running within ${deadlineMs} ms`);
}

// Connects to an exec WebSocket and collects stdout/stderr by channel until the server closes.
function collectExec(uri, stdinText) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(uri, { ca });
    const out = { stdout: '', stderr: '', other: [] };
    const timer = setTimeout(() => { socket.terminate(); reject(new Error('exec timed out')); }, 15000);
    socket.on('open', () => {
      if (stdinText !== undefined) {
        socket.send(Buffer.concat([Buffer.from([0]), Buffer.from(stdinText)]));
      }
    });
    socket.on('message', (data, isBinary) => {
      const bytes = Buffer.from(data);
      if (!isBinary) { out.stdout += bytes.toString(); return; }
      const channel = bytes[0];
      const text = bytes.subarray(1).toString();
      if (channel === 1) out.stdout += text;
      else if (channel === 2) out.stderr += text;
      else out.other.push([channel, text]);
    });
    socket.on('close', (code) => { clearTimeout(timer); out.code = code; resolve(out); });
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

test('official node sdk drives the emulator unchanged', async (t) => {
  try {
    await t.test('create twice with one ClientToken returns one sandbox', async () => {
      const token = crypto.randomUUID();
      const name = `sdk-token-${crypto.randomBytes(3).toString('hex')}`;
      const first = await createSandbox(name, { clientToken: token });
      const second = await createSandbox(name, { clientToken: token });
      assert.equal(second, first);
    });

    let id;
    await t.test('describe until Running', async () => {
      id = await createSandbox(`sdk-main-${crypto.randomBytes(3).toString('hex')}`);
      const group = await waitRunning(id);
      assert.equal(group.containerGroupId, id);
      assert.equal(group.regionId, region);
      assert.equal(group.containers[0].name, 'sandbox');
      assert.equal(group.containers[0].currentState.state, 'Running');
      assert.deepEqual(group.tags.map((x) => [x.key, x.value]), [['suite', runTag]]);
    });

    await t.test('list by tag with paging', async () => {
      await createSandbox(`sdk-page-${crypto.randomBytes(3).toString('hex')}`);
      const seen = [];
      let nextToken;
      let pages = 0;
      do {
        const response = await client.describeContainerGroups(new Eci.DescribeContainerGroupsRequest({
          regionId: region, limit: 1, nextToken,
          tag: [new Eci.DescribeContainerGroupsRequestTag({ key: 'suite', value: runTag })] }));
        assert.equal(response.body.totalCount, created.size);
        for (const g of response.body.containerGroups) seen.push(g.containerGroupId);
        nextToken = response.body.nextToken || undefined;
        pages += 1;
      } while (nextToken && pages < 20);
      assert.equal(pages, created.size);
      assert.deepEqual([...seen].sort(), [...created].sort());
    });

    await t.test('exec with Sync=true returns the output', async () => {
      const response = await client.execContainerCommand(new Eci.ExecContainerCommandRequest({
        regionId: region, containerGroupId: id, containerName: 'sandbox', sync: true,
        command: JSON.stringify(['/bin/sh', '-c', 'echo "$GREETING"']) }));
      assert.equal(response.body.syncResponse.trim(), 'hello from the sdk');
    });

    await t.test('exec over the WebSocket keeps stdout and stderr apart', async () => {
      const response = await client.execContainerCommand(new Eci.ExecContainerCommandRequest({
        regionId: region, containerGroupId: id, containerName: 'sandbox', stdin: false,
        command: JSON.stringify(['/bin/sh', '-c', 'echo out; echo err >&2']) }));
      assert.match(response.body.webSocketUri, /^wss?:\/\/.+\/exec\/\?s=/);
      const out = await collectExec(response.body.webSocketUri);
      assert.equal(out.stdout, 'out\n');
      assert.equal(out.stderr, 'err\n');
      assert.equal(out.code, 1000);
    });

    await t.test('exec with stdin over the WebSocket', async () => {
      const response = await client.execContainerCommand(new Eci.ExecContainerCommandRequest({
        regionId: region, containerGroupId: id, containerName: 'sandbox', stdin: true,
        command: JSON.stringify(['/bin/bash']) }));
      const out = await collectExec(response.body.webSocketUri, 'echo "piped $((6*7))"\nexit 0\n');
      assert.equal(out.stdout, 'piped 42\n');
    });

    await t.test('restart', async () => {
      await client.restartContainerGroup(new Eci.RestartContainerGroupRequest({
        regionId: region, containerGroupId: id }));
      const group = await waitRunning(id);
      assert.equal(group.status, 'Running');
    });

    await t.test('a V2 (HMAC-SHA1) signed call', async () => {
      const v2 = makeClient({ signatureAlgorithm: 'v2' });
      const response = await v2.describeContainerGroups(new Eci.DescribeContainerGroupsRequest({
        regionId: region, containerGroupIds: JSON.stringify([id]) }));
      assert.equal(response.body.containerGroups[0].containerGroupId, id);
    });

    await t.test('a wrong secret is SignatureDoesNotMatch', async () => {
      const wrong = makeClient({ accessKeySecret: 'not-the-secret' });
      await assert.rejects(
        wrong.describeContainerGroups(new Eci.DescribeContainerGroupsRequest({ regionId: region })),
        (err) => { assert.equal(err.code, 'SignatureDoesNotMatch'); assert.equal(err.statusCode, 400); return true; });
    });
  } finally {
    for (const sandbox of created) {
      await client.deleteContainerGroup(new Eci.DeleteContainerGroupRequest({
        regionId: region, containerGroupId: sandbox }));
    }
  }
  const after = await client.describeContainerGroups(new Eci.DescribeContainerGroupsRequest({
    regionId: region, tag: [new Eci.DescribeContainerGroupsRequestTag({ key: 'suite', value: runTag })] }));
  assert.equal(after.body.totalCount, 0);
});
