import { Module } from '@nestjs/common';
import { LabController } from './lab.controller.js';

/** Misbehaving routes for `npm run soak`; the sample mounts them only when SAMPLE_LAB=1. */
@Module({ controllers: [LabController] })
export class LabModule {}
