#!/usr/bin/env node
import { nodeIo } from './io.js';
import { run } from './program.js';

// `vmcp logs list | head`: the reader went away; that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await run(process.argv.slice(2), nodeIo());
