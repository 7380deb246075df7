import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BatchModule } from 'nestjs-batch';
import { ResponseTimeInterceptor } from './response-time.interceptor.js';
import { TodosModule } from './todos/todos.module.js';

@Module({
  imports: [TodosModule, BatchModule.forRoot({ limit: 50 })],
  providers: [{ provide: APP_INTERCEPTOR, useClass: ResponseTimeInterceptor }],
})
export class AppModule {}
