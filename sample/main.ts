import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './src/app.module.js';

async function bootstrap(): Promise<void> {
  // SAMPLE_PLATFORM=fastify serves the same app on Fastify.
  const fastify = process.env.SAMPLE_PLATFORM === 'fastify';
  const app = await NestFactory.create(
    AppModule,
    fastify ? new FastifyAdapter() : new ExpressAdapter(),
  );
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  console.log(
    `nestjs-batch sample listening on http://localhost:${port} (POST /batch, ${fastify ? 'Fastify' : 'Express'})`,
  );
}

void bootstrap();
