/**
 * Worker script for test/abi/worker.test.ts: attaches to the main thread's engine (the compiled
 * module and the shared memory arrive in workerData) and runs SGD epochs on regions it is sent.
 */
import { threadId, workerData } from "node:worker_threads";
import { Engine, type Coo, type FactorModel, type SgdParams, type SharedEngine } from "../../src/abi/index.js";

const engine = Engine.attach(workerData as SharedEngine);

export default function sgdEpochs(task: { coo: Coo; model: FactorModel; params: SgdParams; epochs: number }) {
  let sse = 0;
  for (let epoch = 0; epoch < task.epochs; epoch++) sse = engine.sgdEpoch(task.coo, task.model, task.params);
  return { sse, threadId };
}
