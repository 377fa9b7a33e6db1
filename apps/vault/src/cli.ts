#!/usr/bin/env node
// `npm run vault -- <command>`: the operators' key-management command (see cli/vault-cli.ts).
import 'reflect-metadata';
import { runVaultCli } from './cli/vault-cli.js';

const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
process.exitCode = await runVaultCli(process.argv.slice(2), { out: line(process.stdout), err: line(process.stderr) });
