import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** This process's name as a lease owner: unique per process, readable in admin views. */
export const INSTANCE_ID = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
