#!/usr/bin/env node
// Runs one workload on the peer engine `aws-local-stepfunctions` and prints one JSON line
// (bench/bench.lua runs it from build/bench-node, next to the installed node_modules):
//   {"workload","size","transitions","seconds","transitions_per_s","peak_rss_mb", ...}
//
// Usage:
//   node run-peer.mjs <workload> [size] [--check] [--drain]
//
//   size     defaults to the measured size in workloads/spec.mjs (MEASURED_SIZES)
//   --check  also consume the execution event log, count the StateEntered events it reports
//            (nested Map/Parallel events included), compare them with the expected count,
//            compare the output with the independently computed expected output, print the
//            output once (abridged when large) to stderr and exit 1 on any mismatch.
//            (Timing in this mode includes the event-log consumption: use it for checking only.)
//   Without --check the output is still compared with the expected output, after the timed
//   part; a wrong output exits 1.
//   --drain  consume and discard the event log while timing (keeps the peer from holding every
//            event - each holding a state's input/output - in memory until the process ends).
//   --jsonata  pass_chain, map_inline: run the definition written in JSONata
//            (bench/workloads_jsonata/), which gives the same output.
//
// "seconds" covers the engine's work only: constructing the StateMachine (including the
// peer's definition validation) and running the execution(s) to completion. Reading the
// definition, building the input and Node/module start-up are outside it; time the whole
// process from outside to see those.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { StateMachine } from 'aws-local-stepfunctions';
import {
  WORKLOADS, MEASURED_SIZES, TASK_STATES, makeInput, expectedOutput, expectedTransitions,
  taskHandler, jsonEqual,
} from './workloads/spec.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const pos = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--output');
const workload = pos[0];
if (!WORKLOADS.includes(workload)) {
  console.error(`usage: node run-peer.mjs <${WORKLOADS.join('|')}> [size] [--check] [--drain] [--output FILE]`);
  process.exit(2);
}
const size = pos[1] !== undefined ? Number(pos[1]) : MEASURED_SIZES[workload];
if (!Number.isInteger(size) || size < 1) {
  console.error(`size must be a positive integer, got ${pos[1]}`);
  process.exit(2);
}
const check = flags.has('--check');
const drain = flags.has('--drain');

// --jsonata: the workload written in JSONata (bench/workloads_jsonata/, same output)
const definition = JSON.parse(readFileSync(flags.has('--jsonata')
  ? join(here, 'workloads_jsonata', `${workload}.asl.json`)
  : join(here, 'workloads', workload, 'definition.asl.json'), 'utf8'));
const input = makeInput(workload, size);

// Local handlers for Task states (task_calls). An async function, like a Lambda handler.
const taskResourceLocalHandlers = {};
for (const name of TASK_STATES) taskResourceLocalHandlers[name] = async (taskInput) => taskHandler(taskInput);
const runOptions = { overrides: { taskResourceLocalHandlers } };

// Counts StateEntered events (the peer forwards Map iterations' and Parallel branches'
// events into the root execution's log) or just discards events.
async function consume(eventLogs, counter) {
  for await (const ev of eventLogs) {
    if (ev.type === 'StateEntered') counter.entered++;
  }
}

const counter = { entered: 0 };
let output;
const t0 = performance.now();
const sm = new StateMachine(definition);
const setupSeconds = (performance.now() - t0) / 1000;
if (workload === 'many_executions') {
  output = new Array(input.length);
  for (let k = 0; k < input.length; k++) {
    const ex = sm.run(input[k], runOptions);
    if (check || drain) {
      const drained = consume(ex.eventLogs, counter);
      output[k] = await ex.result;
      await drained;
    } else {
      output[k] = await ex.result;
    }
  }
} else {
  const ex = sm.run(input, runOptions);
  if (check || drain) {
    const drained = consume(ex.eventLogs, counter);
    output = await ex.result;
    await drained;
  } else {
    output = await ex.result;
  }
}
const seconds = (performance.now() - t0) / 1000;

const transitions = expectedTransitions(workload, size);
const line = {
  workload,
  size,
  transitions,
  seconds: Number(seconds.toFixed(4)),
  setup_seconds: Number(setupSeconds.toFixed(4)),
  transitions_per_s: Math.round(transitions / seconds),
  peak_rss_mb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
  engine: 'aws-local-stepfunctions',
  node: process.version,
};
if (drain) line.drained_event_log = true;

// --output FILE: write the output for the caller to check (so that the
// process's peak RSS is the engine's, not the checker's), as bench/run.lua does.
const outIndex = args.indexOf('--output');
const outFile = outIndex >= 0 ? args[outIndex + 1] : undefined;
if (!check && outFile) {
  writeFileSync(outFile, JSON.stringify(output));
  line.check = 'deferred';
} else if (!check) {
  if (!jsonEqual(output, expectedOutput(workload, size))) {
    const text = JSON.stringify(output);
    console.error(`run-peer: ${workload} size=${size}: wrong output: ${text.slice(0, 300)}`);
    process.exit(1);
  }
  line.check = 'output ok';
}

if (check) {
  const expected = expectedOutput(workload, size);
  const outputOk = jsonEqual(output, expected);
  const countOk = counter.entered === transitions;
  const text = JSON.stringify(output);
  const shown = text.length > 600 ? `${text.slice(0, 300)} ... ${text.slice(-200)} (${text.length} bytes)` : text;
  console.error(`[check] ${workload} size=${size} output: ${shown}`);
  console.error(`[check] output ${outputOk ? 'matches' : 'DIFFERS FROM'} expected; ` +
    `StateEntered events counted=${counter.entered} expected=${transitions} ${countOk ? 'ok' : 'MISMATCH'}`);
  line.check = outputOk && countOk ? 'ok' : 'FAILED';
  line.counted_transitions = counter.entered;
  console.log(JSON.stringify(line));
  process.exit(outputOk && countOk ? 0 : 1);
}
console.log(JSON.stringify(line));
