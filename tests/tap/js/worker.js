// The scenario of tests/tap/scenario.py, served by the Durable Task JavaScript SDK's worker.
// Usage: node worker.js HOST:PORT  (prints "ready" once started; SIGTERM stops it).
"use strict";

const { TaskHubGrpcWorker, NoOpLogger } = require("@microsoft/durabletask-js");

const address = process.argv[2];
const worker = new TaskHubGrpcWorker({ hostAddress: address, logger: new NoOpLogger() });

worker.addNamedActivity("hello", (_ctx, name) => `hello ${name}`);
worker.addNamedActivity("fail", () => {
  throw new Error("boom");
});

worker.addNamedOrchestrator("chain", async function* (ctx, names) {
  const results = [];
  for (const name of names) {
    results.push(yield ctx.callActivity("hello", name));
  }
  return results;
});

worker.addNamedOrchestrator("timer", async function* (ctx) {
  yield ctx.createTimer(1);
  return yield ctx.callActivity("hello", "timer");
});

worker.addNamedOrchestrator("wait_event", async function* (ctx) {
  const data = yield ctx.waitForExternalEvent("approve");
  return { approved: data };
});

worker.addNamedOrchestrator("child", async function* (ctx, name) {
  const result = yield ctx.callActivity("hello", name);
  return result.toUpperCase();
});

worker.addNamedOrchestrator("parent", async function* (ctx, name) {
  const result = yield ctx.callSubOrchestrator("child", name, {
    instanceId: `${ctx.instanceId}-child`,
  });
  return `parent of ${result}`;
});

worker.addNamedOrchestrator("catches", async function* (ctx) {
  try {
    yield ctx.callActivity("fail");
  } catch (err) {
    return `caught ${err.details ? err.details.message : err.message}`;
  }
  return "not caught";
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await worker.stop();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

worker
  .start()
  .then(() => console.log("ready"))
  .catch((err) => {
    console.error(`worker failed to start: ${err}`);
    process.exit(1);
  });
