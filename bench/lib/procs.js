'use strict';
// Child processes of the harness (service, baseline, simulator, load generator), readiness, RSS and CPU sampling.

const { spawn, fork } = require('node:child_process');
const { openSync, closeSync, readFileSync } = require('node:fs');
const http = require('node:http');
const net = require('node:net');

const CLOCK_TICKS_PER_S = 100; // getconf CLK_TCK on Linux

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One GET; resolves with the status code, or null when nothing answered. */
function probe(url, timeoutMs = 500) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** A long-running child whose output goes to a log file (cheap for the child, readable after a failure). */
class Child {
  constructor(name, command, args, { env, logFile, ipc = false, cwd }) {
    this.name = name;
    this.command = command;
    this.args = args;
    this.env = env;
    this.logFile = logFile;
    this.ipc = ipc;
    this.cwd = cwd;
    this.child = undefined;
    this.exited = undefined;
  }

  get pid() {
    return this.child?.pid;
  }

  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns; answers performance.now() taken just before spawning. */
  start() {
    const fd = openSync(this.logFile, 'a');
    const stdio = ['ignore', fd, fd];
    if (this.ipc) stdio.push('ipc');
    const spawnedAt = performance.now();
    const child = spawn(this.command, this.args, { cwd: this.cwd, env: this.env, stdio });
    closeSync(fd);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('error', (error) => process.stderr.write(`${this.name}: ${error.message}\n`));
    return spawnedAt;
  }

  /** Polls `url` until it answers 200; answers the ms since `since`. */
  async waitReady(url, since, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited during start-up:\n${this.tail()}`);
      if ((await probe(url)) === 200) return performance.now() - since;
      await sleep(10);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.tail()}`);
  }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(signal = 'SIGTERM', graceMs = 20_000) {
    if (!this.running) return this.exited ? await this.exited : undefined;
    this.child.kill(signal);
    const timer = setTimeout(() => this.running && this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  tail(bytes = 4000) {
    try {
      const text = readFileSync(this.logFile, 'utf8');
      return text.slice(-bytes);
    } catch {
      return '(no log)';
    }
  }
}

/** The load generator process (bench/load.js), one request spec at a time over IPC. */
class LoadGenerator {
  constructor(script, execArgv = []) {
    this.child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    this.next = 1;
    this.pending = new Map();
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.on('message', (message) => {
      const entry = this.pending.get(message.id);
      if (!entry) return;
      if (message.event === 'measure-start') return entry.onMeasureStart?.();
      this.pending.delete(message.id);
      if (message.error) entry.reject(new Error(`load generator: ${message.error}`));
      else entry.resolve(message.result);
    });
    this.child.once('exit', (code, signal) => {
      for (const entry of this.pending.values()) entry.reject(new Error(`load generator exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid() {
    return this.child.pid;
  }

  run(spec, onMeasureStart) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onMeasureStart });
      this.child.send({ id, spec });
    });
  }

  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

function rssKb(pid) {
  return memoryKb(pid)?.rss ?? null;
}

/** A process's resident memory from /proc: all of it, its anonymous part (heap, stacks) and its file-backed part (code). */
function memoryKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = field('VmRSS');
    return Number.isNaN(rss) ? null : { rss, anon: field('RssAnon'), file: field('RssFile') };
  } catch {
    return null;
  }
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/** Peak VmRSS of some processes, sampled every `everyMs`, plus their CPU time over a window. */
class ProcessSampler {
  constructor(pids, everyMs = 200) {
    this.pids = pids.filter(Boolean);
    this.peakKb = Object.fromEntries(this.pids.map((pid) => [pid, 0]));
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.cpuStart = undefined;
  }

  sample() {
    for (const pid of this.pids) {
      const kb = memoryKb(pid);
      if (kb !== null && kb.rss > this.peakKb[pid]) this.peakKb[pid] = kb.rss;
    }
  }

  /** Starts the CPU window (the measured part of a scenario, after its warm-up). */
  markCpu() {
    this.cpuStart = { at: performance.now(), cpu: Object.fromEntries(this.pids.map((pid) => [pid, cpuSeconds(pid)])) };
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
    const elapsedS = this.cpuStart ? (performance.now() - this.cpuStart.at) / 1000 : null;
    const out = {};
    for (const pid of this.pids) {
      const start = this.cpuStart?.cpu[pid];
      const end = cpuSeconds(pid);
      const cpuS = start != null && end != null ? end - start : null;
      out[pid] = {
        peakRssMb: Math.round((this.peakKb[pid] / 1024) * 10) / 10,
        cpuS,
        cpuPct: cpuS != null && elapsedS ? Math.round((cpuS / elapsedS) * 1000) / 10 : null,
      };
    }
    return out;
  }
}

module.exports = { freePort, probe, sleep, Child, LoadGenerator, ProcessSampler, rssKb, memoryKb, cpuSeconds };
