// Boots the AppModule a documentation snippet exports, as a user's main.ts would, on the adapter
// PLATFORM names; posts REQUEST (a native batch) to /batch; prints the reply as one JSON line.
// A child process of its own: the snippet runs against the built package and the root's Nest.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { pathToFileURL } from 'node:url';

const { AppModule } = await import(pathToFileURL(process.argv[2]).href);
const adapter =
  process.env.PLATFORM === 'fastify'
    ? new (await import('@nestjs/platform-fastify')).FastifyAdapter()
    : new (await import('@nestjs/platform-express')).ExpressAdapter();
const app = await NestFactory.create(AppModule, adapter, { logger: false, abortOnError: false });
try {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  const response = await globalThis.fetch(`http://127.0.0.1:${port}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: process.env.REQUEST ?? '{"data":[{"method":"GET","url":"/"}]}',
  });
  process.stdout.write(
    `${JSON.stringify({ status: response.status, body: await response.json() })}\n`,
  );
} finally {
  await app.close();
}
