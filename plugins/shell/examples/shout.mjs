#!/usr/bin/env node
// A shell-plugin worker in a few lines: reads the workitem on stdin, adds fields.shout (the
// upper-cased fields.text) and prints the workitem on stdout. Used by `npm start`.
let input = '';
for await (const chunk of process.stdin) input += chunk;
const workitem = JSON.parse(input);
workitem.fields.shout = String(workitem.fields.text ?? '').toUpperCase();
process.stdout.write(JSON.stringify(workitem));
