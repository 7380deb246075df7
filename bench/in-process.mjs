// The loop of the in-process measurements (dispatch floor, breakdown, machinery), and the batch
// request they send through the app without the network.
import { IncomingMessage, ServerResponse } from 'node:http';
import process from 'node:process';
import { OperationSocket } from '../dist/dispatch/operation.socket.js';

/**
 * Calls `once(done)` with `inFlight` calls outstanding for `seconds`, each completion starting
 * the next on a fresh turn of the event loop, as the batch executor does. Returns how many calls
 * completed, the wall time and the process's CPU time (user + system, all threads: GC included).
 */
export async function runFor(seconds, once, inFlight) {
  const deadline = Date.now() + seconds * 1000;
  let calls = 0;
  const worker = () =>
    new Promise((resolve) => {
      const next = () => {
        if (Date.now() >= deadline) return resolve();
        once(() => {
          calls++;
          setImmediate(next);
        });
      };
      next();
    });
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  return { calls, wallMs: Date.now() - started, cpuMicros: cpu.user + cpu.system };
}

/**
 * A `POST /batch` of `wire` through the app's request listener, on an in-memory pair built here
 * (the library's dispatcher marks what it sends as an operation, and an operation posting to
 * /batch is refused as a nested batch). Calls `done` once the reply has finished.
 */
export function postBatchTo(listener, wire, headers) {
  return (done) => {
    const socket = new OperationSocket({ remoteAddress: '127.0.0.1', remoteFamily: 'IPv4' });
    const request = new IncomingMessage(socket);
    Object.assign(request, { method: 'POST', url: '/batch', httpVersion: '1.1' });
    request.httpVersionMajor = request.httpVersionMinor = 1;
    request.headers = { ...headers, 'content-length': String(wire.length) };
    request.rawHeaders = Object.entries(request.headers).flat();
    request.push(wire);
    request.push(null);
    request.complete = true;
    const response = new ServerResponse(request);
    response.assignSocket(socket);
    response.once('finish', () => {
      if (response.statusCode !== 200) {
        throw new Error(`POST /batch answered ${response.statusCode}`);
      }
      process.nextTick(() => socket.destroy());
      done();
    });
    listener(request, response);
  };
}

/** One operation through the library's dispatcher alone (the floor), calling `done` once answered. */
export function dispatchTo(dispatcher, request, parent) {
  return (done) =>
    dispatcher.dispatch(
      request,
      parent,
      () => done(),
      (error) => {
        throw error;
      },
    );
}
