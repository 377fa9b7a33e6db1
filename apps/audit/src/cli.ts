#!/usr/bin/env node
// `npm run audit -- <command>`: the operators' audit command (see cli/audit-cli.ts).
import 'reflect-metadata';
import { runAuditCli } from './cli/audit-cli.js';

const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
process.exitCode = await runAuditCli(process.argv.slice(2), { out: line(process.stdout), err: line(process.stderr) });
