/**
 * The worker entry of the engine pool. Each worker thread instantiates the compiled module once,
 * against the one shared memory (both arrive in workerData), and then runs tasks by name. A task
 * message carries numbers only: byte offsets, counts and scalars; results are numbers too, and
 * everything else is read by the main thread straight from the shared memory.
 */
import { workerData } from "node:worker_threads";
import { Engine, type SharedEngine } from "../abi/kernels.js";
import { HANDLERS, type Task } from "./handlers.js";

const engine = Engine.attach(workerData as SharedEngine);

export default function run(task: Task): number {
  const handler = HANDLERS[task.op];
  if (!handler) throw new Error(`engine worker: no handler named "${task.op}" (known: ${Object.keys(HANDLERS).join(", ")})`);
  return handler(engine, task.args);
}
