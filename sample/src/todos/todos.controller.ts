import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { AdminGuard } from './admin.guard.js';
import { CreateTodoDto, UpdateTodoDto } from './todo.dto.js';

interface Todo {
  id: number;
  title: string;
  done: boolean;
}

@Controller('todos')
export class TodosController {
  private readonly todos = new Map<number, Todo>();
  private nextId = 1;

  @Post()
  create(@Body() dto: CreateTodoDto): Todo {
    const todo = { id: this.nextId++, title: dto.title, done: false };
    this.todos.set(todo.id, todo);
    return todo;
  }

  @Get()
  list(): Todo[] {
    return [...this.todos.values()];
  }

  @Get(':id')
  get(@Param('id', ParseIntPipe) id: number): Todo {
    const todo = this.todos.get(id);
    if (!todo) throw new NotFoundException(`todo ${id} not found`);
    return todo;
  }

  @Patch(':id')
  update(@Param('id', ParseIntPipe) id: number, @Body() dto: UpdateTodoDto): Todo {
    return Object.assign(this.get(id), dto);
  }

  @Delete(':id')
  @UseGuards(AdminGuard)
  @HttpCode(204)
  remove(@Param('id', ParseIntPipe) id: number): void {
    this.get(id);
    this.todos.delete(id);
  }
}
