import { bodyParser } from '@koa/bodyparser';
import type Koa from 'koa';

/** Body parsing for the pages' small forms (the development IdP's persona forms): 16 KiB is plenty. */
export function smallFormBody(): Koa.Middleware {
  return bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });
}
