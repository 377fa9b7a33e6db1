import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

export interface BearerProxy {
  /** http://127.0.0.1:<port>: the same paths as the target. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy that adds `Authorization: Bearer <token>` to every request and
 * forwards everything else exactly as sent, Host and Origin included, streaming bodies
 * both ways (SSE too). The conformance suite cannot send a header of its own, and its
 * dns-rebinding scenario needs the gateway to see the foreign Host it sends.
 */
export async function startBearerProxy(target: string, token: string): Promise<BearerProxy> {
  const base = new URL(target);
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  const server: Server = createServer((req, res) => {
    const upstream = send(
      {
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
        servername: base.hostname,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Each SSE event goes out as it arrives.
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${err.message}`);
      else res.destroy();
    });
    // The client going away ends the upstream exchange too (e.g. a GET SSE stream).
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One check of a scenario, as the suite writes it to `<scenario dir>/checks.json`. */
export interface ConformanceCheck {
  readonly id: string;
  readonly name: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  readonly errorMessage?: string;
  readonly details?: unknown;
}

export interface ConformanceScenarioResult {
  readonly scenario: string;
  readonly checks: readonly ConformanceCheck[];
}

export interface ConformanceRun {
  /** 0: everything passed or failed as the baseline expects; 1: an unexpected failure or a stale baseline entry. */
  readonly exitCode: number;
  /** What the suite printed (stdout and stderr). */
  readonly output: string;
  readonly scenarios: readonly ConformanceScenarioResult[];
  /** `scenario:check-id  message` of every FAILURE, for a readable assertion message. */
  readonly failures: readonly string[];
}

export interface ConformanceOptions {
  /** The MCP endpoint, e.g. a bearer proxy's url + /mcp/<config id>. */
  readonly url: string;
  /** The frozen requirement set to run, at its own wire revision. */
  readonly requirements: '2025-11-25' | '2026-07-28';
  /** Baseline YAML of expected failures (`server:` list of `scenario` or `scenario:check-id`). */
  readonly expectedFailures?: string;
  /** Where each scenario's checks.json goes. */
  readonly outputDir: string;
  /** Per-scenario budget (the suite's default is 30 s). */
  readonly timeoutMs?: number;
}

/** The suite's CLI, from the pinned devDependency (never npx: no registry needed). */
export function conformanceCli(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('@modelcontextprotocol/conformance/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin: Record<string, string> };
  return join(dirname(pkgFile), pkg.bin.conformance!);
}

/** Runs `conformance server` against a URL and reads back every scenario's checks. */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceRun> {
  const args = [conformanceCli(), 'server', '--url', options.url, '--requirements', options.requirements, '-o', options.outputDir];
  if (options.expectedFailures) args.push('--expected-failures', options.expectedFailures);
  if (options.timeoutMs) args.push('--timeout', String(options.timeoutMs));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => void (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (output += d.toString()));
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  const scenarios = readResults(options.outputDir);
  const failures = scenarios.flatMap((s) =>
    s.checks.filter((c) => c.status === 'FAILURE').map((c) => `${s.scenario}:${c.id}  ${c.errorMessage ?? ''}`.trimEnd()),
  );
  return { exitCode, output, scenarios, failures };
}

/** `server-<scenario>-<ISO time with dashes>`, as the suite names its result directories. */
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

function readResults(dir: string): ConformanceScenarioResult[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const scenario = RESULT_DIR.exec(name)?.[1];
      const file = join(dir, name, 'checks.json');
      if (!scenario || !existsSync(file)) return [];
      return [{ scenario, checks: JSON.parse(readFileSync(file, 'utf8')) as ConformanceCheck[] }];
    });
}
