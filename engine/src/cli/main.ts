#!/usr/bin/env node
// splatcast: the engine's command line (status, fixture, render, prepare, train, pretrain, adapt, eval).
import { parseArgs } from 'node:util';
import { fixtureCommand } from './fixture.js';
import { renderCommand } from './render.js';
import { statusCommand } from './status.js';

const commands: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  status: { run: statusCommand, help: 'report the engine build and the device it would use' },
  fixture: { run: fixtureCommand, help: 'write a generated test identity (labelled as a fixture)' },
  render: { run: renderCommand, help: 'render an identity speaking a WAV file into an mp4' },
  prepare: { run: async (a) => (await import('./prepare.js')).prepareCommand(a), help: 'video -> training dataset' },
  train: { run: async (a) => (await import('./train.js')).trainCommand(a), help: 'dataset -> identity (no prior)' },
  pretrain: {
    run: async (a) => (await import('./pretrain.js')).pretrainCommand(a),
    help: 'datasets of several people -> motion prior',
  },
  adapt: {
    run: async (a) => (await import('./train.js')).trainCommand(a, 'adapt'),
    help: 'motion prior + dataset -> identity (motion-aligned adaptation)',
  },
  eval: { run: async (a) => (await import('./eval.js')).evalCommand(a), help: 'score an identity on held-out frames' },
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: name ? [] : process.argv.slice(2),
    options: { help: { type: 'boolean' } },
    strict: false,
  });
  const command = name ? commands[name] : undefined;
  if (!command || values.help) {
    console.log('usage: splatcast <command> [options]\n');
    for (const [key, c] of Object.entries(commands)) console.log(`  ${key.padEnd(8)} ${c.help}`);
    console.log("\nsplatcast <command> --help shows a command's options");
    if (name && !command) {
      console.error(`\nunknown command "${name}"`);
      process.exitCode = 2;
    }
    return;
  }
  await command.run(rest);
}

main().catch((error: unknown) => {
  console.error(`splatcast: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
