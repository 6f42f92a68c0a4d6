// SPDX-License-Identifier: Apache-2.0
// The fan-out workload of eci-bench-fanout, written with the official Alibaba Cloud Node SDK
// (@alicloud/eci20180808, unchanged) and `ws`, the way the Python sandbox package does it:
// create + DescribeContainerGroups polling until Running, M bash commands (base64-wrapped
// `bash -lc`, output read over the exec WebSocket and checked), one tmux job (tmux
// new-session via exec, then has-session + capture-pane polls with backoff until the exit
// marker shows up, kill-session), delete. Prints the same JSON as eci-bench-fanout --json.
//
//   node bench/node/fanout.mjs --emulator-ready FILE [--sandboxes N] [--commands M] [--seed S]
//
// The SDK comes from test/interop's node_modules (its package.json and lock are the pinned
// versions; `npm ci` there installs them).
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'test', 'interop', 'package.json'));
const Eci = require('@alicloud/eci20180808');
const OpenApi = require('@alicloud/openapi-client');
const WebSocket = require('ws');

function parseArgs(argv) {
  const options = { sandboxes: 100, commands: 5, seed: 1, ready: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const next = () => argv[++i];
    if (arg === '--emulator-ready') options.ready = next();
    else if (arg === '--sandboxes') options.sandboxes = Number(next());
    else if (arg === '--commands') options.commands = Number(next());
    else if (arg === '--seed') options.seed = Number(next());
    else if (arg === '--json') { /* always JSON */ } else {
      process.stderr.write(`usage: fanout.mjs --emulator-ready FILE [--sandboxes N] [--commands M] [--seed S]\n`);
      process.exit(2);
    }
  }
  if (!options.ready) { process.stderr.write('--emulator-ready FILE is required\n'); process.exit(2); }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const ready = JSON.parse(fs.readFileSync(options.ready, 'utf8').split('\n')[0]);
const ca = ready.ca_file ? fs.readFileSync(ready.ca_file, 'utf8') : undefined;
const region = ready.region_id;

// Counters: API calls per action, TLS connections (API and WebSocket), WebSockets.
const apiCalls = {};
let tlsConnections = 0;
let wsConnections = 0;
const originalTlsConnect = tls.connect;
tls.connect = function countedConnect(...args) {
  tlsConnections += 1;
  return originalTlsConnect.apply(this, args);
};

const client = new Eci.default(new OpenApi.Config({
  accessKeyId: ready.access_key_id,
  accessKeySecret: ready.access_key_secret,
  regionId: region,
  endpoint: ready.endpoint,
  protocol: ready.scheme,
  ca,
}));

async function call(action, method, request) {
  apiCalls[action] = (apiCalls[action] || 0) + 1;
  return client[method](request);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function describe(id) {
  const response = await call('DescribeContainerGroups', 'describeContainerGroups',
    new Eci.DescribeContainerGroupsRequest({ regionId: region, containerGroupIds: JSON.stringify([id]) }));
  return response.body.containerGroups[0];
}

// Polls like the C++ client's wait_until_running: 0.1 s, x1.5, at most 5 s apart.
async function createAndWait(name) {
  const response = await call('CreateContainerGroup', 'createContainerGroup',
    new Eci.CreateContainerGroupRequest({
      regionId: region,
      containerGroupName: name,
      container: [new Eci.CreateContainerGroupRequestContainer({
        name: 'sandbox', image: 'registry.example/ubuntu:22.04', cpu: 1.0, memory: 2.0 })],
    }));
  const id = response.body.containerGroupId;
  const deadline = Date.now() + 300000;
  for (let delay = 100; Date.now() < deadline; delay = Math.min(delay * 1.5, 5000)) {
    const group = await describe(id);
    if (group && group.status === 'Running') return { id, container: group.containers[0].name };
    await sleep(delay);
  }
  throw new Error(`${id} not Running in time`);
}

// Reads an exec WebSocket to its close: stdout and stderr by channel (the Python package
// merges them; kept apart here so the check is the same as the C++ bench's).
function readExec(uri, stdinText) {
  return new Promise((resolve, reject) => {
    wsConnections += 1;
    const socket = new WebSocket(uri, { ca });
    const out = { stdout: '', stderr: '' };
    const timer = setTimeout(() => { socket.terminate(); reject(new Error('exec timed out')); }, 120000);
    if (stdinText !== undefined) {
      socket.on('open', () => { socket.send(Buffer.concat([Buffer.from([0]), Buffer.from(stdinText)])); });
    }
    socket.on('message', (data, isBinary) => {
      const bytes = Buffer.from(data);
      if (!isBinary) { out.stdout += bytes.toString(); return; }
      if (bytes[0] === 1) out.stdout += bytes.subarray(1).toString();
      else if (bytes[0] === 2) out.stderr += bytes.subarray(1).toString();
    });
    socket.on('close', () => { clearTimeout(timer); resolve(out); });
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

async function exec(sandbox, argv) {
  const response = await call('ExecContainerCommand', 'execContainerCommand',
    new Eci.ExecContainerCommandRequest({
      regionId: region, containerGroupId: sandbox.id, containerName: sandbox.container,
      command: JSON.stringify(argv), stdin: false, tty: false, sync: false }));
  return readExec(response.body.webSocketUri);
}

// Python's bash: base64 of the command, `bash -lc "echo <b64> | base64 -d | bash"`.
async function bash(sandbox, command) {
  const b64 = Buffer.from(command).toString('base64');
  return exec(sandbox, ['bash', '-lc', `echo ${b64} | base64 -d | bash`]);
}

const marker = '__ECI_MARKER_EXIT_CODE__';

// Runs `bash -l` with Stdin on and feeds it `script` then `exit` (Python's bash_ws and
// write_file_ws: the only way past the 256-character limit of a Command element).
async function bashStdin(sandbox, script) {
  const response = await call('ExecContainerCommand', 'execContainerCommand',
    new Eci.ExecContainerCommandRequest({
      regionId: region, containerGroupId: sandbox.id, containerName: sandbox.container,
      command: JSON.stringify(['bash', '-l']), stdin: true, tty: false, sync: false }));
  return readExec(response.body.webSocketUri, `${script}\nexit $?\n`);
}

// Python's tmux_start (its long-command path: the Command element holds at most 256
// characters): the wrapped command is written to /tmp/tmux_cmd_<id>.sh over the WebSocket,
// run in a new detached session with remain-on-exit, then a has-session check.
async function tmuxStart(sandbox, command, session) {
  const wrapped = `(${command})\neci_status=$?\necho\necho "${marker}${session}__$eci_status"\n`;
  const file = `/tmp/tmux_cmd_${session}.sh`;
  await bashStdin(sandbox, `cat > ${file} <<'ECI_EOF'\n${wrapped}ECI_EOF`);
  await exec(sandbox, ['sh', '-c',
    `tmux new-session -d -s ${session} "bash -l ${file}" && ` +
    `tmux set-option -t ${session} remain-on-exit on`]);
  const check = await exec(sandbox, ['sh', '-c', `tmux has-session -t ${session} && echo yes`]);
  if (!check.stdout.includes('yes')) throw new Error(`tmux session ${session} did not start`);
}

// Python's tmux_poll: has-session, then capture-pane; completed once the marker is there.
async function tmuxPoll(sandbox, session) {
  const exists = await exec(sandbox, ['sh', '-c', `tmux has-session -t ${session} 2>/dev/null && echo yes`]);
  if (!exists.stdout.includes('yes')) return { status: 'not_found' };
  const pane = await exec(sandbox, ['sh', '-c', `tmux capture-pane -p -t ${session} -S - | tail -n 10000`]);
  const found = pane.stdout.match(new RegExp(`${marker}${session}__(\\d+)`));
  if (found) return { status: 'completed', exitCode: Number(found[1]), output: pane.stdout };
  return { status: 'running' };
}

async function tmuxWait(sandbox, session) {
  const deadline = Date.now() + 300000;
  for (let delay = 100; Date.now() < deadline; delay = Math.min(delay * 1.5, 5000)) {
    const polled = await tmuxPoll(sandbox, session);
    if (polled.status !== 'running') {
      await exec(sandbox, ['sh', '-c', `tmux kill-session -t ${session} 2>/dev/null; true`]);
      return polled;
    }
    await sleep(delay);
  }
  throw new Error(`tmux session ${session} still running`);
}

const latency = { create_wait: [], bash: [], tmux: [], delete: [] };
const failuresByStep = {};
let failed = 0;
let firstFailure;

function fail(n, step, error) {
  failed += 1;
  failuresByStep[step] = (failuresByStep[step] || 0) + 1;
  if (!firstFailure) firstFailure = `lifecycle ${n} ${step}: ${error && error.message ? error.message : error}`;
}

async function lifecycle(n) {
  let step = 'create_wait';
  let sandbox;
  let ok = true;
  try {
    let begun = performance.now();
    sandbox = await createAndWait(`fanout-node-${options.seed}-${n}`);
    latency.create_wait.push(performance.now() - begun);
    step = 'bash';
    for (let i = 0; i < options.commands; i += 1) {
      const expected = `${sandbox.id}-${i}`;
      begun = performance.now();
      const out = await bash(sandbox, `echo ${expected}`);
      if (out.stdout !== `${expected}\n`) throw new Error(`stdout '${out.stdout}'`);
      latency.bash.push(performance.now() - begun);
    }
    step = 'tmux';
    begun = performance.now();
    const session = `eci_cmd_${n.toString(16).padStart(12, '0')}`;
    await tmuxStart(sandbox, `sleep 0.2; echo job-${n}; exit 7`, session);
    const done = await tmuxWait(sandbox, session);
    if (done.status !== 'completed' || done.exitCode !== 7) throw new Error(`tmux ${JSON.stringify(done)}`);
    latency.tmux.push(performance.now() - begun);
  } catch (error) {
    fail(n, step, error);
    ok = false;
  }
  if (!sandbox) return;
  try {
    const begun = performance.now();
    await call('DeleteContainerGroup', 'deleteContainerGroup',
      new Eci.DeleteContainerGroupRequest({ regionId: region, containerGroupId: sandbox.id }));
    if (ok) latency.delete.push(performance.now() - begun);
  } catch (error) {
    if (ok) fail(n, 'delete', error);
  }
}

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => (sorted.length ? sorted[Math.min(Math.floor((p / 100) * sorted.length), sorted.length - 1)] : 0);
  return { count: sorted.length, p50_ms: at(50), p95_ms: at(95), p99_ms: at(99) };
}

const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
await Promise.all(Array.from({ length: options.sandboxes }, (_, n) => lifecycle(n)));
const wall = (performance.now() - wallBefore) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const total = Object.values(apiCalls).reduce((a, b) => a + b, 0);

const result = {
  client: 'official Node SDK (@alicloud/eci20180808 + ws)',
  sandboxes: options.sandboxes,
  commands: options.commands,
  concurrency: options.sandboxes,
  wall_s: wall,
  client_cpu_s: cpuSeconds,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  api_calls: { total, ...apiCalls },
  cpu_us_per_api_call: total ? (cpuSeconds * 1e6) / total : 0,
  retries: 0,  // the SDK's autoretry is off by default
  tls_handshakes: tlsConnections - wsConnections,  // API connections (tls.connect calls)
  tls_connections_total: tlsConnections,
  ws_connections: wsConnections,
  failed,
  failures_by_step: failuresByStep,
  latency_ms: {
    create_wait: summary(latency.create_wait),
    bash: summary(latency.bash),
    tmux: summary(latency.tmux),
    delete: summary(latency.delete),
  },
};
if (firstFailure) result.first_failure = firstFailure;
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(failed === 0 ? 0 : 1);
