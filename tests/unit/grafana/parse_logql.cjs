#!/usr/bin/env node
// Parse LogQL expressions with Grafana's own grammar (@grafana/lezer-logql,
// the parser behind Grafana's Loki query editor) and report what it found.
//
//   CM_NODE_MODULES=<node_modules> node parse_logql.cjs < exprs.json
//
// stdin: a JSON array of {"id": ..., "expr": "..."} (Grafana variables already
// substituted). stdout: a JSON array, one object per input, in order:
//   {"id", "errors": [{"from", "to", "text", "context"}],   error nodes (⚠) with positions
//    "identifiers": [{"name", "parent"}],                    every Identifier and its parent node
//    "strings": [{"text", "parent"}]}                        every String and its parent node
// Exit status 0 when the input was read (errors are data), 2 on bad usage.
"use strict";

const path = require("path");

const modules = process.env.CM_NODE_MODULES;
if (!modules) {
  process.stderr.write("CM_NODE_MODULES must name the node_modules directory (tests/platform/node.sh)\n");
  process.exit(2);
}
const { parser } = require(path.join(modules, "@grafana", "lezer-logql"));

function analyse(expr) {
  const errors = [];
  const identifiers = [];
  const strings = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      const text = expr.slice(node.from, node.to);
      if (node.type.isError) {
        errors.push({
          from: node.from,
          to: node.to,
          text,
          context: expr.slice(Math.max(0, node.from - 20), Math.min(expr.length, node.to + 20)),
        });
      } else if (node.name === "Identifier") {
        identifiers.push({ name: text, parent: node.node.parent ? node.node.parent.name : "" });
      } else if (node.name === "String") {
        strings.push({ text, parent: node.node.parent ? node.node.parent.name : "" });
      }
    },
  });
  return { errors, identifiers, strings };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
});
process.stdin.on("end", () => {
  let items;
  try {
    items = JSON.parse(input);
  } catch (err) {
    process.stderr.write(`stdin is not JSON: ${err.message}\n`);
    process.exit(2);
  }
  const out = items.map((item) => ({ id: item.id, ...analyse(item.expr) }));
  process.stdout.write(JSON.stringify(out) + "\n");
});
